"""Maintenance mode: a 503 page with its code for everyone but staff; sign-in stays open."""

from __future__ import annotations

import pytest


@pytest.fixture
def maintenance(settings):
    settings.MAINTENANCE = True


def test_pupil_gets_503_with_code_during_maintenance(maintenance, client, pupil):
    client.force_login(pupil)
    response = client.get("/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "600"
    assert "CONV-503" in response.content.decode()


def test_sign_in_page_stays_open_during_maintenance(maintenance, client, demo):
    assert client.get("/connexion/").status_code == 200


def test_staff_get_through_during_maintenance(maintenance, client, dsi):
    client.force_login(dsi)
    assert client.get("/").status_code == 200


def test_no_maintenance_page_outside_maintenance(client, pupil):
    client.force_login(pupil)
    assert client.get("/").status_code == 200
