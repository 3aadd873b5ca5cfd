"""Second factors: django-allauth's ``allauth.mfa`` customised at its one seam, the adapter.

* TOTP ("codes changeants") and WebAuthn (passkeys) are allauth's own code; never ours.
* TOTP secrets are stored encrypted (Fernet, key derived with HKDF-SHA256 from
  ``settings.MFA_KEY`` or, when unset, ``SECRET_KEY``).
* Recovery codes are *ours* (:class:`HashedRecoveryCodes`): allauth stores a seed from which it
  derives the codes, so whoever reads the database reads the codes. Ours are random, stored only
  as keyed digests with a used flag each, shown exactly once right after they are generated
  (kept encrypted in the session until that page is shown) and single-use.
* Telling the person about a change is a security notification (``core.notify``), in the
  portal's own words.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import secrets
from typing import Any

from allauth.core import context
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.accounts import codes
from convergence.accounts.models import User
from convergence.core.models import Academie
from convergence.core.notify import Category, notify_template

RECOVERY_CODE_LENGTH = 10
RECOVERY_CODE_GROUP = 5
FRESH_CODES_SESSION_KEY = "convergence.mfa.fresh_recovery_codes"
HASHED_FORMAT = "hmac-sha256-v1"

# What each allauth notification says, in the portal's words (mail "mfa/mail/mfa_changed").
CHANGES = {
    "mfa/email/totp_activated": _("les codes changeants ont été activés"),
    "mfa/email/totp_deactivated": _("les codes changeants ont été retirés"),
    "mfa/email/recovery_codes_generated": _("de nouveaux codes de secours ont été générés"),
    "mfa/email/webauthn_added": _("une clé d'accès a été ajoutée"),
    "mfa/email/webauthn_removed": _("une clé d'accès a été retirée"),
}


# --- Keys ---------------------------------------------------------------------------------


def _key_material() -> bytes:
    return str(getattr(settings, "MFA_KEY", "") or settings.SECRET_KEY).encode()


@functools.lru_cache(maxsize=8)
def _derive(material: bytes, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"convergence.mfa", info=purpose)
    return hkdf.derive(material)


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(_key_material(), b"fernet")))


def encrypt_text(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as error:
        # Never the token in the message: it is a secret, encrypted.
        raise ValueError("Second-factor secret cannot be decrypted (MFA key changed?).") from error


# --- Recovery codes -----------------------------------------------------------------------


def generate_recovery_code() -> str:
    raw = "".join(secrets.choice(codes.LETTERS_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    step = RECOVERY_CODE_GROUP
    return "-".join(raw[i : i + step] for i in range(0, RECOVERY_CODE_LENGTH, step))


def recovery_code_digest(user_id: int, code: str) -> str:
    """Keyed digest of a recovery code, bound to its account (case, spaces, dashes ignored)."""
    key = _derive(_key_material(), b"recovery-codes")
    message = f"{user_id}:{codes.normalise(code)[: codes.MAX_INPUT_LENGTH]}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _current_request() -> HttpRequest | None:
    request: HttpRequest | None = getattr(context, "request", None)
    return request


def _stash_fresh_codes(authenticator: Authenticator, plain: list[str]) -> None:
    """Keep the new codes, encrypted, in the session until the page that shows them once."""
    request = _current_request()
    session = getattr(request, "session", None)
    if session is None:
        return
    payload = json.dumps({"pk": authenticator.pk, "codes": plain})
    session[FRESH_CODES_SESSION_KEY] = encrypt_text(payload)


def pop_fresh_codes(request: HttpRequest, authenticator: Authenticator) -> list[str]:
    """The codes just generated for ``authenticator``, once; [] afterwards."""
    token = request.session.pop(FRESH_CODES_SESSION_KEY, None)
    if not token:
        return []
    try:
        payload = json.loads(decrypt_text(token))
    except ValueError:
        return []
    if payload.get("pk") != authenticator.pk:
        return []
    return [str(code) for code in payload.get("codes", [])]


class HashedRecoveryCodes(RecoveryCodes):  # type: ignore[misc]
    """Single-use recovery codes of which only keyed digests are stored.

    ``Authenticator.data`` is ``{"format": ..., "digests": [hex, ...], "used": [bool, ...]}``.
    The plain codes exist only in the return value of :meth:`issue` (and, encrypted, in the
    session until the page that shows them). allauth's own views would show codes again from
    the seed; ours (mfa/views.py) replace them. ``generate_codes`` and ``get_unused_codes``
    return masks so that nothing of allauth's can ever display a code.
    """

    MASK = "•••••-•••••"
    instance: Authenticator

    @classmethod
    def issue(cls, user: Any) -> tuple[HashedRecoveryCodes, list[str]]:
        plain = [generate_recovery_code() for _ in range(settings.MFA_RECOVERY_CODE_COUNT)]
        instance = Authenticator(
            user=user,
            type=Authenticator.Type.RECOVERY_CODES,
            data={
                "format": HASHED_FORMAT,
                "digests": [recovery_code_digest(user.pk, code) for code in plain],
                "used": [False] * len(plain),
            },
        )
        instance.save()
        return cls(instance), plain

    @classmethod
    def activate(cls, user: Any) -> HashedRecoveryCodes:
        instance = Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.RECOVERY_CODES
        ).first()
        if instance:
            return cls(instance)
        wrapper, plain = cls.issue(user)
        _stash_fresh_codes(wrapper.instance, plain)
        return wrapper

    @property
    def is_hashed(self) -> bool:
        return bool(self.instance.data.get("format") == HASHED_FORMAT)

    @property
    def total_count(self) -> int:
        return len(self.instance.data.get("digests", []))

    @property
    def unused_count(self) -> int:
        return sum(1 for used in self.instance.data.get("used", []) if not used)

    def generate_codes(self) -> list[str]:
        return [self.MASK] * self.total_count

    def get_unused_codes(self) -> list[str]:
        return [self.MASK] * self.unused_count

    @transaction.atomic
    def validate_code(self, code: str) -> bool:
        if not self.is_hashed:
            return False  # a seed-based set from before: regenerate
        if self.instance.pk is not None:
            self.instance = Authenticator.objects.select_for_update().get(pk=self.instance.pk)
        typed = recovery_code_digest(self.instance.user_id, code).encode()
        found = None
        data = self.instance.data
        for index, stored in enumerate(data["digests"]):
            # Every digest is compared, so the time taken does not tell which one matched.
            if hmac.compare_digest(stored.encode(), typed) and found is None:
                found = index
        if found is None or data["used"][found]:
            return False
        data["used"][found] = True
        self.instance.save(update_fields=["data"])
        return True


def install() -> None:
    """Make allauth use :class:`HashedRecoveryCodes` wherever it wraps recovery codes.

    allauth has no setting for this class: ``Authenticator.wrap()`` imports ``RecoveryCodes``
    from its module at call time, and its flows module imported it at import time. Replacing
    both module attributes (at start-up, in ``MfaConfig.ready``) is the only hook; the
    recovery-code pages are our own views (mfa/views.py), never allauth's.
    """
    from allauth.mfa.recovery_codes.internal import auth as rc_auth
    from allauth.mfa.recovery_codes.internal import flows as rc_flows

    rc_auth.RecoveryCodes = HashedRecoveryCodes
    rc_flows.RecoveryCodes = HashedRecoveryCodes


# --- Mail -----------------------------------------------------------------------------------


def send_mfa_mail(user: User, template_prefix: str) -> bool:
    """allauth's "tell the person" for a second-factor change: a security notification."""
    change = CHANGES.get(template_prefix)
    if change is None:
        return False
    return bool(
        notify_template(
            [user],
            "mfa/mail/mfa_changed",
            {"user": user, "change": change},
            category=Category.SECURITE,
            url=reverse("mfa_index"),
        )
    )


