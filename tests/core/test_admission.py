"""Admission control in the application: a request that waited too long behind the reverse
proxy is refused at once, without touching the database or the cache."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from convergence.core.middleware import queue_wait_ms


def shed(page: str) -> float:
    """How many requests admission control refused so far, on the sign-in or other pages."""
    return REGISTRY.get_sample_value("convergence_requests_shed_total", {"page": page}) or 0.0


def _stamp(seconds_ago: float) -> str:
    return f"t={time.time() - seconds_ago:.3f}"


def test_a_request_that_waited_too_long_is_refused_at_once(
    client, pupil, settings, django_assert_num_queries
):
    settings.ADMISSION_MAX_WAIT_MS = 1000
    client.force_login(pupil)
    before = shed("other")
    with django_assert_num_queries(0):
        response = client.get("/", HTTP_X_REQUEST_START=_stamp(1.5))
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "CONV-503" in response.content.decode()
    assert shed("other") == before + 1


def test_a_request_that_did_not_wait_is_served(client, pupil, settings):
    settings.ADMISSION_MAX_WAIT_MS = 1000
    client.force_login(pupil)
    assert client.get("/", HTTP_X_REQUEST_START=_stamp(0.2)).status_code == 200


def test_the_sign_in_may_wait_twice_as_long(client, db, settings):
    settings.ADMISSION_MAX_WAIT_MS = 1000
    before = shed("sign_in")
    assert client.get("/connexion/", HTTP_X_REQUEST_START=_stamp(1.5)).status_code == 200
    assert client.get("/connexion/", HTTP_X_REQUEST_START=_stamp(2.5)).status_code == 503
    assert shed("sign_in") == before + 1


def test_without_the_proxy_stamp_nothing_is_refused(client, pupil, settings):
    settings.ADMISSION_MAX_WAIT_MS = 1
    client.force_login(pupil)
    assert client.get("/").status_code == 200


def test_a_stamp_from_a_clock_far_behind_is_not_taken_for_a_wait(client, pupil, settings):
    """nginx on a host whose clock is a minute late must not get everyone refused."""
    settings.ADMISSION_MAX_WAIT_MS = 1000
    client.force_login(pupil)
    assert client.get("/", HTTP_X_REQUEST_START=_stamp(60)).status_code == 200


def test_admission_control_can_be_turned_off(client, pupil, settings):
    settings.ADMISSION_MAX_WAIT_MS = 0
    client.force_login(pupil)
    assert client.get("/", HTTP_X_REQUEST_START=_stamp(5)).status_code == 200


@pytest.mark.parametrize("stamp", ["", "t=", "t=abc", "t=nan", "t=inf", "garbage"])
def test_an_unreadable_stamp_is_ignored(stamp):
    assert queue_wait_ms(stamp) is None


def test_a_stamp_from_the_future_counts_as_no_wait():
    assert queue_wait_ms(f"t={time.time() + 30:.3f}") == 0.0


def test_nginx_msec_stamps_are_read():
    waited = queue_wait_ms(_stamp(0.25))
    assert waited is not None
    assert 200 < waited < 5000
