"""Deferred dashboard widgets in a real browser: the page comes at once with a placeholder,
htmx fetches each widget after it, and a backend that hangs ends as "momentanément
indisponible" in its own box while the rest of the dashboard works."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from convergence.core import widgets

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def mail_widgets() -> Iterator[threading.Event]:
    """Two deferred widgets: one answers, one hangs (until the test ends)."""
    release = threading.Event()

    def answers(request: Any) -> dict[str, Any]:
        return {"previous": None, "failures": 0}

    def hangs(request: Any) -> dict[str, Any]:
        release.wait(timeout=30)
        return {"previous": None, "failures": 0}

    for slug, context, title in (
        ("test-answers", answers, "Widget qui répond"),
        ("test-hangs", hangs, "Messagerie en panne"),
    ):
        widgets.register(
            widgets.Widget(
                slug=slug,
                template="devices/_widget_previous_sign_in.html",
                context=context,
                kind=widgets.Kind.DEFERRED,
                title=title,
                timeout_seconds=1.0,
                order=1,
            )
        )
    yield release
    release.set()
    widgets.unregister("test-answers")
    widgets.unregister("test-hangs")


def test_a_hung_widget_degrades_its_own_box_only(page: Page, pupil, mail_widgets) -> None:
    sign_in(page, pupil)  # the dashboard was served while one backend hangs
    hung = page.locator("#widget-test-hangs")
    expect(page.get_by_text("Momentanément indisponible")).to_be_visible()
    expect(hung).to_have_count(0)  # replaced by the server's answer after its timeout
    expect(page.get_by_text("C'est votre première connexion au portail.").first).to_be_visible()
    # The rest of the dashboard is there and works.
    expect(page.get_by_role("heading", name="Mes services")).to_be_visible()
