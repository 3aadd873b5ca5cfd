"""The pages: a person's announcements and « J'ai lu », the dashboard's block polled with
an ETag, the authors' pages from the form to the acknowledgements (counts, filters, CSV)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import strip_tags

from convergence.accounts.models import Role
from convergence.portal import announcement_actions, announcement_delivery
from convergence.portal.models import Announcement, AnnouncementRecipient, AnnouncementState
from tests.helpers import client_of, text_of
from tests.portal.announcement_factories import establishment, sent, written

BOARD = "/annonces/bloc/"
HTMX = {"HX-Request": "true"}


# --- a person's announcements ------------------------------------------------------------------


def test_the_list_shows_current_announcements_unacknowledged_first(
    head_of_school: Any, teacher: Any
) -> None:
    sent(head_of_school, title="Sans accusé")
    sent(head_of_school, title="À confirmer", requires_ack=True)
    page = text_of(client_of(teacher).get("/annonces/"))
    assert page.index("À confirmer") < page.index("Sans accusé")
    assert page.count("J'ai lu") == 1


def test_the_list_costs_the_same_queries_whatever_the_number(
    head_of_school: Any, teacher: Any, django_assert_num_queries: Any
) -> None:
    client = client_of(teacher)
    sent(head_of_school, title="Première", requires_ack=True)
    client.get("/annonces/")
    # Session, person, the receipts, the permission to manage (two role checks).
    # At most 5 (one fewer with sessions in Redis), and the same for six announcements.
    with CaptureQueriesContext(connection) as one:
        assert client.get("/annonces/").status_code == 200
    assert len(one) <= 5
    for number in range(5):
        sent(head_of_school, title=f"Annonce {number}", requires_ack=True)
    with django_assert_num_queries(len(one)):
        page = client.get("/annonces/")
    assert text_of(page).count("J'ai lu") == 6


def test_the_detail_page_shows_text_and_acknowledges_without_javascript(
    head_of_school: Any, teacher: Any, pupil_in_dole: Any
) -> None:
    announcement = sent(head_of_school, requires_ack=True, body="Venez **tous**.")
    client = client_of(teacher)
    url = f"/annonces/{announcement.pk}/"
    page = client.get(url).content.decode()
    assert ("<strong>tous</strong>" in page and "J&#x27;ai lu" in page) or "J'ai lu" in page
    response = client.post(f"{url}lu/", {"retour": url})
    assert response.status_code == 302 and response["Location"] == url
    assert "Lue le" in text_of(client.get(url))
    assert client_of(pupil_in_dole).get(url).status_code == 404
    assert client_of(pupil_in_dole).post(f"{url}lu/").status_code == 404


def test_a_withdrawn_announcement_answers_404_to_its_recipients(
    head_of_school: Any, teacher: Any
) -> None:
    announcement = sent(head_of_school)
    announcement_actions.withdraw_announcement(
        acting_user=head_of_school, announcement=announcement
    )
    assert client_of(teacher).get(f"/annonces/{announcement.pk}/").status_code == 404


def test_acknowledging_refuses_a_foreign_return_address(head_of_school: Any, teacher: Any) -> None:
    announcement = sent(head_of_school, requires_ack=True)
    response = client_of(teacher).post(
        f"/annonces/{announcement.pk}/lu/", {"retour": "//ailleurs.example/"}
    )
    assert response["Location"] == f"/annonces/{announcement.pk}/"


# --- the dashboard's block ---------------------------------------------------------------------


def test_the_dashboard_shows_the_block_that_polls_itself(head_of_school: Any, teacher: Any) -> None:
    sent(head_of_school, title="Conseil pédagogique", requires_ack=True)
    page = client_of(teacher).get("/").content.decode()
    assert 'id="announcements-board"' in page and BOARD in page
    assert 'hx-trigger="every 30s"' in page and "Conseil pédagogique" in page


def test_an_empty_block_still_polls(teacher: Any) -> None:
    page = client_of(teacher).get("/").content.decode()
    assert (
        'id="announcements-board"' in page
        and "<h2" not in page.split('id="announcements-board"')[1].split("</div>")[0]
    )


def test_the_block_answers_304_until_something_changes(
    head_of_school: Any,
    teacher: Any,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_of(teacher)
    first = client.get(BOARD)
    assert first.status_code == 200
    assert first["Cache-Control"] in ("private, no-cache", "no-cache, private")
    etag = first["ETag"]
    # Nothing changed: the board comes from the cache; only the session and the person.
    with django_assert_max_num_queries(2) as queries:
        again = client.get(BOARD, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert not [query for query in queries if "portal_announcement" in query["sql"]]

    # Published: the fan-out's end replaces the version, the next poll shows it.
    with django_capture_on_commit_callbacks(execute=True):
        announcement = sent(head_of_school, title="Sortie au musée", requires_ack=True)
    changed = client.get(BOARD, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and "Sortie au musée" in text_of(changed)
    etag = changed["ETag"]
    assert client.get(BOARD, HTTP_IF_NONE_MATCH=etag).status_code == 304

    # « J'ai lu » through htmx answers the block again, without the button.
    with django_capture_on_commit_callbacks(execute=True):
        acked = client.post(f"/annonces/{announcement.pk}/lu/", {"bloc": "1"}, headers=HTMX)
    assert acked.status_code == 200 and "J'ai lu" not in text_of(acked)
    assert client.get(BOARD, HTTP_IF_NONE_MATCH=etag).status_code == 200

    # Withdrawn: gone from the block at the next poll.
    etag = client.get(BOARD)["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        announcement_actions.withdraw_announcement(
            acting_user=head_of_school, announcement=announcement
        )
    gone = client.get(BOARD, HTTP_IF_NONE_MATCH=etag)
    assert gone.status_code == 200 and "Sortie au musée" not in text_of(gone)


def test_the_block_is_empty_for_a_visitor(db: None) -> None:
    response = Client().get(BOARD)
    assert response.status_code == 200 and response.content == b""


# --- the authors' pages ------------------------------------------------------------------------


def test_the_head_of_school_writes_previews_publishes_and_follows(
    head_of_school: Any, teacher: Any, pupil: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_of(head_of_school)
    form = {
        "title": "Journée portes ouvertes",
        "body": "Samedi **matin**. <script>alert(1)</script>",
        "scope": "etablissement",
        "establishment": establishment().pk,
        "roles": [Role.ENSEIGNANT, Role.ELEVE],
        "divisions": [f"{establishment().pk}|4e B"],
        "requires_ack": "on",
    }
    preview = client.post("/annonces/gestion/nouvelle/", {**form, "action": "apercu"})
    assert preview.status_code == 200 and "<strong>matin</strong>" in preview.content.decode()
    assert "<script>alert" not in preview.content.decode()
    assert not Announcement.objects.exists()

    saved = client.post("/annonces/gestion/nouvelle/", {**form, "action": "enregistrer"})
    announcement = Announcement.objects.get()
    assert saved["Location"] == f"/annonces/gestion/{announcement.pk}/"
    assert announcement.divisions == ["4e B"] and announcement.state == AnnouncementState.DRAFT
    page = text_of(client.get(saved["Location"]))
    assert "Publier maintenant" in page and "Destinataires à ce jour" in page

    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/annonces/gestion/{announcement.pk}/publier/")
    sending = text_of(client.get(f"/annonces/gestion/{announcement.pk}/"))
    assert "Envoi en cours : 0 destinataire</p>" in sending
    progress = client.get(f"/annonces/gestion/{announcement.pk}/envoi/").content.decode()
    assert 'hx-trigger="every 5s"' in progress

    announcement_delivery.fan_out_announcement(announcement_pk=announcement.pk)
    done = client.get(f"/annonces/gestion/{announcement.pk}/envoi/").content.decode()
    assert "Envoyée à 3 destinataires" in text_of_str(done) and "every 5s" not in done
    assert client.get(f"/annonces/gestion/{announcement.pk}/modifier/").status_code == 302


def text_of_str(markup: str) -> str:
    import html

    return html.unescape(markup)


def test_the_acknowledgement_page_counts_filters_and_exports(
    head_of_school: Any, teacher: Any, pupil: Any, parent: Any, cpe: Any
) -> None:
    announcement = sent(head_of_school, requires_ack=True)
    for person in (teacher, pupil):
        announcement_actions.acknowledge_announcement(acting_user=person, announcement=announcement)
    client = client_of(head_of_school)
    url = f"/annonces/gestion/{announcement.pk}/lectures/"
    page = " ".join(strip_tags(text_of(client.get(url))).split())
    total = announcement.recipients_count
    assert f"Destinataires : {total}" in page
    assert "Ont confirmé la lecture : 2" in page
    assert f"N'ont pas confirmé : {total - 2}" in page

    missing = text_of(client.get(url, {"etat": "non-lu"}))
    assert cpe.login in missing and teacher.login not in missing
    in_class = text_of(client.get(url, {"classe": "4e B"}))
    assert pupil.login in in_class and parent.login in in_class and cpe.login not in in_class
    teachers = text_of(client.get(url, {"profil": Role.ENSEIGNANT}))
    assert teacher.login in teachers and pupil.login not in teachers

    export = client.get(url, {"etat": "lu", "format": "csv"})
    assert export["Content-Type"].startswith("text/csv")
    body = export.getvalue().decode()
    lines = body.strip().splitlines()
    assert lines[0].lstrip("\ufeff").startswith("Nom;Prénom;Identifiant")
    assert len(lines) == 3 and teacher.login in body and pupil.login in body


def test_the_acknowledgement_page_costs_the_same_queries_whatever_the_audience(
    head_of_school: Any, django_assert_num_queries: Any
) -> None:
    small = sent(head_of_school, roles=[Role.CPE], requires_ack=True)
    large = sent(head_of_school, requires_ack=True)
    assert large.recipients_count > small.recipients_count
    client = client_of(head_of_school)
    client.get(f"/annonces/gestion/{small.pk}/lectures/")
    with CaptureQueriesContext(connection) as small_queries:
        client.get(f"/annonces/gestion/{small.pk}/lectures/")
    assert len(small_queries) <= 12
    with django_assert_num_queries(len(small_queries)):
        client.get(f"/annonces/gestion/{large.pk}/lectures/")


def test_the_authors_list_costs_the_same_queries_whatever_the_number(
    head_of_school: Any, django_assert_num_queries: Any
) -> None:
    client = client_of(head_of_school)
    written(head_of_school)
    client.get("/annonces/gestion/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/annonces/gestion/")
    assert len(queries) <= 8
    for number in range(4):
        written(head_of_school, title=f"Brouillon {number}")
    with django_assert_num_queries(len(queries)):
        page = client.get("/annonces/gestion/")
    assert text_of(page).count("Brouillon") >= 5


def test_another_school_s_announcement_is_out_of_reach(
    head_of_school: Any, dsi: Any, pupil_in_dole: Any
) -> None:
    from tests.portal.announcement_factories import NODIER

    theirs = written(dsi, uai=NODIER)
    client = client_of(head_of_school)
    for path in ("", "modifier/", "lectures/"):
        assert client.get(f"/annonces/gestion/{theirs.pk}/{path}").status_code == 404
    assert client.post(f"/annonces/gestion/{theirs.pk}/publier/").status_code == 404
    assert client_of(dsi).get(f"/annonces/gestion/{theirs.pk}/").status_code == 200
    assert AnnouncementRecipient.objects.count() == 0


def test_the_site_map_leads_authors_to_their_page(head_of_school: Any, teacher: Any) -> None:
    assert "/annonces/gestion/" in client_of(head_of_school).get("/plan-du-site/").content.decode()
    teachers = client_of(teacher).get("/plan-du-site/").content.decode()
    assert "/annonces/" in teachers and "/annonces/gestion/" not in teachers


def test_the_account_page_leads_authors_to_their_announcements(
    head_of_school: Any, teacher: Any
) -> None:
    assert "/annonces/gestion/" in client_of(head_of_school).get("/compte/").content.decode()
    assert "/annonces/gestion/" not in client_of(teacher).get("/compte/").content.decode()
