"""Prometheus metrics (core/metrics.py, audit/metrics.py): who may read /metrics, and what the
portal counts — requests per view, audit events, deferred widgets given up, queued tasks."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django_tasks import task
from prometheus_client import REGISTRY

from convergence.core import metrics, widgets
from tests.helpers import client_of
from tests.helpers import post_sign_in as sign_in

OUTSIDER = "203.0.113.9"
TOKEN = "jeton-de-test-prometheus-0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@task()
def nothing_to_do() -> None:
    """A task for the queue-depth test; never run."""


# --- Who may read /metrics ---------------------------------------------------------------


def test_metrics_are_a_404_from_another_address(client, db):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER)
    assert response.status_code == 404
    assert b"convergence_" not in response.content


def test_a_forwarded_for_header_does_not_open_metrics(client, db):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert response.status_code == 404


def test_metrics_relayed_by_the_local_reverse_proxy_are_a_404(client, db):
    # nginx on the same host connects from 127.0.0.1 whoever the client is.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDER)
    assert response.status_code == 404


def test_metrics_relayed_by_the_proxy_are_served_with_the_bearer_token(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.get(
        "/metrics",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=OUTSIDER,
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert response.status_code == 200


def test_metrics_are_served_with_the_bearer_token(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert response["Cache-Control"] == "no-store"
    assert b"convergence_http_request_duration_seconds" in response.content


def test_a_wrong_token_is_a_404(client, db, settings):
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer devine")
    assert response.status_code == 404


def test_without_a_configured_token_no_token_opens_metrics(client, db, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 404


def test_metrics_answer_during_maintenance_without_the_database(client, settings):
    # No ``db`` fixture: any query fails, as with the database down. /metrics reads neither
    # the session nor the account; the queue depth, read from the database, is left out.
    settings.MAINTENANCE = True
    errors = sample("convergence_metrics_collect_errors_total")
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"convergence_task_queue_depth{" not in response.content
    assert sample("convergence_metrics_collect_errors_total") == errors + 1


# --- What is counted -----------------------------------------------------------------------


def test_a_request_is_timed_under_its_url_name(client, db):
    labels = {"view": "account_login", "method": "GET", "status": "2xx"}
    before = sample("convergence_http_request_duration_seconds_count", **labels)
    assert client.get("/connexion/").status_code == 200
    assert sample("convergence_http_request_duration_seconds_count", **labels) == before + 1


def test_an_unknown_path_is_counted_without_its_path(client, db):
    labels = {"view": "unresolved", "method": "GET", "status": "4xx"}
    before = sample("convergence_http_request_duration_seconds_count", **labels)
    assert client.get("/nulle-part/a1b2c3/").status_code == 404
    assert sample("convergence_http_request_duration_seconds_count", **labels) == before + 1
    assert b"a1b2c3" not in client.get("/metrics").content


def test_a_maintenance_503_made_by_inner_middleware_is_counted(settings, pupil):
    settings.MAINTENANCE = True
    labels = {"view": "unresolved", "method": "GET", "status": "5xx"}
    before = sample("convergence_http_request_duration_seconds_count", **labels)
    assert client_of(pupil).get("/").status_code == 503
    assert sample("convergence_http_request_duration_seconds_count", **labels) == before + 1


def test_a_sign_in_failure_is_counted_by_its_audit_type(client, pupil):
    audited = sample("convergence_audit_events_total", event_type="login.failed")
    failures = sample("convergence_sign_in_failures_total")
    sign_in(client, pupil.login, "Pas-Le-Bon-Mot-De-Passe-1")
    assert sample("convergence_audit_events_total", event_type="login.failed") == audited + 1
    assert sample("convergence_sign_in_failures_total") == failures + 1
    assert b'convergence_audit_events_total{event_type="login.failed"}' in (
        client.get("/metrics").content
    )


def test_a_sign_in_is_counted(client, pupil):
    audited = sample("convergence_audit_events_total", event_type="login.succeeded")
    sign_ins = sample("convergence_sign_ins_total")
    sign_in(client, pupil.login, pupil.demo_password)
    assert sample("convergence_audit_events_total", event_type="login.succeeded") == audited + 1
    assert sample("convergence_sign_ins_total") == sign_ins + 1


def _deferred_widget(context) -> widgets.Widget:
    return widgets.Widget(
        slug="test-metrics",
        template="unused.html",
        context=context,
        kind=widgets.Kind.DEFERRED,
        title="Widget de test",
        timeout_seconds=0.2,
    )


@pytest.fixture
def widget_request():
    return RequestFactory().get("/widgets/test-metrics/")


def test_a_failing_deferred_widget_is_counted(widget_request):
    def fails(request):
        raise ConnectionRefusedError("IMAP down")

    before = sample("convergence_widget_unavailable_total", widget="test-metrics", reason="error")
    with pytest.raises(widgets.Unavailable):
        widgets.deferred_context(_deferred_widget(fails), widget_request)
    after = sample("convergence_widget_unavailable_total", widget="test-metrics", reason="error")
    assert after == before + 1


def test_a_hung_deferred_widget_is_counted_as_a_timeout(widget_request):
    release = threading.Event()

    def hangs(request):
        release.wait(timeout=10)

    labels = {"widget": "test-metrics", "reason": "timeout"}
    before = sample("convergence_widget_unavailable_total", **labels)
    try:
        with pytest.raises(widgets.Unavailable):
            widgets.deferred_context(_deferred_widget(hangs), widget_request)
    finally:
        release.set()
    assert sample("convergence_widget_unavailable_total", **labels) == before + 1


def test_a_deferred_widget_without_a_free_thread_is_counted(widget_request, monkeypatch):
    monkeypatch.setattr(widgets, "_busy", threading.BoundedSemaphore(1))
    widgets._busy.acquire()
    labels = {"widget": "test-metrics", "reason": "saturated"}
    before = sample("convergence_widget_unavailable_total", **labels)
    with pytest.raises(widgets.Unavailable):
        widgets.deferred_context(_deferred_widget(lambda request: {}), widget_request)
    assert sample("convergence_widget_unavailable_total", **labels) == before + 1


def test_the_queue_depth_counts_tasks_waiting_in_the_database(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    before = REGISTRY.get_sample_value("convergence_task_queue_depth", {"queue": "default"})
    assert before is not None  # an empty queue is a 0, not a missing series
    nothing_to_do.enqueue()
    nothing_to_do.enqueue()
    assert sample("convergence_task_queue_depth", queue="default") == before + 2


def test_a_queue_that_cannot_be_read_is_left_out_and_counted(monkeypatch):
    def unreachable():
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(metrics, "queue_depths", unreachable)
    errors = sample("convergence_metrics_collect_errors_total")
    assert not list(metrics.QueueDepthCollector().collect())
    assert sample("convergence_metrics_collect_errors_total") == errors + 1


# --- Several processes ---------------------------------------------------------------------


def test_with_several_processes_the_scrape_reads_their_files(client, settings, tmp_path):
    settings.METRICS_MULTIPROC_DIR = str(tmp_path)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert metrics.registry() is not REGISTRY
    response = client.get("/metrics")
    assert response.status_code == 200


def test_child_exit_forgets_the_dead_workers_live_values(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    dead = tmp_path / "gauge_livesum_4242.db"
    alive = tmp_path / "gauge_livesum_4343.db"
    dead.write_bytes(b"")
    alive.write_bytes(b"")
    metrics.child_exit(server=None, worker=SimpleNamespace(pid=4242))
    assert not dead.exists()
    assert alive.exists()


def test_with_no_address_trusted_even_the_loopback_needs_the_token(client, db, settings):
    settings.METRICS_ALLOWED_ADDRESSES = []
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404
