"""Recovery: a forgotten password (link by e-mail or code by SMS), a forgotten login, and a
référent numérique or the DSI resetting a pupil's password.

What every action here guarantees:

* **No enumeration.** A request is handled the same way whether or not the account exists,
  is active or has a confirmed contact: one audit row written, one task enqueued
  (``deliver_password_reset``, ``deliver_login_reminder``), and the caller shows the same page.
  The task worker issues the code and talks to the mail server or the SMS provider, so their
  delays cannot be timed from the request. Only the audit trail tells the cases apart.
* **Where codes go.** A reset link goes to the account's *confirmed* recovery e-mail address,
  or for a parent to the e-mail address the family gave the school (``mailing.contact_address``).
  A 6-digit SMS code goes to the confirmed recovery phone, never for staff (``STAFF_ROLES`` this
  school year, or admin access): their accounts reach others' personal data, and SMS is too
  weak a channel for them (it can be intercepted or the number hijacked); they use e-mail.
* **Codes.** Links and SMS codes are ``OneTimeCode`` rows (``accounts.codes``): single-use,
  valid ``PASSWORD_RESET_TIMEOUT`` seconds, stored as keyed digests; issuing one makes the
  account's other reset codes worthless. A right SMS code is exchanged for a link token, so
  both channels end on the same "new password" step.
* **A reset never signs anyone in** and never bypasses a second factor: the person then signs
  in normally, and allauth asks for their factor. Resetting ends the account's sessions
  everywhere and kills its other reset codes.
* **Rate limits** (``core.ratelimit``), which no stranger can use to block a person or to
  link a login to an e-mail: a 429 per address and per (typed identifier, address), never
  per account; and a silent cap on the links, codes and reminders actually sent per account
  (per mailbox for reminders), applied by the tasks, which the account's own browser (its
  device cookie) is exempt from. ``RECOVERY_*_LIMIT`` per ``RECOVERY_WINDOW_SECONDS``.
* Every request and every reset is audited (``password.reset_requested``, ``password.reset``,
  ``password.reset_by_referent``, ``login.reminder_sent``), never with a secret.
"""

from __future__ import annotations

import datetime
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from convergence.accounts import codes, events, throttle
from convergence.accounts.mailing import contact_address, notify_guardians
from convergence.accounts.models import (
    STAFF_ROLES,
    AccountState,
    Assignment,
    OneTimeCodePurpose,
    User,
)
from convergence.accounts.signals import account_password_reset
from convergence.audit.actions import record_event
from convergence.core import links, ratelimit
from convergence.core.http import client_ip
from convergence.core.notify import Category, notify_template
from convergence.outbox import mail, sms

RESET = OneTimeCodePurpose.PASSWORD_RESET


class Channel(models.TextChoices):
    EMAIL = "email", _("Par courriel")
    SMS = "sms", _("Par SMS")


class RecoveryError(Exception):
    """An act the person asked for cannot be done; the message is French, for them."""


