"""What the rest of the portal shows of service status: each tile's state in words, the notices
of the sign-in page and of the dashboard (targeted: a pupil is not told about Arena), and the
link from the 503 page to the status page."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.utils import timezone

from convergence.portal.models import Service
from convergence.status import actions, snapshot
from convergence.status.models import Probe, ProbeState
from tests.helpers import text_of


def _set_state(slug: str, state: str) -> None:
    Probe.objects.filter(service__slug=slug).update(state=state, state_since=timezone.now())
    snapshot.refresh(with_history=True)


def _tile(response, slug: str) -> str:
    content = response.content.decode()
    start = content.index(f'id="service-{slug}"')
    following = content.find('id="service-', start + 1)
    end = following if following != -1 else content.index("</section>", start)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", content[start:end])))


@pytest.fixture
def probed(demo):
    """The demo's ENT and Arena probes, both answering."""
    Probe.objects.update(state=ProbeState.UP, state_since=timezone.now())
    snapshot.refresh(with_history=True)


def test_each_monitored_tile_says_its_state_in_words(client, teacher, probed):
    client.force_login(teacher)
    _set_state("ent", ProbeState.DOWN)
    response = client.get("/")
    assert "Indisponible" in _tile(response, "ent")
    assert "État :" in _tile(response, "ent")  # read out before the state
    assert "Opérationnel" in _tile(response, "arena")
    # A service nobody measures claims nothing.
    assert "Opérationnel" not in _tile(response, "vie-scolaire")


def test_the_tile_changes_as_soon_as_the_state_does(client, teacher, probed):
    """The catalogue is cached whole; its key holds the states' version."""
    client.force_login(teacher)
    assert "Opérationnel" in _tile(client.get("/"), "ent")
    _set_state("ent", ProbeState.SLOW)
    assert "Perturbé" in _tile(client.get("/"), "ent")


def test_the_dashboard_names_only_the_services_the_person_uses(client, pupil, teacher, probed):
    _set_state("arena", ProbeState.DOWN)
    client.force_login(pupil)
    assert "Arena" not in text_of(client.get("/")).split("Bonjour")[1].split("Mes favoris")[0]
    client.force_login(teacher)
    notice = text_of(client.get("/")).split("Bonjour")[1].split("Mes favoris")[0]
    assert "Service indisponible : Arena." in notice
    assert "Voir l'état des services" in notice


def test_the_sign_in_page_tells_everyone_what_is_down(client, probed):
    page = text_of(client.get("/connexion/"))
    assert "indisponible" not in page
    _set_state("ent", ProbeState.DOWN)
    # The sign-in page of a fresh browser is cached whole: keyed by the notices' version.
    page = text_of(client.get("/connexion/"))
    assert "Service indisponible : ENT Éclat-BFC." in page


def test_a_planned_maintenance_is_announced_to_the_people_concerned(client, teacher, pupil, probed):
    start = timezone.now() + dt.timedelta(days=2)
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour de l'ENT",
        message="L'ENT sera arrêté deux heures.",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        services=[Service.objects.get(slug="ent")],
        despite_busy_periods=True,
    )
    snapshot.refresh()
    client.force_login(teacher)
    assert "Maintenance prévue : Mise à jour de l'ENT" in text_of(client.get("/"))
    arena_window = Service.objects.get(slug="arena")
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour d'Arena",
        message="Arena sera arrêté.",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        services=[arena_window],
        despite_busy_periods=True,
    )
    snapshot.refresh()
    client.force_login(pupil)
    page = text_of(client.get("/"))
    assert "Mise à jour de l'ENT" in page
    assert "Mise à jour d'Arena" not in page


def test_a_maintenance_in_progress_shows_on_tiles_and_notices(client, teacher, probed):
    now = timezone.now()
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour de l'ENT",
        message="L'ENT est arrêté deux heures.",
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=2),
        services=[Service.objects.get(slug="ent")],
        despite_busy_periods=True,
    )
    snapshot.refresh()
    client.force_login(teacher)
    response = client.get("/")
    assert "En maintenance" in _tile(response, "ent")
    assert "Service en maintenance : ENT Éclat-BFC." in text_of(response)


def test_a_declared_incident_shows_without_any_probe_failing(client, teacher, probed, dsi):
    actions.open_incident(
        acting_user=dsi,
        title="Lenteurs de l'ENT",
        impact="perturbe",
        services=[Service.objects.get(slug="ent")],
        message="Les pages de l'ENT s'affichent lentement.",
    )
    snapshot.refresh()
    client.force_login(teacher)
    assert "Perturbé" in _tile(client.get("/"), "ent")


def test_no_snapshot_yet_shows_no_state_and_no_error(client, teacher):
    client.force_login(teacher)
    response = client.get("/")
    assert response.status_code == 200
    assert "Opérationnel" not in text_of(response)


def test_the_503_page_links_to_the_status_page(client, demo, settings):
    settings.MAINTENANCE = True
    response = client.get("/compte/")
    assert response.status_code == 503
    assert 'href="/statut/"' in response.content.decode()
