"""What the portal holds on a person ("Mes données", RGPD art. 15 and 20): the registry every
app fills with its own sections, and the exports.

Each kind of data is a *section* collected by one function of the app that holds the data,
registered from its ``AppConfig.ready()`` with :func:`register_section`, so that no app reads
another's tables. Never collected: password hashes, second-factor secrets, code digests,
session keys.
"""

from __future__ import annotations

import datetime
import enum
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Disclosure(enum.Enum):
    """How much of a network detail (an address, a browser string) a view shows."""

    # The person's own download: everything the portal holds.
    FULL = "full"
    # The person's page: as "Mes appareils" names them (browser and system, approximate place).
    MASKED = "masked"
    # Someone else (a parent looking at their child's data): left out.
    HIDDEN = "hidden"


@dataclass(frozen=True)
class NetworkDetail:
    """An address or a browser string, with the masked form the person's page shows."""

    raw: str | None
    masked: str | None


Value = str | int | bool | None | datetime.datetime | datetime.date | NetworkDetail
Shown = str | int | bool | None
Entry = dict[str, Value]
# Called with the person (an accounts User; core does not import accounts).
Collector = Callable[[Any], list[Entry]]


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    collect: Collector
    order: int


_SECTIONS: dict[str, Section] = {}


def register_section(
    key: str, title: str | Promise, collect: Collector, *, order: int = 100
) -> None:
    """Declare a kind of personal data (re-registering a key replaces it)."""
    _SECTIONS[key] = Section(key=key, title=title, collect=collect, order=order)


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.key))


def collect_personal_data(
    user: Any, *, readable: bool = False, network: Disclosure = Disclosure.HIDDEN
) -> dict[str, Any]:
    """Everything the portal holds on ``user``, as JSON-ready data (strings, numbers).

    ``{"account", "generated_at", "sections": [{"key", "title", "entries": [{label: value}]}]}``.
    Dates are Paris time: ``YYYY-MM-DD HH:MM`` for a machine, "3 décembre 2026 à 19:24" when
    ``readable``. Network details follow ``network``: left out unless the caller says
    otherwise (the person's own page masks them, their own download gives them whole).
    """
    return {
        "account": user.login,
        "generated_at": _shown(timezone.now(), readable),
        "sections": [
            {
                "key": section.key,
                "title": str(section.title),
                "entries": [_entry(entry, readable, network) for entry in section.collect(user)],
            }
            for section in sections()
        ],
    }


def _entry(entry: Entry, readable: bool, network: Disclosure) -> dict[str, Shown]:
    shown: dict[str, Shown] = {}
    for label, value in entry.items():
        if isinstance(value, NetworkDetail):
            if network is Disclosure.HIDDEN:
                continue
            value = value.raw if network is Disclosure.FULL else value.masked
        shown[label] = _shown(value, readable)
    return shown


def _shown(value: Value, readable: bool) -> Shown:
    if isinstance(value, datetime.datetime):
        moment = timezone.localtime(value)
        if readable:
            return date_format(moment, "DATETIME_FORMAT")
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return date_format(value, "DATE_FORMAT") if readable else value.isoformat()
    if isinstance(value, NetworkDetail):  # only through _entry
        return value.masked
    return value


def when(moment: datetime.datetime | None) -> datetime.datetime | None:
    """A moment of a section, as is: ``collect_personal_data`` writes it in Paris time, to
    the minute (in words, or ISO for a machine)."""
    return moment


def day(value: datetime.date | None) -> datetime.date | None:
    """A day of a section, as is (written like a moment, without the time)."""
    return value


def labelled(pairs: list[tuple[str | Promise, Value]]) -> Entry:
    """One entry of a section from (label, value) pairs."""
    return {str(label): value for label, value in pairs}


# --- Exports ------------------------------------------------------------------------------


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def as_pdf(data: dict[str, Any], *, person: str) -> bytes:
    """A readable PDF of ``collect_personal_data``'s result (reportlab, A4)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    story: list[Any] = [
        Paragraph(escape(str(_("Mes données — %(name)s") % {"name": person})), styles["Title"]),
        Paragraph(
            escape(
                str(
                    _("Compte %(login)s, extrait le %(date)s (heure de Paris).")
                    % {"login": data["account"], "date": data["generated_at"]}
                )
            ),
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    width = A4[0] - 30 * mm
    for section in data["sections"]:
        story.append(Paragraph(escape(section["title"]), styles["Heading2"]))
        entries = section["entries"]
        if not entries:
            story.append(Paragraph(escape(str(_("Aucune donnée."))), styles["BodyText"]))
            continue
        columns = list(entries[0].keys())
        rows = [[Paragraph(f"<b>{escape(label)}</b>", cell) for label in columns]]
        for entry in entries:
            rows.append([Paragraph(escape(_text(entry.get(label))), cell) for label in columns])
        table = Table(rows, colWidths=[width / len(columns)] * len(columns), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=str(_("Mes données")),
        author="Convergence",
    )
    document.build(story)
    return buffer.getvalue()


def _text(value: Shown) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("oui") if value else _("non"))
    return str(value)