class RecoveryThrottled(Exception):
    """Too many recovery requests from this address (for this identifier); wait and retry."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


# --- Rate limits --------------------------------------------------------------------------
#
# Two kinds of limits, so that no stranger can block a person's recovery and no answer tells
# accounts apart (the attack of issue 9, finding 8):
#
# * On the request, a 429 with Retry-After, keyed only by what the requester controls: their
#   address (``RECOVERY_IP_LIMIT``) and the identifier typed *from that address*
#   (``RECOVERY_IDENTIFIER_LIMIT``). Never by account: a login and an e-mail of one account
#   have their own counters, like two accounts, and requests from other addresses never use
#   up the budget of the person's own.
# * On what is actually sent, per account (or per mailbox for a login reminder), in the task
#   worker and silently (``RECOVERY_SEND_LIMIT``): past it nothing more goes out, the page
#   being the same. A browser carrying the account's device cookie is exempt, so strangers'
#   requests cannot stop the person's own.


def hit_rate_limits(*, kind: str, ip: str, identifier: str = "") -> int:
    """Count one recovery request of ``kind`` from ``ip`` for ``identifier`` (as typed; empty
    for none). Returns the seconds to wait, 0 if it may proceed.

    Every request counts, successful or not: a flood keeps its own window full. Raises
    ``LimiterUnavailable`` when the cache cannot be reached (the caller refuses).
    """
    window = settings.RECOVERY_WINDOW_SECONDS
    now = time.time()
    waits = [
        ratelimit.hit(
            ratelimit.key(f"recovery:{kind}:ip", ip),
            limit=settings.RECOVERY_IP_LIMIT,
            window=window,
            now=now,
        )
    ]
    if identifier:
        waits.append(
            ratelimit.hit(
                ratelimit.key(f"recovery:{kind}:identifier-ip", identifier, ip),
                limit=settings.RECOVERY_IDENTIFIER_LIMIT,
                window=window,
                now=now,
            )
        )
    return max(waits)


def _enforce_rate_limits(*, kind: str, request: HttpRequest, identifier: str = "") -> None:
    """Count the request; past a limit, raise ``RecoveryThrottled`` (the caller answers 429
    before anything else is done). ``recovery.throttled`` is audited once per window and
    address, so that a flood does not flood the audit trail too; it names no account."""
    ip = client_ip(request)
    wait = hit_rate_limits(kind=kind, ip=ip, identifier=identifier)
    if not wait:
        return
    window = settings.RECOVERY_WINDOW_SECONDS
    if ratelimit.first_time(ratelimit.key(f"recovery:{kind}:throttled", ip), window=window):
        record_event(
            event_type=events.RECOVERY_THROTTLED,
            request=request,
            identifier=identifier,
            data={"kind": kind, "retry_after": wait},
        )
    raise RecoveryThrottled(wait)


def _trusted_device(request: HttpRequest, user_pks: list[int]) -> bool:
    """Whether the browser carries the device cookie of one of ``user_pks`` (the account's
    own browser, exempt from the send cap). The cookie is checked once even for no account,
    so that the check costs the same whoever was named."""
    cookie = request.COOKIES.get(throttle.device_cookie_name())
    # Every account is checked (no short cut), whichever the cookie is for.
    checks = [throttle.device_is_trusted_for(cookie, pk) for pk in user_pks or [0]]
    return any(checks)


def _may_send(counter: str, *, trusted_device: bool) -> bool:
    """Take a place under the send cap (``RECOVERY_SEND_LIMIT`` a window) for one message;
    False, the place given back, once it is used up. A trusted device always may, and does not
    use the cap up. Give the place back with ``ratelimit.release`` if nothing went out."""
    if trusted_device:
        return True
    window = settings.RECOVERY_WINDOW_SECONDS
    if ratelimit.reserve(counter, window=window) <= settings.RECOVERY_SEND_LIMIT:
        return True
    ratelimit.release(counter)
    return False


def _sent_counter(kind: str, recipient: object) -> str:
    return ratelimit.key(f"recovery:{kind}:sent", recipient)


def _audit_capped(*, kind: str, recipient: object, subject: User | None, channel: str) -> None:
    """Audit a message withheld by the send cap, once per window and recipient."""
    marker = ratelimit.key(f"recovery:{kind}:capped", recipient)
    if ratelimit.first_time(marker, window=settings.RECOVERY_WINDOW_SECONDS):
        record_event(
            event_type=events.RECOVERY_SEND_CAPPED,
            subject=subject,
            identifier="" if subject is not None else str(recipient),
            data={"kind": kind, "channel": channel},
        )


# --- Who, and where to -------------------------------------------------------------------


def find_account(identifier: str) -> User | None:
    """The account a typed login or e-mail address designates, whatever its state."""
    typed = identifier.strip().lower()
    if not typed:
        return None
    field = "email" if "@" in typed else "login"
    return User.objects.filter(**{field: typed}).first()


# The checks below always run their query, whatever the account (or the placeholder standing
# for no account): a request must cost the same whoever it names.


def is_staff_account(user: User) -> bool:
    """Staff this school year, or with admin access: no SMS for them."""
    staff_role = Assignment.objects.current().filter(user=user, role__in=STAFF_ROLES).exists()
    return staff_role or user.is_staff or user.is_superuser


def reset_email_address(user: User) -> str:
    """Where a reset link may go: a confirmed recovery address, or a parent's own address."""
    is_parent = user.guardianships.exists()
    if user.recovery_email and user.recovery_email_confirmed_at:
        return user.recovery_email
    return contact_address(user) if is_parent else ""


def reset_phone_number(user: User) -> str:
    """Where a reset code may go by SMS: a confirmed recovery phone, never for staff."""
    staff = is_staff_account(user)
    if staff or not (user.recovery_phone and user.recovery_phone_confirmed_at):
        return ""
    return user.recovery_phone


def _lifetime() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def reset_minutes() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 60)


def _sms_text(code: str) -> str:
    return str(
        _(
            "%(academie)s : votre code pour choisir un nouveau mot de passe est %(code)s. "
            "Valable %(minutes)d min. Ne le communiquez à personne."
        )
        % {"academie": settings.ACADEMIE_NAME, "code": code, "minutes": reset_minutes()}
    )


# --- Forgotten password -------------------------------------------------------------------


