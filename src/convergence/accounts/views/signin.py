"""Sign-in (with its profile chooser), account page and the password strength meter."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from allauth.account import views as allauth_views
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape, format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from convergence.accounts import passwords, permissions, throttle
from convergence.accounts.actions import throttle as throttle_actions
from convergence.accounts.errors import SIGN_IN_REFUSED
from convergence.accounts.forms import PasswordStrengthForm, login_help
from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import Assignment, Profile, User
from convergence.accounts.views.activation import pending_activation_user
from convergence.accounts.views.recovery import pending_reset_user
from convergence.core import context_processors, errors, fragments, notices
from convergence.core.models import Academie
from convergence.core.views import render_error


class LoginView(allauth_views.LoginView):  # type: ignore[misc]
    """allauth's sign-in with a profile chooser (a refusal for a delay is made a 429 by
    ``core.middleware.RetryAfterMiddleware``).

    The device cookie is given by ``device_receivers.alert_new_device`` at every completed
    sign-in, wherever it ends (password page, second-factor page, passkey).
    """

    template_name = "account/login.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """The page a fresh browser gets is the same for everyone but its CSRF token: it is
        rendered once (per profile, language and académie) and kept in the cache."""
        if not self._same_for_everyone(request):
            response: HttpResponse = super().get(request, *args, **kwargs)
            return response
        next_url = request.GET.get(self.redirect_field_name, "")
        key = fragments.key(
            "sign-in-page",
            request.GET.get("profil", ""),
            bool(next_url),
            notices.version(),
            *context_processors.shell_facts(request),
        )

        def render() -> str:
            self._placeholder_csrf = True
            page = super(LoginView, self).get(request, *args, **kwargs)
            page.render()
            return str(page.content.decode())

        page = fragments.fill_csrf(fragments.cached(key, render), request)
        if next_url:
            page = _fill_next(page, self.redirect_field_name, next_url)
        return HttpResponse(page)

    @staticmethod
    def _same_for_everyone(request: HttpRequest) -> bool:
        """No session or message cookie (nothing of this browser's shows), and no parameter
        but a known profile and ``next`` (filled in afterwards)."""
        if set(request.GET) - {"profil", REDIRECT_FIELD_NAME}:
            return False
        if request.GET.get("profil", "") not in ("", *Profile.values):
            return False
        return context_processors.shows_nothing_personal(request)

    def get_profile(self) -> Profile | None:
        value = self.request.GET.get("profil") or self.request.POST.get("profil")
        return Profile(value) if value in Profile.values else None

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        profile = self.get_profile()
        mail_domain = Academie.current().mail_domain
        form = context.get("form")
        throttled = getattr(self.request, "retry_after", None)
        refused = form is not None and form.is_bound and bool(form.non_field_errors())
        if refused:
            # The same code whatever the account: it names the refusal, not its reason.
            shown = errors.THROTTLED if throttled else SIGN_IN_REFUSED
            errors.remember(self.request, shown.code)
        context.update(
            {
                "profiles": [
                    {
                        "value": p.value,
                        "label": p.label,
                        "help": login_help(p, mail_domain=mail_domain),
                    }
                    for p in Profile
                ],
                "profile": profile,
                "profile_label": profile.label if profile else "",
                "profile_help": login_help(profile, mail_domain=mail_domain) if profile else "",
                # After a refused attempt, the chosen profile is recalled with its identifier:
                # the same answer whatever the account, so it tells nothing about it.
                "recall_profile": bool(
                    profile and form is not None and form.is_bound and form.errors and not throttled
                ),
                "throttled": throttled,
                "throttled_code": errors.THROTTLED.code,
                "form_error_code": SIGN_IN_REFUSED.code if refused and not throttled else "",
                # Refused by the account-wide counter (a distributed attack on the account):
                # the person may have a link e-mailed that marks this browser as known.
                "device_link_identifier": (
                    getattr(self.request, "convergence_throttled_identifier", "")
                    if getattr(self.request, "convergence_throttle_reason", "") == throttle.ACCOUNT
                    else ""
                ),
            }
        )
        if getattr(self, "_placeholder_csrf", False):
            context.update(fragments.csrf_placeholder_context())
            if context.get("redirect_field_value"):
                # Where the person goes after signing in (a service's authorisation request,
                # different for each): a placeholder the request's own value replaces.
                context["redirect_field_value"] = NEXT_PLACEHOLDER
                context["redirect_field"] = format_html(
                    '<input type="hidden" name="{}" value="{}">',
                    self.redirect_field_name,
                    NEXT_PLACEHOLDER,
                )
        return context


# Stands for the ``next`` value in the cached sign-in page (hexadecimal: the same once
# escaped for HTML and for a URL).
NEXT_PLACEHOLDER = hashlib.sha256(b"convergence-sign-in-next").hexdigest()


def _fill_next(page: str, field: str, value: str) -> SafeString:
    """Put this request's ``next`` back where the template showed it: hidden inputs
    (HTML-escaped) and the profile links (URL-encoded, then HTML-escaped)."""
    page = page.replace(f'value="{NEXT_PLACEHOLDER}"', f'value="{escape(value)}"')
    page = page.replace(f"{field}={NEXT_PLACEHOLDER}", f"{field}={escape(quote(value, safe='/'))}")
    return mark_safe(page)  # noqa: S308  (the values put in are escaped above)


@login_required
def account(request: AuthenticatedRequest) -> HttpResponse:
    """Who the portal thinks you are: identity, roles this year, password."""
    user = request.user
    assignments = (
        Assignment.objects.current()
        .filter(user=user)
        .select_related("establishment")
        .order_by("establishment__name", "role")
    )
    children = User.objects.children_of(user).order_by("first_name")
    return render(
        request,
        "accounts/account.html",
        {
            "assignments": assignments,
            "children": children,
            "is_manager": permissions.is_manager(user),
            "is_dsi": permissions.is_dsi(user),
            "may_publish_announcements": permissions.may_publish_announcements(user),
        },
    )


@require_POST
def password_strength(request: HttpRequest) -> HttpResponse:
    """The strength meter's verdict for what is being typed (htmx partial, never logged)."""
    form = PasswordStrengthForm(request.POST)
    password = form.data.get("password1", "") if form.is_valid() else ""
    user = request.user if isinstance(request.user, User) else None
    if user is None:
        # During activation or a reset the account is known but not signed in: judge the
        # password by that account's own policy.
        user = pending_activation_user(request) or pending_reset_user(request)
    verdict = passwords.strength(password, user=user) if password else None
    return render(request, "accounts/_password_strength.html", {"verdict": verdict})


class PasswordChangeView(allauth_views.PasswordChangeView):  # type: ignore[misc]
    """allauth's change form (it asks for the current password) with the policy spelled out."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["password_policy_help"] = passwords.policy_for(self.request.user).description
        return context


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Stands in for the admin's login view: sends people to the portal's sign-in."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied
    target = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("admin:index")


@require_POST
def device_link_request(request: HttpRequest) -> HttpResponse:
    """E-mail a link that marks this browser as known; the same page whatever the account."""
    identifier = str(request.POST.get("login", ""))
    try:
        throttle_actions.request_device_link(identifier=identifier, request=request)
    except throttle_actions.DeviceLinkThrottled as refused:
        response = render_error(request, errors.THROTTLED)
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    return render(
        request,
        "accounts/device_link/sent.html",
        {"minutes": throttle_actions.DEVICE_LINK_SECONDS // 60},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def device_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: a button (mail scanners follow links, they do not post)."""
    if request.method == "GET":
        return render(request, "accounts/device_link/confirm.html", {"token": token})
    user = throttle_actions.approve_device(token=token, request=request)
    if user is None:
        return render(request, "accounts/device_link/invalid.html", status=400)
    response = render(request, "accounts/device_link/done.html", {"login": user.login})
    throttle.give_device_cookie(response, request=request, user_pk=user.pk)
    return response
