"""The issue's "done when", against the demo ENT itself: the worker's rounds find it answering,
then stopped (its tile and /statut/ say « Indisponible », a draft incident waits for the DSI),
then started again (« Opérationnel », the draft closed). The rounds are run with the clock
of the demo's own settings, so the time it takes is the demo's, without sleeping; and the
demo's settings are checked to say "within two minutes" at worst."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import timezone

from convergence.status import probing, snapshot
from convergence.status.models import Incident, Probe
from demo.ent import EntApp
from demo.web import bind_demo_server
from tests.helpers import text_of

# The scheduler's check in the demo (rundemo: run_scheduled --loop --interval 5).
DEMO_SCHEDULER_SECONDS = 5


class DemoEnt:
    """The demo ENT served on a fixed port of its own, which can be stopped and started."""

    def __init__(self) -> None:
        self.port = 0
        self._server = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        server = bind_demo_server("127.0.0.1", self.port)
        self.port = server.server_port
        server.set_app(
            EntApp(base_url=f"http://127.0.0.1:{self.port}/", portal_url="http://127.0.0.1:1")
        )
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)


@pytest.fixture
def demo_ent(demo) -> Iterator[DemoEnt]:
    ent = DemoEnt()
    ent.start()
    Probe.objects.filter(service__slug="ent").update(target=f"http://127.0.0.1:{ent.port}/")
    Probe.objects.exclude(service__slug="ent").update(is_enabled=False)
    try:
        yield ent
    finally:
        ent.stop()


def _rounds_until(state: str, start: dt.datetime, probe: Probe) -> dt.datetime:
    """Run the worker's rounds as the demo's schedule would, until ``probe`` settles on
    ``state``; the moment it did."""
    moment = start
    step = dt.timedelta(seconds=settings.STATUS_ROUND_SECONDS)
    for _round in range(20):
        moment += step
        probing.run_round(now=moment)
        probe.refresh_from_db()
        if probe.state == state:
            return moment
    raise AssertionError(f"the probe never became {state}")


def test_stopping_the_demo_ent_makes_it_unavailable_then_operational_again(
    client, demo_ent, teacher
):
    probe = Probe.objects.get(service__slug="ent")
    started = timezone.now()
    _rounds_until("up", started, probe)
    client.force_login(teacher)
    assert "Opérationnel" in text_of(client.get("/statut/"))

    demo_ent.stop()
    stopped_at = probe.last_checked_at
    assert stopped_at is not None
    went_down = _rounds_until("down", stopped_at, probe)
    # Rounds come every STATUS_ROUND_SECONDS, up to the scheduler's check late.
    worst = (went_down - stopped_at) + dt.timedelta(
        seconds=probe.interval_seconds + DEMO_SCHEDULER_SECONDS
    )
    assert worst <= dt.timedelta(minutes=2), worst
    snapshot.forget()
    page = text_of(client.get("/statut/"))
    assert "Indisponible" in page
    dashboard = client.get("/")
    assert "Service indisponible : ENT Éclat-BFC." in text_of(dashboard)
    draft = Incident.objects.drafts().get()
    assert draft.opened_automatically
    assert list(draft.services.values_list("slug", flat=True)) == ["ent"]

    demo_ent.start()
    _rounds_until("up", went_down, probe)
    snapshot.forget()
    assert "Opérationnel" in text_of(client.get("/statut/"))
    draft.refresh_from_db()
    assert draft.resolved_at is not None
    assert not Incident.objects.drafts().exists()