# --- Adapter --------------------------------------------------------------------------------


def _academie_name() -> str:
    try:
        return str(Academie.current().name)
    except Exception:  # no académie row yet (first migration): the setting's name
        return str(settings.MFA_TOTP_ISSUER or settings.ACADEMIE_NAME)


class MFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    """French messages, the académie as TOTP issuer and passkey relying party, real encryption."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "add_email_blocked": _(
            "Impossible d'ajouter une adresse électronique à un compte protégé par un second "
            "facteur."
        ),
        "cannot_delete_authenticator": _("Ce second facteur ne peut pas être retiré."),
        "cannot_generate_recovery_codes": _(
            "Activez d'abord les codes changeants ou une clé d'accès : les codes de secours "
            "n'ont de sens qu'avec un second facteur."
        ),
        "incorrect_code": _("Code incorrect ou déjà utilisé."),
        "unverified_email": _(
            "Confirmez d'abord votre adresse électronique avant d'activer un second facteur."
        ),
    }

    def get_totp_label(self, user: Any) -> str:
        return str(getattr(user, "login", "") or user)

    def get_totp_issuer(self) -> str:
        return _academie_name()

    def encrypt(self, text: str) -> str:
        return encrypt_text(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_text(encrypted_text)

    def send_notification_mail(self, *args: Any, **kwargs: Any) -> None:
        template_prefix = kwargs.get("template_prefix", args[0] if args else "")
        user = kwargs.get("user", args[1] if len(args) > 1 else None)
        if isinstance(user, User):
            send_mfa_mail(user, str(template_prefix))

    def generate_authenticator_name(self, user: Any, type: Authenticator.Type) -> str:
        n = Authenticator.objects.filter(user_id=user.pk, type=type).count()
        if n == 0:
            return gettext("Clé principale")
        if n == 1:
            return gettext("Clé de secours")
        return gettext("Clé n° %(number)d") % {"number": n + 1}

    def get_public_key_credential_rp_entity(self) -> dict[str, str]:
        # The relying party is the host the browser talks to (the official host in
        # production, localhost in the browser tests): WebAuthn checks it against the origin.
        return {
            "id": context.request.get_host().partition(":")[0],
            "name": _academie_name(),
        }

    def get_public_key_credential_user_entity(self, user: Any) -> dict[str, Any]:
        entity: dict[str, Any] = super().get_public_key_credential_user_entity(user)
        entity["name"] = str(getattr(user, "login", "") or entity["name"])
        full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        entity["display_name"] = full_name or entity["name"]
        return entity
