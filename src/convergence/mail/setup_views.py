"""Set-up pages of phones and mail clients (``/messagerie/appareils/<appareil>/``), the Apple
profile's downloads and Thunderbird's public autoconfig document.

The iPhone's profile holds the app password just made. A computer's browser downloads it in
the signed-in session; a phone scanning the page's QR code is not signed in, so the code
carries a one-time download token instead:

* the token is 256 random bits, stored nowhere in clear: the cache holds, under its SHA-256,
  the person, the app password's id and the secret encrypted with a key derived from the
  token (Fernet) — the cache alone cannot give the secret back;
* it lives :data:`PROFILE_TOKEN_SECONDS` and is consumed by the first download (the
  signed-in one or the phone's, whichever comes first);
* it is bound to its person: a browser signed in as someone else is refused, and a revoked
  app password or an account that lost its mailbox downloads nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any, cast

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from convergence.accounts.models import User
from convergence.accounts.permissions import has_academic_mailbox, mailbox_required
from convergence.core.links import absolute_url
from convergence.core.models import Academie
from convergence.mail import actions, forms, setup
from convergence.mail.models import AppPassword, Device
from convergence.mail.views import APP_PASSWORD_MFA_SECONDS
from convergence.mfa.policy import session_used_mfa_within, step_up_url, user_has_mfa

DEVICES = (Device.IPHONE, Device.ANDROID, Device.THUNDERBIRD, Device.OUTLOOK)
# How long the profile of a just-made app password can be downloaded (once).
PROFILE_TOKEN_SECONDS = 10 * 60
SESSION_KEY = "mail_setup_profile"
PROFILE_CONTENT_TYPE = "application/x-apple-aspen-config"
# The public autoconfig document is the same for everyone: proxies may keep it an hour.
AUTOCONFIG_MAX_AGE = 3600


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _default_label(device: str) -> str:
    labels: dict[str, str] = {
        Device.IPHONE.value: _("iPhone"),
        Device.ANDROID.value: _("Téléphone Android"),
        Device.THUNDERBIRD.value: _("Thunderbird"),
        Device.OUTLOOK.value: _("Outlook"),
    }
    return labels.get(device, _("Appareil"))


# --- The one-time profile token --------------------------------------------------------------


def _cache_key(token: str) -> str:
    return "mail:setup-profile:" + hashlib.sha256(token.encode()).hexdigest()


def _box(token: str) -> Fernet:
    key = hashlib.sha256(f"convergence.mail.setup-profile|{token}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def issue_profile_token(
    request: HttpRequest, *, user: User, created: actions.NewAppPassword
) -> str:
    """A one-time token for the profile holding ``created``'s secret, remembered by this
    session for the same time (the computer's own download)."""
    token = secrets.token_urlsafe(32)
    cache.set(
        _cache_key(token),
        {
            "user": user.pk,
            "app_password": created.app_password.pk,
            "sealed": _box(token).encrypt(created.secret.encode()).decode(),
        },
        PROFILE_TOKEN_SECONDS,
    )
    request.session[SESSION_KEY] = {
        "token": token,
        "user": user.pk,
        "expires": time.time() + PROFILE_TOKEN_SECONDS,
    }
    return token


def _session_token(request: HttpRequest, user: User) -> str:
    """This session's live token, if any (expired or foreign entries are wiped)."""
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict):
        return ""
    if entry.get("user") != user.pk or float(entry.get("expires", 0)) < time.time():
        request.session.pop(SESSION_KEY, None)
        return ""
    token = str(entry.get("token", ""))
    if cache.get(_cache_key(token)) is None:  # already downloaded
        request.session.pop(SESSION_KEY, None)
        return ""
    return token


def consume_profile_token(token: str, *, signed_in: Any) -> bytes | None:
    """The profile the token stands for, once; ``None`` when unknown, used, expired, refused
    to this browser, or when its app password or its person's mailbox is gone."""
    if not token or len(token) > 100:
        return None
    key = _cache_key(token)
    entry = cache.get(key)
    if not isinstance(entry, dict):
        return None
    if getattr(signed_in, "is_authenticated", False) and signed_in.pk != entry["user"]:
        # Someone else's browser: refused, and the token stays for its owner.
        return None
    if not cache.delete(key):  # a parallel download consumed it first
        return None
    app_password = (
        AppPassword.objects.active()
        .filter(pk=entry["app_password"], user_id=entry["user"])
        .select_related("user")
        .first()
    )
    if app_password is None or not has_academic_mailbox(app_password.user):
        return None
    try:
        secret = _box(token).decrypt(entry["sealed"].encode(), ttl=PROFILE_TOKEN_SECONDS).decode()
    except InvalidToken:
        return None
    return _profile(app_password.user, secret)