@dataclass(frozen=True)
class ResetRequest:
    """What a request leaves for the next step (the SMS code page): never shown to anyone."""

    channel: str
    user_pk: int | None


def request_password_reset(*, identifier: str, channel: str, request: HttpRequest) -> ResetRequest:
    """Ask for a reset link (e-mail) or code (SMS) to be sent if the account may receive one.

    The same work whatever the outcome (see the module): one audit entry
    ``password.reset_requested`` (with the account when it exists, the identifier's digest
    otherwise) and one task enqueued, ``deliver_password_reset``, which issues and sends the
    code in the background, or does nothing for no one. Neither the code's creation nor a
    slow mail server or SMS provider can be timed from here. Raises ``RecoveryThrottled``
    past a rate limit of the address or of the identifier from it (never of the account), and
    ``LimiterUnavailable`` when the limits cannot be counted. The task applies the account's
    send cap, which the browser holding the account's device cookie is exempt from.
    """
    _enforce_rate_limits(kind="password", request=request, identifier=identifier)
    found = find_account(identifier)
    user = found if found is not None and found.state == AccountState.ACTIVE else None
    # An unsaved placeholder (pk 0, no contact) for no account: the same queries run.
    account = user if user is not None else User(pk=0)
    if channel == Channel.SMS:
        target = reset_phone_number(account)
        # Without a target despite a confirmed phone, the account is staff's.
        has_phone = bool(account.recovery_phone and account.recovery_phone_confirmed_at)
        missing = "staff_no_sms" if has_phone else "no_confirmed_phone"
    else:
        target = reset_email_address(account)
        missing = "no_confirmed_email"
    if found is None:
        outcome = "unknown_account"
    elif user is None:
        outcome = "account_not_active"
    else:
        outcome = "sent" if target else missing
    recipient = user.pk if user is not None and target else None
    trusted_device = _trusted_device(request, [recipient] if recipient is not None else [])
    with transaction.atomic():
        record_event(
            event_type=events.PASSWORD_RESET_REQUESTED,
            request=request,
            subject=found,
            identifier=identifier,
            data={"channel": str(channel), "outcome": outcome},
        )
        deliver_password_reset.enqueue(
            user_pk=recipient,
            channel=str(channel),
            base_url=links.base_url(request),
            trusted_device=trusted_device,
        )
    return ResetRequest(channel=str(channel), user_pk=recipient)


@task()
def deliver_password_reset(
    *, user_pk: int | None, channel: str, base_url: str, trusted_device: bool = False
) -> bool:
    """Issue a reset code for the account and send it (task worker); False if nothing went.

    Where it goes is decided again here, as the account may have changed since the request.
    Past the account's send cap (``RECOVERY_SEND_LIMIT`` links and SMS a window, unless the
    request came from the account's ``trusted_device``) nothing is issued, so the account's
    pending code stays usable, and nothing is sent (audited ``recovery.send_capped`` once a
    window). A failing mail server or SMS provider is audited
    ``password.reset_delivery_failed`` and gives its place under the cap back.
    """
    user = (
        User.objects.filter(pk=user_pk, state=AccountState.ACTIVE).first()
        if user_pk is not None
        else None
    )
    if user is None:
        return False
    if channel == Channel.SMS:
        target = reset_phone_number(user)
        kind = codes.CodeKind.DIGITS
    else:
        target = reset_email_address(user)
        kind = codes.CodeKind.TOKEN
    if not target:
        return False
    counter = _sent_counter("password", user.pk)
    if not _may_send(counter, trusted_device=trusted_device):
        _audit_capped(kind="password", recipient=user.pk, subject=user, channel=channel)
        return False
    secret = codes.issue_code(user, RESET, lifetime=_lifetime(), target=target, kind=kind)
    if channel == Channel.SMS:
        delivered = _send_reset_sms(target, secret)
    else:
        delivered = mail.send(
            [target], "accounts/mail/password_reset_link", _link_context(user, secret, base_url)
        )
    if not delivered:
        if not trusted_device:
            ratelimit.release(counter)
        record_event(
            event_type=events.PASSWORD_RESET_DELIVERY_FAILED,
            subject=user,
            data={"channel": channel},
        )
    return delivered


def _link_context(user: User, token: str, base_url: str) -> dict[str, object]:
    path = reverse("account_reset_password_from_key", kwargs={"key": token})
    return {
        "user": user,
        "reset_url": base_url + path,
        "minutes": reset_minutes(),
        "forgot_login_url": base_url + reverse("accounts:forgot_login"),
    }


def _send_reset_sms(phone: str, code: str) -> bool:
    try:
        sms.send_sms(phone, _sms_text(code))
    except sms.SmsError:
        return False
    return True


