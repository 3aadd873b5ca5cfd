"""`manage.py sso_purge`: expired tickets, codes and SSO sessions leave the database."""

from __future__ import annotations

import datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from convergence.sso.models import Acr, CasTicket, SsoSession, TicketKind, digest


def make_session(user: Any, *, created: datetime.datetime) -> SsoSession:
    return SsoSession.objects.create(
        user=user, auth_time=created, acr=Acr.PASSWORD, issuer="http://x/oidc", created=created
    )


@pytest.mark.django_db
def test_purge_keeps_what_is_alive_and_removes_the_rest(teacher: Any) -> None:
    now = timezone.now()
    alive = make_session(teacher, created=now)
    stale = make_session(teacher, created=now - datetime.timedelta(days=3))
    ended_long_ago = make_session(teacher, created=now - datetime.timedelta(days=60))
    SsoSession.objects.filter(pk=ended_long_ago.pk).update(
        ended_at=now - datetime.timedelta(days=45), ended_reason="logout"
    )
    for name, expires in (
        ("fresh", now + datetime.timedelta(seconds=10)),
        ("old", now - datetime.timedelta(days=2)),
    ):
        CasTicket.objects.create(
            ticket_digest=digest(name),
            kind=TicketKind.SERVICE,
            service_url="https://ent.exemple.fr/",
            user=teacher,
            expires=expires,
        )

    output = StringIO()
    call_command("sso_purge", stdout=output)

    assert "Tickets CAS supprimés : 1" in output.getvalue()
    assert list(CasTicket.objects.values_list("ticket_digest", flat=True)) == [digest("fresh")]
    alive.refresh_from_db()
    stale.refresh_from_db()
    assert alive.ended_at is None
    assert stale.ended_reason == "expired"
    assert not SsoSession.objects.filter(pk=ended_long_ago.pk).exists()
