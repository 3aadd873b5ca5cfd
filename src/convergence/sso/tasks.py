"""Background work of single sign-on: delivering logouts to services, with retries, and the
daily housekeeping."""

from __future__ import annotations

import datetime
import io

from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from convergence.audit.actions import record_event
from convergence.sso import events
from convergence.sso.logout import DeliveryError, deliver
from convergence.sso.models import LogoutState, Participation

# Waits between attempts, in seconds; the last one is repeated if more attempts are allowed.
RETRY_DELAYS = (5, 30, 120, 600)


@task()
def deliver_logouts(participation_ids: list[int]) -> None:
    """Tell each service of the logout; failures are retried later, never raised."""
    pending = Participation.objects.filter(
        pk__in=participation_ids, logout_state=LogoutState.PENDING
    ).select_related("sso_session", "oidc_client__application", "cas_service__service")
    retry: list[int] = []
    for participation in pending:
        Participation.objects.filter(pk=participation.pk).update(
            logout_attempts=F("logout_attempts") + 1
        )
        attempts = participation.logout_attempts + 1
        try:
            deliver(participation)
        except DeliveryError as error:
            if attempts >= settings.SSO_LOGOUT_ATTEMPTS:
                Participation.objects.filter(pk=participation.pk).update(
                    logout_state=LogoutState.FAILED, logout_error=str(error)[:300]
                )
                record_event(
                    event_type=events.LOGOUT_FAILED,
                    subject=participation.sso_session.user,
                    data={"participation": participation.pk, "error": str(error)[:200]},
                )
            else:
                Participation.objects.filter(pk=participation.pk).update(
                    logout_error=str(error)[:300]
                )
                retry.append(participation.pk)
            continue
        Participation.objects.filter(pk=participation.pk).update(
            logout_state=LogoutState.SENT, logout_error=""
        )
    if retry and deliver_logouts.get_backend().supports_defer:
        attempt = min(
            Participation.objects.filter(pk__in=retry).values_list("logout_attempts", flat=True)
        )
        delay = RETRY_DELAYS[min(attempt - 1, len(RETRY_DELAYS) - 1)]
        deliver_logouts.using(run_after=timezone.now() + datetime.timedelta(seconds=delay)).enqueue(
            participation_ids=retry
        )


@task()
def purge_single_sign_on() -> None:
    """Single sign-on's own housekeeping (expired tickets, codes, tokens, sessions)."""
    # Through ``manage.py sso_purge``: importing ``sso.actions`` here would close an import
    # cycle (its single logout enqueues ``deliver_logouts`` from this module).
    call_command("sso_purge", stdout=io.StringIO())