def exchange_sms_code(*, user_pk: int | None, code: str, request: HttpRequest) -> str | None:
    """A right SMS code, used up, is exchanged for a link token to the new-password step.

    Returns None for a wrong, used or expired code (five misses kill the code, and a request
    without an account behind it is answered the same). Audited on failure
    (``password.reset_code_failed``). Raises ``RecoveryThrottled`` past the address's limit
    (``LimiterUnavailable`` if it cannot be counted).
    """
    user = (
        User.objects.filter(pk=user_pk, state=AccountState.ACTIVE).first()
        if user_pk is not None
        else None
    )
    _enforce_rate_limits(kind="code", request=request)
    if user is None:
        codes.digest(code[: codes.MAX_INPUT_LENGTH], purpose=RESET, user_id=0)
        return None
    with transaction.atomic():
        found = codes.redeem_code(user, RESET, code, target=user.recovery_phone)
        if found is None:
            record_event(
                event_type=events.PASSWORD_RESET_CODE_FAILED,
                request=request,
                subject=user,
                data={"channel": Channel.SMS.value},
            )
            return None
        return codes.issue_code(
            user, RESET, lifetime=_lifetime(), target=found.target, kind=codes.CodeKind.TOKEN
        )


def account_for_reset_token(token: str) -> User | None:
    """The active account a usable reset token belongs to, without using the token up."""
    found = codes.find_token(RESET, token)
    if found is None or found.user.state != AccountState.ACTIVE:
        return None
    return found.user


def reset_password(*, token: str, password: str, request: HttpRequest) -> User | None:
    """Set the password of the account a usable token belongs to, using the token up.

    The caller has validated ``password`` against the account's policy. In one transaction:
    the token is used (two racing requests cannot both succeed), the password set, the
    account's other reset codes killed, all its sessions ended, the act audited
    (``password.reset``). The person is not signed in. A notice goes to their contact
    address after the commit. Returns None if the token is no longer usable.
    """
    with transaction.atomic():
        found = codes.redeem_token(RESET, token)
        if found is None or found.user.state != AccountState.ACTIVE:
            transaction.set_rollback(True)
            return None
        user = found.user
        user.set_password(password)
        user.save(update_fields=["password"])
        codes.invalidate_codes(user, RESET)
        ended = _end_all_sessions(user, request)
        channel = Channel.SMS if found.target.startswith("+") else Channel.EMAIL
        record_event(
            event_type=events.PASSWORD_RESET,
            request=request,
            actor=user,
            subject=user,
            data={"channel": channel.value, "sessions_ended": ended},
        )
        context = {
            "user": user,
            "when": timezone.now(),
            "login_url": links.absolute_url(reverse("account_login"), request),
        }
        notify_template(
            [user],
            "accounts/mail/password_reset_done",
            context,
            category=Category.SECURITE,
            url=reverse("devices:list"),
        )
    return user


def _end_all_sessions(user: User, request: HttpRequest | None) -> int:
    # Django would refuse those sessions anyway (the password's hash changed); ending them
    # also takes them out of "Mes appareils" and the session store (the devices app listens).
    responses: list[tuple[object, object]] = list(
        account_password_reset.send(sender=User, user=user, request=request)
    )
    # The receivers that end sessions answer how many; the others answer None.
    return sum(count for _receiver, count in responses if isinstance(count, int))


# --- Forgotten login ----------------------------------------------------------------------


def send_login_reminder(*, email: str, request: HttpRequest) -> int:
    """Have the login(s) of the active accounts whose confirmed recovery address, or parent's
    address, is ``email`` mailed to it; returns how many (the caller shows the same page).

    A recovery address is not unique (a family may share one): every matching login is sent
    in one message. Audited ``login.reminder_sent`` per account, or once with the address's
    digest when none matches; the message is sent by a task (``deliver_login_reminder``),
    enqueued in both cases, so the answer takes as long either way. Rate-limited like a reset
    request (per address, per address typed from it); the task caps reminders per mailbox.
    """
    address = email.strip().lower()
    _enforce_rate_limits(kind="login", request=request, identifier=address)
    accounts = list(
        User.objects.filter(state=AccountState.ACTIVE)
        .filter(
            models.Q(recovery_email__iexact=address, recovery_email_confirmed_at__isnull=False)
            | models.Q(email=address, guardianships__isnull=False)
        )
        .distinct()
        .order_by("login")
    )
    user_pks = [user.pk for user in accounts]
    trusted_device = _trusted_device(request, user_pks)
    with transaction.atomic():
        for user in accounts:
            record_event(
                event_type=events.LOGIN_REMINDER_SENT,
                request=request,
                subject=user,
                data={"accounts": len(accounts)},
            )
        if not accounts:
            record_event(
                event_type=events.LOGIN_REMINDER_SENT,
                request=request,
                identifier=address,
                data={"accounts": 0},
            )
        deliver_login_reminder.enqueue(
            address=address if accounts else "",
            user_pks=user_pks,
            base_url=links.base_url(request),
            trusted_device=trusted_device,
        )
    return len(accounts)


