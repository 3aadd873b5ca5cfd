"""Every write of the mail app: app passwords (created, revoked, checked by the mail server)
and the senders whose remote images a person loads.

An app password is 20 random letters and digits from an alphabet without look-alikes (about
99 bits), shown once in groups of five. It is stored as an HMAC-SHA256 digest keyed with the
portal's secret key: nothing can be guessed from a digest of a random secret, and the mail
server's check is one indexed lookup that takes the same time whether the login exists, the
password is wrong or it was revoked (no enumeration by timing).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

import imapclient
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import AccountState, User
from convergence.accounts.permissions import has_academic_mailbox
from convergence.audit.actions import record_event
from convergence.core import links, ratelimit
from convergence.core.models import Academie
from convergence.devices.labels import approximate_place
from convergence.mail import (
    compose,
    connections,
    contacts_actions,
    doveadm,
    events,
    limits,
    mailbox,
    submission,
    tasks,
)
from convergence.mail.models import AppPassword, Device, Protocol, Signature, TrustedSender

logger = logging.getLogger(__name__)

ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS = 4
GROUP_LENGTH = 5
# The mail server's checks, in a window: failures per login from one address, per client
# address (a school's NAT: many phones, generous) and per login from everywhere (a bot with
# many addresses). A secret of 99 bits cannot be guessed anyway: the limits keep the load
# down, and a phone with a wrong password elsewhere never locks its owner out at school.
FAILURES_PER_LOGIN_AND_ADDRESS = 10
FAILURES_PER_ADDRESS = 50
FAILURES_PER_LOGIN = 100
FAILURE_WINDOW_SECONDS = 15 * 60
# What an app password opens. Not ManageSieve: a mail rule can forward every incoming message
# outside the académie or answer anyone (the classic use of a stolen mailbox), so rules and
# vacation replies are written only through the portal's pages — behind its sign-in and
# second factor, with its checks — never by whoever holds a phone's password.
APP_PASSWORD_PROTOCOLS = frozenset({Protocol.IMAP, Protocol.SMTP})
# Last use is written at most this often per app password (a phone logs in all day long).
LAST_USE_PRECISION = datetime.timedelta(minutes=1)


class AppPasswordError(Exception):
    """A refusal to show the person, in French."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _normalised(password: str) -> str:
    return "".join(ch for ch in password.lower() if ch.isalnum())


