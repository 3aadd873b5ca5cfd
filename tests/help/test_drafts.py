"""Drafts written in the administration: invisible until another person publishes them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission

from convergence.audit import events as audit_events
from convergence.audit.models import AuditEvent
from convergence.help import actions
from convergence.help.models import Guide, GuideStatus


@pytest.fixture
def draft(db, referent, library):
    return Guide.objects.create(
        slug="guide-du-college",
        title="Guide du collège Victor Hugo",
        summary="Les services du collège.",
        body="Le **cahier de textes** est dans l'ENT.",
        author=referent,
    )


@pytest.fixture
def publisher(dsi):
    dsi.user_permissions.add(Permission.objects.get(codename="publish_guide"))
    return type(dsi).objects.get(pk=dsi.pk)


def test_draft_is_invisible_until_published(client, draft, referent, publisher):
    from convergence.help import search

    assert client.get("/aide/guides/guide-du-college/").status_code == 404
    assert search.search("cahier") == []
    actions.submit_guide_for_review(guide=draft, acting_user=referent)
    assert client.get("/aide/guides/guide-du-college/").status_code == 404
    with pytest.raises(actions.GuideWorkflowError):
        actions.publish_guide(guide=draft, acting_user=referent)
    with pytest.raises(actions.GuideWorkflowError):  # rights, not only another person
        actions.publish_guide(guide=draft, acting_user=type(referent).objects.get(login="lmartin"))


@pytest.mark.django_db(transaction=True)
def test_publishing_is_audited_and_indexed(client, referent, publisher, library):
    from convergence.help import search

    draft = Guide.objects.create(
        slug="mot-de-passe-oublie",
        title="Mot de passe oublié (corrigé)",
        summary="Version corrigée.",
        body="Le **cahier de textes** est dans l'ENT.",
        author=referent,
    )
    actions.submit_guide_for_review(guide=draft, acting_user=referent)
    actions.publish_guide(guide=draft, acting_user=publisher)
    draft.refresh_from_db()
    assert draft.status == GuideStatus.PUBLISHED and draft.reviewer == publisher
    page = client.get("/aide/guides/mot-de-passe-oublie/").content.decode()
    assert "Mot de passe oublié (corrigé)" in page  # the draft overrides the file
    assert [hit.slug for hit in search.search("cahier")] == ["mot-de-passe-oublie"]
    events = AuditEvent.objects.filter(event_type__startswith="help.").order_by("pk")
    assert [event.event_type for event in events] == [
        "help.guide_submitted",
        "help.guide_published",
    ]
    assert events.last().actor == publisher


# --- the administration's form: checkboxes and a line of keywords, never JSON -------------

GUIDES = "/administration/help/guide/"


@pytest.fixture
def admin_client(client, dsi):
    client.force_login(dsi)
    return client


def form_data(**changes):
    data = {
        "slug": "messagerie-du-college",
        "title": "La messagerie du collège",
        "summary": "Écrire aux professeurs.",
        "body": "Ouvrez la **messagerie**.",
        "profiles": ["parent", "eleve"],
        "tags": " messagerie, mail ,, Messagerie, mot de passe , ",
        "error_codes": ["CONV-403", "CONV-404"],
        "variant_of": "",
        "order": "100",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_add_form_stores_checked_profiles_and_comma_tags_as_lists(admin_client, dsi, library):
    response = admin_client.post(f"{GUIDES}add/", form_data())
    assert response.status_code == 302, response.context["adminform"].form.errors
    guide = Guide.objects.get(slug="messagerie-du-college")
    assert guide.profiles == ["eleve", "parent"]
    assert guide.tags == ["messagerie", "mail", "mot de passe"]
    assert guide.error_codes == ["CONV-403", "CONV-404"]
    assert guide.status == GuideStatus.DRAFT and guide.author == dsi


def test_admin_change_form_clears_the_lists_when_nothing_is_checked(admin_client, draft):
    data = form_data(slug=draft.slug, profiles=None, error_codes=None, tags="")
    response = admin_client.post(f"{GUIDES}{draft.pk}/change/", data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.profiles, draft.tags, draft.error_codes) == ([], [], [])


def test_admin_form_refuses_an_unknown_error_code(admin_client, library):
    response = admin_client.post(f"{GUIDES}add/", form_data(error_codes=["CONV-999"]))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["error_codes"] == ["Code d'erreur inconnu : CONV-999."]
    assert not Guide.objects.filter(slug="messagerie-du-college").exists()


def test_admin_form_refuses_an_unknown_profile(admin_client, library):
    response = admin_client.post(f"{GUIDES}add/", form_data(profiles=["directeur"]))
    assert response.context["adminform"].form.errors["profiles"] == ["Profil inconnu : directeur."]


def test_admin_change_form_shows_the_current_values(admin_client, draft):
    draft.profiles = ["personnel"]
    draft.tags = ["cahier de textes", "ENT"]
    draft.error_codes = ["conv-404"]  # written by hand before the form: lower case
    draft.save()
    page = admin_client.get(f"{GUIDES}{draft.pk}/change/").content.decode()
    assert re.search(r'<input[^>]*value="personnel"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="eleve"[^>]*checked', page)
    assert re.search(r'<input[^>]*value="CONV-404"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="CONV-403"[^>]*checked', page)
    assert 'value="cahier de textes, ENT"' in page
    assert "CONV-404 — Page introuvable" in page
    assert "Mots-clés, séparés par des virgules" in page


def test_admin_change_of_a_draft_is_still_audited(admin_client, dsi, draft):
    response = admin_client.post(f"{GUIDES}{draft.pk}/change/", form_data(slug=draft.slug))
    assert response.status_code == 302
    (event,) = AuditEvent.objects.of_type(audit_events.ADMIN_CHANGE)
    assert event.actor == dsi
    assert event.data["model"] == "help.guide"
    assert event.data["action"] == "change"
    assert event.data["object_id"] == str(draft.pk)


def test_guide_in_review_is_shown_read_only(admin_client, draft, referent):
    draft.profiles = ["parent"]
    draft.save()
    actions.submit_guide_for_review(guide=draft, acting_user=referent)
    response = admin_client.get(f"{GUIDES}{draft.pk}/change/")
    assert response.status_code == 200
    assert not response.context["adminform"].form.fields
    assert 'name="profiles"' not in response.content.decode()