@task()
def deliver_login_reminder(
    *, address: str, user_pks: list[int], base_url: str, trusted_device: bool = False
) -> bool:
    """Mail the logins of ``user_pks`` to ``address`` (task worker); False if nothing went.

    Past the mailbox's send cap (``RECOVERY_SEND_LIMIT`` reminders a window, unless the
    request came from a ``trusted_device`` of one of the accounts) nothing is sent (audited
    ``recovery.send_capped`` once a window); a failed sending gives its place back.
    """
    accounts = list(
        User.objects.filter(pk__in=user_pks, state=AccountState.ACTIVE).order_by("login")
    )
    if not (address and accounts):
        return False
    counter = _sent_counter("login", address)
    if not _may_send(counter, trusted_device=trusted_device):
        _audit_capped(kind="login", recipient=address, subject=None, channel=Channel.EMAIL.value)
        return False
    context = {
        "accounts": accounts,
        "login_url": base_url + reverse("account_login"),
        "reset_url": base_url + reverse("account_reset_password"),
    }
    delivered = mail.send([address], "accounts/mail/login_reminder", context)
    if not delivered and not trusted_device:
        ratelimit.release(counter)
    return delivered


# --- Référent delegation ------------------------------------------------------------------

# Without look-alikes (no I, l, 1, O, 0): the password is read from a screen and typed.
_TEMPORARY_ALPHABETS = ("abcdefghjkmnpqrstuvwxyz", "ABCDEFGHJKLMNPQRSTUVWXYZ", "23456789")
_TEMPORARY_GROUP = 4


def generate_temporary_password(user: User) -> str:
    """A random password meeting ``user``'s policy, in groups of four (``Kf7m-Qx2p-Vn9a``)."""
    groups = 4 if is_staff_account(user) else 3
    pool = "".join(_TEMPORARY_ALPHABETS)
    for _attempt in range(50):
        chars = [secrets.choice(alphabet) for alphabet in _TEMPORARY_ALPHABETS]
        chars += [secrets.choice(pool) for _ in range(groups * _TEMPORARY_GROUP - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        candidate = "-".join(
            "".join(chars[i : i + _TEMPORARY_GROUP]) for i in range(0, len(chars), _TEMPORARY_GROUP)
        )
        try:
            password_validation.validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate
    raise RuntimeError("Could not draw a temporary password meeting the policy.")


def reset_password_by_referent(*, acting_user: User, user: User, request: HttpRequest) -> str:
    """Give ``user`` a generated temporary password and return it, to be shown once.

    The caller has checked delegation (``permissions.get_managed_account_or_404``). Only an
    active account can be reset (an invited one needs its activation letter). In one
    transaction: password set, reset codes killed, sessions ended, audited
    ``password.reset_by_referent`` (actor and subject). After the commit, the pupil's
    guardians are told at their contact address (an account without guardians is told at
    its own). The person is asked, on screen and in the message, to change it.
    """
    if user.state != AccountState.ACTIVE:
        raise RecoveryError(
            _(
                "Ce compte n'est pas actif : son mot de passe ne peut pas être réinitialisé. "
                "Pour un compte pas encore activé, réimprimez sa lettre d'activation."
            )
        )
    password = generate_temporary_password(user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        codes.invalidate_codes(user, RESET)
        ended = _end_all_sessions(user, request)
        record_event(
            event_type=events.PASSWORD_RESET_BY_REFERENT,
            request=request,
            actor=acting_user,
            subject=user,
            data={"sessions_ended": ended},
        )
        context = {"actor": acting_user, "when": timezone.now()}
        transaction.on_commit(lambda: _tell_about_referent_reset(user, context))
    return password


def _tell_about_referent_reset(user: User, context: dict[str, object]) -> None:
    """A security notification to the pupil's guardians, or to the person when nobody
    holds guardianship (an adult pupil, staff)."""
    if user.guardians.exists():
        notify_guardians(user, "accounts/mail/referent_reset", context)
    else:
        notify_template(
            [user],
            "accounts/mail/referent_reset",
            {"pupil": user, **context},
            category=Category.SECURITE,
        )