def digest(password: str) -> str:
    key = hashlib.sha256(f"convergence.mail.app-password|{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, _normalised(password).encode(), hashlib.sha256).hexdigest()


def _new_secret() -> str:
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return "-".join(groups)


@dataclass(frozen=True)
class NewAppPassword:
    app_password: AppPassword
    secret: str  # shown once, never stored


def create_app_password(
    *, user: User, label: str, device: str, request: HttpRequest | None = None
) -> NewAppPassword:
    """A new app password for one device of ``user``, audited and mailed to the person."""
    label = " ".join(label.split())[:60]
    if not label:
        raise AppPasswordError(_("Donnez un nom à l'appareil, par exemple « iPhone de Sophie »."))
    if device not in Device.values:
        raise AppPasswordError(_("Choisissez le type d'appareil dans la liste."))
    with transaction.atomic():
        # One at a time per person: the count below cannot be passed by parallel requests.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if AppPassword.objects.of(user).active().count() >= settings.MAIL_APP_PASSWORDS_MAX:
            raise AppPasswordError(
                _(
                    "Vous avez déjà %(count)d mots de passe d'application : révoquez celui d'un "
                    "appareil que vous n'utilisez plus avant d'en créer un autre."
                )
                % {"count": settings.MAIL_APP_PASSWORDS_MAX}
            )
        secret = _new_secret()
        app_password = AppPassword.objects.create(
            user=user, label=label, device=device, digest=digest(secret)
        )
        record_event(
            event_type=events.APP_PASSWORD_CREATED,
            request=request,
            actor=user,
            subject=user,
            data={"app_password": app_password.pk, "label": label, "device": device},
        )
        tasks.send_app_password_created.enqueue(
            user_pk=user.pk,
            label=label,
            when=app_password.created_at.isoformat(),
            base_url=links.base_url(request) if request is not None else "",
        )
    return NewAppPassword(app_password=app_password, secret=secret)


def revoke_app_password(
    *, app_password: AppPassword, actor: User, request: HttpRequest | None = None
) -> bool:
    """Revoke one app password (no-op if already revoked). True when it was live."""
    revoked = (
        AppPassword.objects.filter(pk=app_password.pk).active().update(revoked_at=timezone.now())
    )
    if revoked:
        record_event(
            event_type=events.APP_PASSWORD_REVOKED,
            request=request,
            actor=actor,
            subject=app_password.user,
            data={"app_password": app_password.pk, "label": app_password.label},
        )
        _kick_after_commit(app_password.user)
    return bool(revoked)


def _kick_after_commit(user: User) -> None:
    """Close the person's open IMAP sessions once the revocation is written (a phone that
    reconnects before the commit would still be let in), and drop this process's own
    webmail connections of the person, which the kick closes too."""
    login = user.login
    transaction.on_commit(lambda: doveadm.kick(login))
    connections.forget(user.pk)


def revoke_all_app_passwords(*, user: User, reason: str, request: HttpRequest | None = None) -> int:
    """Revoke every live app password of ``user`` (account suspended or archived, password
    reset). Audited once, with how many."""
    revoked = AppPassword.objects.of(user).active().update(revoked_at=timezone.now())
    if revoked:
        record_event(
            event_type=events.APP_PASSWORD_REVOKED,
            request=request,
            subject=user,
            data={"count": revoked, "reason": reason},
        )
    # Sessions opened with the webmail's tokens too (revoked with the account by sso).
    _kick_after_commit(user)
    return revoked


def _login_of(typed: str) -> str:
    """The portal login a mail client typed: the login itself, ``login@domain``, or the
    person's address (Thunderbird's autoconfig offers the address). One query whatever the
    answer, so that the time taken says nothing about which accounts exist."""
    typed = typed.strip().lower()[:254]
    if "@" not in typed:
        return typed[:150]
    local, _at, domain = typed.rpartition("@")
    own_domain = domain == Academie.current().mail_domain.lower()
    rows = list(
        User.objects.filter(
            Q(email__iexact=typed) | Q(login=local if own_domain else "")
        ).values_list("login", "email")[:3]
    )
    by_login = [login for login, _email in rows if own_domain and login == local]
    by_address = [login for login, email in rows if email and email.lower() == typed]
    if by_login:
        return by_login[0]
    return by_address[0] if len(by_address) == 1 else typed[:150]


def check_app_password(
    *, login: str, password: str, protocol: str, remote_ip: str, server: str
) -> User | None:
    """The mail server asks whether ``password`` is a live app password of ``login`` (an
    active account that still has an académie mailbox).

    Failures are counted per login from one address, per address and per login, atomically
    and failing closed (:class:`ratelimit.LimiterUnavailable` propagates). Past any of them,
    wrong passwords are answered « wait » (429) without being looked at twice, but a right
    one is still accepted — one indexed lookup: a secret of 99 bits cannot be guessed, the
    limits only keep the load down, and nobody (a bot elsewhere, a pupil behind the school's
    own address trying a teacher's login) can lock the owner's phone out.
    """
    if protocol not in APP_PASSWORD_PROTOCOLS:
        return None
    login = _login_of(login)
    keys = [
        ratelimit.key("mail-app-password-pair", login, remote_ip or "-"),
        ratelimit.key("mail-app-password-address", remote_ip or "-"),
        ratelimit.key("mail-app-password-login", login),
    ]
    # Reserve first: parallel guesses are judged by the value each one got back.
    counts = ratelimit.reserve_many([(key, FAILURE_WINDOW_SECONDS) for key in keys])
    found = (
        AppPassword.objects.active()
        .filter(digest=digest(password), user__login=login, user__state=AccountState.ACTIVE)
        .select_related("user")
        .first()
    )
    if found is not None and not has_academic_mailbox(found.user):
        found = None  # left the académie's schools, or a parent only: no mailbox any more
    if found is None:
        limits = (FAILURES_PER_LOGIN_AND_ADDRESS, FAILURES_PER_ADDRESS, FAILURES_PER_LOGIN)
        if any(count > limit for count, limit in zip(counts, limits, strict=True)):
            raise Throttled(FAILURE_WINDOW_SECONDS)
        if ratelimit.first_time(
            ratelimit.key("mail-app-password-audited", login), window=FAILURE_WINDOW_SECONDS
        ):
            subject = User.objects.filter(login=login).first()
            record_event(
                event_type=events.APP_PASSWORD_REFUSED,
                subject=subject,
                identifier=login,
                data={"protocol": protocol, "server": server, "place": _place(remote_ip)},
            )
        return None
    ratelimit.release_many(keys)
    now = timezone.now()
    AppPassword.objects.filter(pk=found.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USE_PRECISION)
    ).update(last_used_at=now, last_used_place=_place(remote_ip)[:80], last_used_protocol=protocol)
    return found.user


