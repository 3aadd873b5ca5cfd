"""Announcements and notifications in a browser, as issue 18 tells it: the head of school
publishes an announcement to the teachers of her collège; Sophie Bernard, whose dashboard is
already open, sees it appear without reloading (the board and the bell poll every 30 s: the
page's clock is moved forward instead of waiting) and acknowledges it; the head sees who
read it. Then axe-core on the notification and announcement pages.

The fan-out runs in the worker in production; here tasks run at once, when the head's
request commits.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from convergence.portal.models import Announcement, AnnouncementRecipient

from .conftest import NewPage, sign_in
from .test_accessibility import assert_no_serious_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.usefixtures("immediate_tasks"),
]

TITLE = "Conseil pédagogique jeudi à 17 h"
BODY = "Le conseil pédagogique se tient **jeudi à 17 h** en salle des professeurs."


def board(page: Page) -> Any:
    return page.locator("#announcements-board")


def publish_to_teachers(head: Page) -> None:
    head.goto("/annonces/gestion/nouvelle/")
    head.get_by_role("textbox", name=re.compile(r"^Titre")).fill(TITLE)
    head.get_by_role("textbox", name=re.compile(r"^Texte")).fill(BODY)
    head.locator("label").get_by_text("Enseignant", exact=True).click()
    head.locator("label").get_by_text(re.compile(r"^Demander un accusé de lecture")).click()
    head.get_by_role("button", name="Enregistrer").click()
    head.get_by_role("button", name="Publier maintenant").click()
    expect(head.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(head.get_by_role("button", name="Publier maintenant")).to_have_count(0)


def test_the_head_publishes_and_the_teacher_sees_it_live_and_acknowledges(
    new_page: NewPage, head_of_school: Any, teacher: Any, browser_errors: list[str]
) -> None:
    # Sophie's dashboard is open before anything is published; its timers are the test's.
    page = new_page()
    page.clock.install()
    sign_in(page, teacher)
    expect(board(page)).not_to_contain_text(TITLE)

    head = new_page()
    sign_in(head, head_of_school)
    publish_to_teachers(head)
    announcement = Announcement.objects.get(title=TITLE)
    assert AnnouncementRecipient.objects.filter(announcement=announcement, person=teacher).exists()

    # Thirty seconds later, without reloading: the board and the bell have asked again.
    page.clock.run_for("00:31")
    expect(board(page)).to_contain_text(TITLE)
    bell = page.locator("#notifications-badge").first
    expect(bell).to_contain_text(re.compile(r"\d"))
    board(page).get_by_role("button", name=re.compile(r"^J'ai lu")).click()
    expect(board(page)).to_contain_text("Lue")
    recipient = AnnouncementRecipient.objects.get(announcement=announcement, person=teacher)
    assert recipient.acknowledged_at is not None

    # The head sees who read it.
    head.goto(f"/annonces/gestion/{announcement.pk}/")
    head.get_by_role("link", name="Lectures").click()
    expect(head.get_by_role("heading", level=1)).to_have_text(f"Lectures : {TITLE}")
    read = head.get_by_role("row").filter(has_text=teacher.login)
    expect(read).to_contain_text(f"{teacher.last_name} {teacher.first_name}")
    assert_no_serious_violations(head)

    # The notification centre, the preferences and the announcement, for axe.
    for path in ("/notifications/", "/notifications/preferences/", f"/annonces/{announcement.pk}/"):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_no_serious_violations(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    assert browser_errors == []
