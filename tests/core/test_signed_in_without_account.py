"""Middleware that only needs to know a session is signed in does not load the account
(``core.http.session_user_pk``): a page that does not use the account costs no query."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.cache import SessionStore
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils.functional import SimpleLazyObject

from convergence.core.http import session_user_pk
from convergence.core.middleware import SecurityHeadersMiddleware
from convergence.devices.middleware import DeviceActivityMiddleware
from convergence.mfa.policy import RequireSecondFactorMiddleware, satisfies_role_policy


def never_loaded():
    raise AssertionError("the account was loaded")


def signed_in_request(user_pk: int):
    request = RequestFactory().get("/bench/bare/")
    request.session = SessionStore()
    request.session[SESSION_KEY] = str(user_pk)
    request.session.save()
    request.user = SimpleLazyObject(never_loaded)
    return request


def test_a_signed_in_page_that_ignores_the_account_does_not_load_it(pupil):
    assert satisfies_role_policy(pupil)  # the person's second-factor decision is cached
    request = signed_in_request(pupil.pk)

    def view(request):
        return HttpResponse("ok")

    stack = SecurityHeadersMiddleware(DeviceActivityMiddleware(RequireSecondFactorMiddleware(view)))
    with CaptureQueriesContext(connection) as captured:
        response = stack(request)
    assert response.headers["Cache-Control"] == "no-store, private"
    assert not any("accounts_user" in query["sql"] for query in captured.captured_queries)


def test_session_user_pk_prefers_the_loaded_account(pupil, rf):
    request = rf.get("/")
    request.session = SessionStore()
    request.session[SESSION_KEY] = "999999"
    request.user = pupil  # already loaded (and checked) by someone
    assert session_user_pk(request) == str(pupil.pk)
    anonymous = rf.get("/")
    anonymous.session = SessionStore()
    assert session_user_pk(anonymous) is None