def _place(remote_ip: str) -> str:
    return str(approximate_place(remote_ip or None))


def trust_sender(*, user: User, address: str) -> TrustedSender:
    """Load the remote images of ``address``'s messages for ``user`` from now on."""
    trusted, _created = TrustedSender.objects.get_or_create(
        user=user, address=address.strip().lower()[:254]
    )
    return trusted


def distrust_sender(*, user: User, address: str) -> int:
    deleted, _ = TrustedSender.objects.filter(user=user, address=address.strip().lower()).delete()
    return deleted


# --- Writing ----------------------------------------------------------------------------------


class SendLimited(Exception):
    """The person sent too many messages this hour."""


def default_signature(user: User) -> str:
    """A first signature: the person's name, their roles and establishments this year."""
    from convergence.accounts.models import Assignment

    lines = [user.get_full_name()]
    for assignment in (
        Assignment.objects.current().filter(user=user).select_related("establishment")[:3]
    ):
        lines.append(f"{assignment.get_role_display()} — {assignment.establishment.name}")
    return "\n".join(line for line in lines if line)


def signature_of(user: User) -> str:
    found = Signature.objects.filter(user=user).values_list("text", flat=True).first()
    return default_signature(user) if found is None else str(found)


def save_signature(*, user: User, text: str) -> Signature:
    cleaned = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    signature, _created = Signature.objects.update_or_create(
        user=user, defaults={"text": cleaned.strip()[:1000]}
    )
    return signature


def send_message(
    *,
    user: User,
    draft: compose.Draft,
    replaced_draft: int | None = None,
    answered: tuple[str, int, bytes] | None = None,
    request: HttpRequest | None = None,
) -> dict[str, str]:
    """Send ``draft`` as ``user`` through the submission server, keep a copy in Sent, drop the
    draft it came from, flag the message it answers or forwards; audited (how many
    recipients, never who). Returns the recipients the server refused while it accepted the
    others (the message left: it is a sent message, the person is told whom it missed)."""
    message = compose.build(user, draft)
    try:
        waited = ratelimit.hit(
            ratelimit.key("mail-send", user.pk), limit=settings.MAIL_SEND_PER_HOUR, window=3600
        )
    except ratelimit.LimiterUnavailable as error:
        raise SendLimited(0) from error
    if waited:
        raise SendLimited(waited)
    # Recipients counted with the mail clients' (mail/limits.py); a suspension refuses too.
    reserved = limits.reserve_recipients(user, len(draft.recipients), request=request)
    if not reserved.allowed:
        raise limits.SendingRefused(reserved)
    try:
        refused = submission.send(user, message, draft.recipients)
    except submission.SendRefused:
        # Refused outright: nothing left, the allowance is given back. A server that went
        # silent may have sent it (a timeout after DATA): the reservation stays.
        limits.release_recipients(user, len(draft.recipients), reserved.hour)
        raise
    record_event(
        event_type=events.MESSAGE_SENT,
        request=request,
        actor=user,
        subject=user,
        data={
            "recipients": len(draft.recipients) - len(refused),
            "attachments": len(draft.attachments),
        },
    )
    contacts_actions.collect_addresses(owner=user, addresses=set(draft.recipients) - set(refused))
    raw = compose.as_bytes(message)
    # The message is sent: a failure below loses no mail, so it is logged, not shown.
    try:
        with connections.session(user) as connection:
            sent = mailbox.ensure_special_folder(connection, "\\Sent")
            mailbox.append(connection, sent, raw, [imapclient.SEEN])
            if replaced_draft is not None:
                drafts = mailbox.ensure_special_folder(connection, "\\Drafts")
                mailbox.remove(connection, drafts, replaced_draft)
            if answered is not None:
                folder, uid, flag = answered
                mailbox.mark(connection, folder, uid, flag)
    except connections.MailUnavailable:
        logger.warning("Sent by %s, but the copy in Sent could not be stored.", user.pk)
    return refused


def save_draft(*, user: User, draft: compose.Draft, replaced: int | None = None) -> int | None:
    """Store ``draft`` in Drafts (replacing its previous version); its new UID if known."""
    raw = compose.as_bytes(compose.build(user, draft, for_draft=True))
    with connections.session(user) as connection:
        drafts = mailbox.ensure_special_folder(connection, "\\Drafts")
        uid = mailbox.append(connection, drafts, raw, [imapclient.SEEN, imapclient.DRAFT])
        if replaced is not None:
            mailbox.remove(connection, drafts, replaced)
    return uid
