"""Support contacts in the administration: French labels, hours and exceptions inline."""

from __future__ import annotations

from convergence.support.models import SupportContact
from tests.helpers import text_of


def test_the_dsi_edits_a_contact_with_its_hours_and_exceptions(client, dsi):
    client.force_login(dsi)
    listing = text_of(client.get("/administration/support/supportcontact/"))
    assert "Support DSI académique" in listing
    contact = SupportContact.objects.get(slug="support-dsi")
    page = text_of(client.get(f"/administration/support/supportcontact/{contact.pk}/change/"))
    for label in ("Horaires d'ouverture", "Exceptions aux horaires", "Fermé pendant les vacances"):
        assert label.lower() in page.lower()
