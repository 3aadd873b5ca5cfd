"""The widget contract (core/widgets.py): inline widgets within budget, deferred widgets
fetched after the page from their own URL, with a hard timeout and a French fallback."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from convergence.core import widgets
from tests.helpers import client_of, text_of

PREVIOUS_SIGN_IN = "devices/_widget_previous_sign_in.html"
FIRST_SIGN_IN = {"previous": None, "failures": 0}


class Backend:
    """Stands for an outside system (a mail server): answers, fails, or hangs until told."""

    def __init__(self) -> None:
        self.called = threading.Event()
        self.release = threading.Event()
        self.hang = False
        self.fail = False

    def context(self, request: Any) -> dict[str, Any] | None:
        self.called.set()
        if self.fail:
            raise ConnectionRefusedError("IMAP down")
        if self.hang:
            self.release.wait(timeout=10)
        return FIRST_SIGN_IN


@pytest.fixture
def backend() -> Iterator[Backend]:
    backend = Backend()
    widgets.register(
        widgets.Widget(
            slug="test-deferred",
            template=PREVIOUS_SIGN_IN,
            context=backend.context,
            kind=widgets.Kind.DEFERRED,
            title="Messagerie de test",
            timeout_seconds=0.3,
            order=5,
        )
    )
    yield backend
    backend.release.set()
    widgets.unregister("test-deferred")


def test_the_dashboard_does_not_wait_for_a_hung_deferred_widget(pupil, backend):
    """The backend hangs; the dashboard is served without calling it, with a placeholder."""
    backend.hang = True
    response = client_of(pupil).get("/")
    assert response.status_code == 200
    assert not backend.called.is_set()
    page = response.content.decode()
    assert 'hx-get="/widgets/test-deferred/"' in page
    assert 'hx-trigger="load"' in page
    assert "Chargement de « Messagerie de test »…" in text_of(response)


def test_a_hung_deferred_widget_answers_unavailable_after_its_timeout(pupil, backend):
    backend.hang = True
    response = client_of(pupil).get("/widgets/test-deferred/")
    assert response.status_code == 200
    assert backend.called.is_set()
    assert not backend.release.is_set()  # still hanging when the answer came
    assert "Momentanément indisponible" in text_of(response)
    assert "Messagerie de test" in text_of(response)


def test_a_deferred_widget_renders_from_its_url(pupil, backend):
    response = client_of(pupil).get("/widgets/test-deferred/")
    assert response.status_code == 200
    assert "C'est votre première connexion au portail." in text_of(response)


def test_a_failing_deferred_widget_answers_unavailable(pupil, backend):
    backend.fail = True
    response = client_of(pupil).get("/widgets/test-deferred/")
    assert response.status_code == 200
    assert "Momentanément indisponible" in text_of(response)


def test_when_every_widget_thread_is_stuck_the_answer_is_immediate(pupil, backend, monkeypatch):
    monkeypatch.setattr(widgets, "_busy", threading.BoundedSemaphore(1))
    widgets._busy.acquire()  # the only thread is taken by a widget hanging elsewhere
    response = client_of(pupil).get("/widgets/test-deferred/")
    assert "Momentanément indisponible" in text_of(response)
    assert not backend.called.is_set()


def test_widget_urls_are_for_signed_in_people_and_deferred_widgets(client, pupil, backend):
    assert client.get("/widgets/test-deferred/").status_code == 302
    signed_in = client_of(pupil)
    assert signed_in.get("/widgets/inconnu/").status_code == 404
    # An inline widget has no URL of its own.
    assert signed_in.get("/widgets/previous-sign-in/").status_code == 404


def test_a_deferred_widget_needs_a_title() -> None:
    with pytest.raises(ValueError, match="title"):
        widgets.Widget(
            slug="x", template="x.html", context=lambda r: None, kind=widgets.Kind.DEFERRED
        )


@pytest.fixture
def slow_inline() -> Iterator[None]:
    import time

    def context(request: Any) -> dict[str, Any]:
        time.sleep(0.01)
        return FIRST_SIGN_IN

    widgets.register(
        widgets.Widget(slug="test-slow", template=PREVIOUS_SIGN_IN, context=context, order=6)
    )
    yield
    widgets.unregister("test-slow")


@override_settings(DEBUG=True)
def test_an_inline_widget_over_budget_is_logged_in_debug(pupil, slow_inline, caplog):
    with caplog.at_level(logging.WARNING, logger="convergence.core.widgets"):
        assert client_of(pupil).get("/").status_code == 200
    assert any("test-slow" in record.getMessage() for record in caplog.records)


def test_a_failing_inline_widget_is_left_out(pupil):
    def context(request: Any) -> dict[str, Any]:
        raise ConnectionError("down")

    widgets.register(
        widgets.Widget(slug="test-broken", template=PREVIOUS_SIGN_IN, context=context, order=7)
    )
    try:
        response = client_of(pupil).get("/")
    finally:
        widgets.unregister("test-broken")
    assert response.status_code == 200
    assert "test-broken" not in [w["slug"] for w in response.context["widgets"]]
