"""The "Gestion des comptes" area: who gets in, what a référent sees, letters and batches."""

from __future__ import annotations

import datetime
import html
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from convergence.accounts import actions, events, permissions
from convergence.accounts.actions.accounts import RoleGrant
from convergence.accounts.models import AccountState, Role, User
from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.mfa.actions import enrol_totp
from convergence.provisioning import actions as provisioning_actions
from convergence.provisioning.models import JobState, LetterAudience, LetterBatch

PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def text_of(response: Any) -> str:
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture(autouse=True)
def _immediate_tasks(immediate_tasks: None, settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture
def other_referent(demo: None) -> User:
    """A référent numérique of Lycée Charles Nodier (Dole), where Yanis studies."""
    nodier = Establishment.objects.get(uai="0390012B")
    paul = actions.create_account(
        acting_user=None,
        first_name="Paul",
        last_name="Vidal",
        state=AccountState.ACTIVE,
        roles=[RoleGrant(nodier, Role.REFERENT)],
    )
    # A référent's role requires a second factor before any page opens.
    enrol_totp(acting_user=None, user=paul, secret="JBSWY3DPEHPK3PXP")
    return paul


def test_permissions_know_who_manages(referent: User, dsi: User, teacher: User) -> None:
    assert permissions.is_manager(referent) and not permissions.is_dsi(referent)
    assert permissions.is_manager(dsi) and permissions.is_dsi(dsi)
    assert not permissions.is_manager(teacher)
    assert list(permissions.managed_establishments(referent).values_list("uai", flat=True)) == [
        "0250013D"
    ]


def test_anonymous_visitor_is_sent_to_sign_in(client: Client, db: None) -> None:
    response = client.get("/gestion/comptes/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_teacher_is_refused_in_french(client: Client, teacher: User) -> None:
    client.force_login(teacher)
    response = client.get("/gestion/comptes/")
    assert response.status_code == 403
    assert "Accès refusé" in text_of(response)
    assert client.get("/gestion/lettres/").status_code == 403


def test_referent_finds_pupils_of_their_establishment_only(
    client: Client, referent: User, pupil: User, pupil_in_dole: User
) -> None:
    client.force_login(referent)
    response = client.get("/gestion/comptes/", {"q": "martin"})
    assert response.status_code == 200
    page = text_of(response)
    assert "lmartin" in page and "kmartin" in page
    assert "ymartin" not in page


def test_search_matches_every_word(client: Client, referent: User, pupil: User) -> None:
    client.force_login(referent)
    page = text_of(client.get("/gestion/comptes/", {"q": "Léa Mart"}))
    assert "lmartin" in page and "hlambert" not in page


def test_account_list_query_count_does_not_grow_with_the_page(
    client: Client,
    referent: User,
    django_assert_max_num_queries: Any,
) -> None:
    college = Establishment.objects.get(uai="0250013D")
    for index in range(30):
        actions.create_account(
            acting_user=None,
            first_name=f"Élève{index}",
            last_name="Test",
            roles=[RoleGrant(college, Role.ELEVE, "6e B")],
        )
    client.force_login(referent)
    client.get("/gestion/comptes/")  # the session's first request records the device
    with django_assert_max_num_queries(10):
        response = client.get("/gestion/comptes/")
    assert response.status_code == 200
    assert "Page 1 sur 2" in text_of(response)


def test_referent_cannot_see_another_establishments_pupil(
    client: Client, referent: User, pupil_in_dole: User
) -> None:
    client.force_login(referent)
    assert client.get(f"/gestion/comptes/{pupil_in_dole.pk}/").status_code == 404
    assert client.post(f"/gestion/comptes/{pupil_in_dole.pk}/lettre/").status_code == 404
    assert not AuditEvent.objects.of_type(events.ACTIVATION_LETTER_ISSUED).exists()


def test_referent_cannot_act_on_staff(client: Client, referent: User, teacher: User) -> None:
    client.force_login(referent)
    assert client.get(f"/gestion/comptes/{teacher.pk}/").status_code == 404


def test_missing_account_is_the_same_404(client: Client, referent: User) -> None:
    client.force_login(referent)
    assert client.get("/gestion/comptes/999999/").status_code == 404


def test_referent_sees_a_pupils_card(client: Client, referent: User, pupil: User) -> None:
    client.force_login(referent)
    response = client.get(f"/gestion/comptes/{pupil.pk}/")
    page = text_of(response)
    assert response.status_code == 200
    assert "lmartin" in page and "4e B" in page
    assert "Karim Martin" in page  # guardian
    assert "Réimprimer la lettre d'activation" in page


def test_dsi_sees_any_account(
    client: Client, dsi: User, pupil_in_dole: User, teacher: User
) -> None:
    client.force_login(dsi)
    assert client.get(f"/gestion/comptes/{pupil_in_dole.pk}/").status_code == 200
    assert client.get(f"/gestion/comptes/{teacher.pk}/").status_code == 200


def test_referent_reprints_a_letter_audited_and_guardians_told(
    client: Client,
    referent: User,
    pupil: User,
    parent: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(referent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/gestion/comptes/{pupil.pk}/lettre/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "lettre-activation-lmartin.pdf" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    assert len(PAGE.findall(response.content)) == 1
    event = AuditEvent.objects.of_type(events.ACTIVATION_LETTER_ISSUED).get()
    assert (event.actor, event.subject) == (referent, pupil)
    told = [message for message in mail.outbox if parent.email in message.to]
    assert told and "Léa Martin" in told[0].subject
    assert "Julien Moreau" in told[0].body


def test_reprint_needs_post(client: Client, referent: User, pupil: User) -> None:
    client.force_login(referent)
    assert client.get(f"/gestion/comptes/{pupil.pk}/lettre/").status_code == 405


def test_archived_account_gets_no_letter(client: Client, referent: User, pupil: User) -> None:
    User.objects.filter(pk=pupil.pk).update(
        state=AccountState.ARCHIVED, archived_at=datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)
    )
    client.force_login(referent)
    response = client.post(f"/gestion/comptes/{pupil.pk}/lettre/", follow=True)
    assert "suspendu ou archivé" in text_of(response)
    assert not AuditEvent.objects.of_type(events.ACTIVATION_LETTER_ISSUED).exists()


def test_letters_form_offers_only_the_referents_establishments(
    client: Client, referent: User
) -> None:
    client.force_login(referent)
    page = text_of(client.get("/gestion/lettres/"))
    assert "Collège Victor Hugo" in page
    assert "Lycée Charles Nodier" not in page
    assert 'value="personnels"' not in page


def test_referent_cannot_print_for_another_establishment(client: Client, referent: User) -> None:
    client.force_login(referent)
    nodier = Establishment.objects.get(uai="0390012B")
    response = client.post(
        "/gestion/lettres/", {"establishment": nodier.pk, "audience": LetterAudience.ELEVES}
    )
    assert response.status_code == 400
    assert "Choisissez un établissement que vous gérez" in text_of(response)
    assert not LetterBatch.objects.exists()


def test_referent_cannot_print_staff_letters(client: Client, referent: User) -> None:
    client.force_login(referent)
    college = Establishment.objects.get(uai="0250013D")
    response = client.post(
        "/gestion/lettres/", {"establishment": college.pk, "audience": LetterAudience.PERSONNELS}
    )
    assert response.status_code == 400
    assert not LetterBatch.objects.exists()


def test_unknown_class_is_refused_in_french(client: Client, referent: User) -> None:
    client.force_login(referent)
    college = Establishment.objects.get(uai="0250013D")
    response = client.post(
        "/gestion/lettres/",
        {"establishment": college.pk, "audience": LetterAudience.ELEVES, "division": "9e Z"},
    )
    assert response.status_code == 400
    assert "Aucune classe « 9e Z »" in text_of(response)


def test_referent_prints_a_class_and_downloads_it(
    client: Client, referent: User, invited_pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(referent)
    college = Establishment.objects.get(uai="0250013D")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/gestion/lettres/",
            {"establishment": college.pk, "audience": LetterAudience.ELEVES, "division": "6e A"},
        )
    batch = LetterBatch.objects.get()
    assert response["Location"] == f"/gestion/lettres/{batch.pk}/"
    page = text_of(client.get(response["Location"]))
    assert "1 lettre produite" in page
    assert f"/gestion/lettres/{batch.pk}/pdf/" in page
    download = client.get(f"/gestion/lettres/{batch.pk}/pdf/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert len(PAGE.findall(b"".join(download.streaming_content))) == 1


def test_batch_progress_is_polled_while_it_runs(client: Client, referent: User) -> None:
    college = Establishment.objects.get(uai="0250013D")
    batch = LetterBatch.objects.create(
        establishment=college,
        audience=LetterAudience.ELEVES,
        requested_by=referent,
        state=JobState.RUNNING,
        total=1200,
        done=312,
    )
    client.force_login(referent)
    response = client.get(f"/gestion/lettres/{batch.pk}/", headers={"HX-Request": "true"})
    page = text_of(response)
    assert "<main" not in page  # the partial only
    assert 'hx-trigger="every 2s"' in page
    assert "312 / 1 200 lettres" in page
    assert '<progress class="cv-progress" max="1200" value="312"' in page
    batch.state, batch.done = JobState.DONE, 1200
    batch.save()
    page = text_of(client.get(f"/gestion/lettres/{batch.pk}/", headers={"HX-Request": "true"}))
    assert "hx-trigger" not in page


def test_only_the_requester_or_a_dsi_sees_a_batch(
    client: Client,
    referent: User,
    other_referent: User,
    dsi: User,
    invited_pupil: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    college = Establishment.objects.get(uai="0250013D")
    with django_capture_on_commit_callbacks(execute=True):
        batch = provisioning_actions.request_letter_batch(
            acting_user=referent, establishment=college, audience=LetterAudience.ELEVES
        )
    client.force_login(other_referent)
    assert client.get(f"/gestion/lettres/{batch.pk}/").status_code == 404
    assert client.get(f"/gestion/lettres/{batch.pk}/pdf/").status_code == 404
    client.force_login(dsi)
    assert client.get(f"/gestion/lettres/{batch.pk}/pdf/").status_code == 200


def test_purged_file_is_no_longer_offered(
    client: Client, referent: User, invited_pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    college = Establishment.objects.get(uai="0250013D")
    with django_capture_on_commit_callbacks(execute=True):
        batch = provisioning_actions.request_letter_batch(
            acting_user=referent, establishment=college, audience=LetterAudience.ELEVES
        )
    batch.refresh_from_db()
    LetterBatch.objects.filter(pk=batch.pk).update(
        finished_at=batch.finished_at - datetime.timedelta(days=2)  # type: ignore[operator]
    )
    from convergence.provisioning import letters

    assert letters.purge_stale_letter_files() == 1
    client.force_login(referent)
    response = client.get(f"/gestion/lettres/{batch.pk}/pdf/", follow=True)
    assert "n'est plus disponible" in text_of(response)
