"""The reads of phishing defence: reports grouped into campaigns for the DSI, whether a
message was reported (its page says so), and the warnings everyone is shown.

**Campaigns.** Two reports belong to one campaign when they share a key: the sender's
address, the subject (case, spacing and « Re: »/« Tr: » prefixes aside), or one link host.
A campaign is a connected group (union-find) of the reports of the last ``WINDOW_DAYS``
days, so a report sharing its sender with one report and its link with another joins the
two. A campaign is addressed by any of its reports (the oldest in links): a link stays valid
when a new report merges two campaigns.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import User
from convergence.core.notices import Notice, Place
from convergence.mail.mailbox import Fetched
from convergence.mail.models import PhishingReport, PhishingWarning
from convergence.mail.phishing_actions import PHISHING_KEYWORD, WARNINGS_CACHE_KEY

WINDOW_DAYS = 30
# A warning is shown this many days after the DSI wrote it; at most this many at once.
WARNING_DAYS = 14
WARNINGS_SHOWN = 3
WARNINGS_CACHE_SECONDS = 60
_PREFIXES = re.compile(r"^\s*((re|tr|fw|fwd|aw|wg)\s*:\s*)+", re.IGNORECASE)


def subject_key(subject: str) -> str:
    """A subject as campaigns compare it: no reply/forward prefix, case or spacing."""
    return " ".join(_PREFIXES.sub("", subject).lower().split())


def _keys(report: PhishingReport) -> list[tuple[str, str]]:
    keys = []
    if report.sender_address:
        keys.append(("sender", report.sender_address.lower()))
    subject = subject_key(report.subject)
    if subject:
        keys.append(("subject", subject))
    for host in report.link_domains or []:
        if isinstance(host, str) and host:
            keys.append(("link", host.lower()))
    return keys


@dataclass
class Campaign:
    reports: list[PhishingReport]  # newest first
    first_seen: datetime.datetime
    last_seen: datetime.datetime
    reporters: int
    senders: list[str]
    subjects: list[str]
    link_domains: list[str]
    key: int = 0  # the pk of its oldest report: its address
    names: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.reports)

    @property
    def label(self) -> str:
        """How the campaign is named (in a warning's record): its senders and subjects."""
        return " · ".join([*self.senders[:2], *(f"« {s} »" for s in self.subjects[:2])])[:300]


def group(reports: Iterable[PhishingReport]) -> list[Campaign]:
    """Reports grouped into campaigns (union-find on their keys), the most recent first."""
    reports = list(reports)
    parent = list(range(len(reports)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, str], int] = {}
    for index, report in enumerate(reports):
        for key in _keys(report):
            if key in owner:
                a, b = find(owner[key]), find(index)
                if a != b:
                    parent[b] = a
            else:
                owner[key] = index
    members: dict[int, list[PhishingReport]] = {}
    for index, report in enumerate(reports):
        members.setdefault(find(index), []).append(report)
    campaigns = []
    for found in members.values():
        found.sort(key=lambda r: (r.reported_at, r.pk), reverse=True)
        campaigns.append(
            Campaign(
                reports=found,
                first_seen=found[-1].reported_at,
                last_seen=found[0].reported_at,
                reporters=len({r.reporter_id for r in found if r.reporter_id is not None}),
                senders=sorted({r.sender_address for r in found if r.sender_address}),
                subjects=sorted({r.subject for r in found if r.subject}),
                link_domains=sorted({h for r in found for h in (r.link_domains or [])}),
                key=min(r.pk for r in found),
                names=sorted({r.sender_name for r in found if r.sender_name}),
            )
        )
    campaigns.sort(key=lambda c: (c.last_seen, c.key), reverse=True)
    return campaigns


def recent_reports(*, now: datetime.datetime | None = None) -> Any:
    since = (now or timezone.now()) - datetime.timedelta(days=WINDOW_DAYS)
    return PhishingReport.objects.filter(reported_at__gte=since)


def campaigns() -> list[Campaign]:
    """The campaigns of the last ``WINDOW_DAYS`` days (one query)."""
    return group(recent_reports())


def campaign_of(pk: int) -> Campaign | None:
    """The recent campaign holding the report ``pk`` (its reporters' logins loaded)."""
    for campaign in group(recent_reports().select_related("reporter")):
        if any(report.pk == pk for report in campaign.reports):
            return campaign
    return None


# --- One message's page ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportState:
    reported: bool
    reported_at: datetime.datetime | None = None


def report_state(user: User, fetched: Fetched, message_id: str) -> ReportState:
    """Whether ``user`` reported this message: its ``$Phishing`` keyword, or a report of its
    Message-ID (a server that keeps no keywords, a copy delivered twice)."""
    report = (
        PhishingReport.objects.filter(reporter=user, message_id=message_id[:255])
        .values_list("reported_at", flat=True)
        .first()
        if message_id
        else None
    )
    if report is not None:
        return ReportState(True, report)
    return ReportState(PHISHING_KEYWORD in fetched.flags)


# --- The warnings everyone is shown ---------------------------------------------------------


def active_warnings() -> list[dict[str, Any]]:
    """The DSI's warnings of the last ``WARNING_DAYS`` days, newest first (cached a minute;
    ``phishing_actions.publish_warning`` drops the cache)."""
    known = cache.get(WARNINGS_CACHE_KEY)
    if known is not None:
        return list(known)
    since = timezone.now() - datetime.timedelta(days=WARNING_DAYS)
    found: list[dict[str, Any]] = [
        dict(row)
        for row in PhishingWarning.objects.filter(created_at__gte=since)
        .order_by("-created_at", "-pk")
        .values("pk", "title", "text", "created_at")[:WARNINGS_SHOWN]
    ]
    cache.set(WARNINGS_CACHE_KEY, found, WARNINGS_CACHE_SECONDS)
    return found


def warnings_version() -> str:
    """What the sign-in page's notices depend on here: which warnings are shown."""
    return ",".join(str(warning["pk"]) for warning in active_warnings())


def warning_notices(request: HttpRequest, place: Place) -> list[Notice]:
    """Every active warning, on the sign-in page and on every dashboard (core.notices)."""
    guide = reverse("help:guide", args=["reconnaitre-un-hameconnage"])
    return [
        Notice(
            level="warning",
            title=warning["title"],
            text=warning["text"],
            link_url=guide,
            link_text=_("Reconnaître un hameçonnage"),
        )
        for warning in active_warnings()
    ]
