"""Error pages: every one shows a stable code that links to its explanation in the help."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory

from convergence.core import errors
from convergence.core.views import bad_request, page_not_found, permission_denied, server_error
from tests.helpers import text_of


def test_missing_page_answers_404_with_its_code(client, db):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "CONV-404" in text_of(response)


def test_missing_page_links_to_the_explanation_of_its_code(client, db):
    response = client.get("/cette-page-n-existe-pas/")
    assert 'href="/aide/erreurs/CONV-404/"' in response.content.decode()


def test_explanation_of_throttling_says_the_account_is_not_locked(client, db):
    response = client.get("/aide/erreurs/CONV-429/")
    assert response.status_code == 200
    page = text_of(response)
    assert "CONV-429 — Trop de tentatives" in page
    assert "Votre compte n'est pas bloqué." in page
    assert "Patientez le temps indiqué puis réessayez." in page


def test_explanation_is_found_whatever_the_case_of_the_code(client, db):
    assert client.get("/aide/erreurs/conv-429/").status_code == 200


def test_unknown_error_code_answers_404(client, db):
    response = client.get("/aide/erreurs/CONV-999/")
    assert response.status_code == 404
    assert "CONV-404" in text_of(response)


def test_csrf_failure_on_sign_in_answers_403_with_its_code(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/connexion/", {"login": "lmartin", "password": "x"})
    assert response.status_code == 403
    page = text_of(response)
    assert "CONV-403-CSRF" in page
    assert "Formulaire expiré" in page
    assert 'href="/aide/erreurs/CONV-403-CSRF/"' in response.content.decode()


@pytest.mark.parametrize(
    ("handler", "exception", "status", "code"),
    [
        (bad_request, SuspiciousOperation("bad"), 400, "CONV-400"),
        (permission_denied, PermissionDenied(), 403, "CONV-403"),
        (page_not_found, Http404(), 404, "CONV-404"),
    ],
)
def test_error_handler_answers_its_status_with_its_code(db, handler, exception, status, code):
    request = RequestFactory().get("/quelque-part/")
    response = handler(request, exception)
    assert response.status_code == status
    assert code in response.content.decode()
    assert f'href="/aide/erreurs/{code}/"' in response.content.decode()


def test_server_error_handler_answers_500_with_its_code(db):
    request = RequestFactory().get("/quelque-part/")
    response = server_error(request)
    assert response.status_code == 500
    assert "CONV-500" in response.content.decode()
    assert 'href="/aide/erreurs/CONV-500/"' in response.content.decode()


def test_server_error_page_reads_nothing_from_the_database(db, django_assert_num_queries):
    # The database may be what failed: the 500 page must render without it.
    request = RequestFactory().get("/quelque-part/")
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500


def test_url_handlers_point_at_the_coded_error_views():
    from convergence import urls

    assert urls.handler400 == "convergence.core.views.bad_request"
    assert urls.handler403 == "convergence.core.views.permission_denied"
    assert urls.handler404 == "convergence.core.views.page_not_found"
    assert urls.handler500 == "convergence.core.views.server_error"


def test_every_error_code_is_declared_once():
    codes = [entry.code for entry in errors.all_codes()]
    assert codes
    assert len(codes) == len(set(codes))


def test_every_error_code_begins_with_its_http_status():
    for entry in errors.all_codes():
        assert entry.code.startswith(f"CONV-{entry.status}"), entry.code


def test_declaring_a_different_entry_under_a_taken_code_is_refused():
    with pytest.raises(ValueError, match="CONV-404"):
        errors.register(errors.ErrorCode("CONV-404", 404, "Autre", "Autre", "Autre"))


@pytest.mark.parametrize("entry", errors.all_codes(), ids=lambda entry: entry.code)
def test_every_error_code_has_its_explanation_page(client, db, entry):
    response = client.get(f"/aide/erreurs/{entry.code}/")
    assert response.status_code == 200
    page = text_of(response)
    assert f"{entry.code} — {entry.title}" in page
    assert str(entry.explanation) in page
    assert str(entry.what_to_do) in page


def test_error_code_catalogue_lists_every_code(client, db):
    response = client.get("/aide/erreurs/")
    assert response.status_code == 200
    content = response.content.decode()
    for entry in errors.all_codes():
        assert f'href="/aide/erreurs/{entry.code}/"' in content


def _request_with_session(user):
    from django.contrib.sessions.backends.cache import SessionStore

    request = RequestFactory().get("/")
    request.user = user
    request.session = SessionStore()
    return request


def test_the_last_code_shown_is_remembered_for_a_signed_in_person_only(db):
    from django.contrib.auth.models import AnonymousUser

    from convergence.accounts.models import User

    person = User(login="personne")
    signed_in = _request_with_session(person)
    errors.remember(signed_in, "CONV-404")
    assert errors.last_shown(signed_in) == "CONV-404"
    anonymous = _request_with_session(AnonymousUser())
    errors.remember(anonymous, "CONV-404")
    assert not anonymous.session.modified  # no session row for a bot's 404s


def test_a_remembered_code_is_forgotten_after_two_hours(db, monkeypatch):
    from convergence.accounts.models import User

    request = _request_with_session(User(login="personne"))
    errors.remember(request, "CONV-404")
    later = errors.time.time() + errors.LAST_SHOWN_SECONDS + 1
    monkeypatch.setattr(errors.time, "time", lambda: later)
    assert errors.last_shown(request) is None


def test_a_code_in_the_link_wins_only_when_registered(db):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/", {"code": "conv-429"})
    request.user, request.session = AnonymousUser(), None
    assert errors.last_shown(request) == "CONV-429"
    forged = RequestFactory().get("/", {"code": "<script>"})
    forged.user, forged.session = AnonymousUser(), None
    assert errors.last_shown(forged) is None
