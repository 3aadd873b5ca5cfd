"""Drafts written in the administration: invisible until another person publishes them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

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