def _profile(user: User, secret: str) -> bytes:
    academie = Academie.current()
    return setup.mobileconfig(
        user.login,
        user.email,
        user.get_full_name(),
        secret,
        setup.servers_from_settings(),
        organization=academie.name,
        email_domain=academie.mail_domain,
        identity=setup.signing_identity(),
    )


def _profile_response(profile: bytes) -> HttpResponse:
    response = HttpResponse(profile, content_type=PROFILE_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="messagerie.mobileconfig"'
    response["Cache-Control"] = "no-store"
    return response


def _gone(request: HttpRequest) -> HttpResponse:
    return render(request, "mail/setup/profile_gone.html", status=410)


# --- Pages ------------------------------------------------------------------------------------


@never_cache
@mailbox_required
@require_http_methods(["GET", "POST"])
def device(request: HttpRequest, device: str) -> HttpResponse:
    """The steps for one kind of device, its settings, and an app password made on the spot
    (same second-factor rule as the devices page)."""
    if device not in DEVICES:
        raise Http404
    user = _user(request)
    needs_mfa = user_has_mfa(user) and not session_used_mfa_within(
        request, APP_PASSWORD_MFA_SECONDS
    )
    form = forms.AppPasswordForm(initial={"label": _default_label(device), "device": device})
    created = None
    if request.method == "POST":
        if needs_mfa:
            return HttpResponseRedirect(step_up_url(user, request.path))
        form = forms.AppPasswordForm({"label": request.POST.get("label", ""), "device": device})
        if form.is_valid():
            try:
                created = actions.create_app_password(
                    user=user,
                    label=form.cleaned_data["label"],
                    device=device,
                    request=request,
                )
            except actions.AppPasswordError as error:
                form.add_error(None, str(error))
    servers = setup.servers_from_settings()
    token = ""
    if device == Device.IPHONE:
        if created is not None:
            token = issue_profile_token(request, user=user, created=created)
        else:
            token = _session_token(request, user)
    profile_qr = ""
    if token:
        phone_url = absolute_url(reverse("mail_setup:profile_by_token", args=[token]), request)
        profile_qr = setup.qr_svg(
            phone_url,
            label=_(
                "Code QR : scannez-le avec l'appareil photo de l'iPhone pour installer le profil "
                "de messagerie."
            ),
        )
    settings_qr = ""
    if device in (Device.ANDROID, Device.OUTLOOK):
        text = setup.settings_text(
            servers,
            login=user.login,
            email=user.email,
            app_password=created.secret if created is not None else "",
        )
        settings_qr = setup.qr_svg(
            text,
            label=_(
                "Code QR des réglages de messagerie : scannez-le avec le téléphone pour les copier."
            ),
        )
    context = {
        "device": device,
        "device_name": Device(device).label,
        "form": form,
        "created": created,
        "needs_mfa": needs_mfa,
        "step_up_url": step_up_url(user, request.path) if needs_mfa else "",
        "servers": servers,
        "login": user.login,
        "email": user.email,
        "profile_qr": profile_qr,
        "profile_url": reverse("mail_setup:profile") if token else "",
        "profile_minutes": PROFILE_TOKEN_SECONDS // 60,
        "settings_qr": settings_qr,
        "autoconfig_url": absolute_url(reverse("mail_setup:autoconfig"), request),
        "devices": [(d, Device(d).label) for d in DEVICES],
    }
    response = render(request, f"mail/setup/{device}.html", context)
    if created is not None or token:
        response["Cache-Control"] = "no-store"
    return response


@never_cache
@mailbox_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    """The computer's download of the profile just made in this session (once)."""
    token = _session_token(request, _user(request))
    request.session.pop(SESSION_KEY, None)
    made = consume_profile_token(token, signed_in=request.user) if token else None
    if made is None:
        return _gone(request)
    return _profile_response(made)


@never_cache
@require_GET
def profile_by_token(request: HttpRequest, token: str) -> HttpResponse:
    """The phone's download (not signed in): the one-time token of the QR code."""
    made = consume_profile_token(token, signed_in=request.user)
    if made is None:
        return _gone(request)
    return _profile_response(made)


@require_GET
def autoconfig(request: HttpRequest) -> HttpResponse:
    """Thunderbird's autoconfig: public, the same document whatever ``emailaddress`` says
    (nothing here tells whether an account exists), cacheable."""
    academie = Academie.current()
    display_name = getattr(settings, "MAIL_AUTOCONFIG_DISPLAY_NAME", "") or academie.name
    body = setup.autoconfig_xml(
        academie.mail_domain,
        setup.servers_from_settings(),
        display_name=display_name,
        short_name=academie.short_name,
        documentation_url=absolute_url(
            reverse("mail_setup:device", args=[Device.THUNDERBIRD]), request
        ),
    )
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    patch_cache_control(response, public=True, max_age=AUTOCONFIG_MAX_AGE)
    return response
