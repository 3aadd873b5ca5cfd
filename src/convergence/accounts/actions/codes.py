"""One-time codes (activation, reset, confirmation) once they serve no one."""

from __future__ import annotations

import datetime

from django.utils import timezone

from convergence.accounts.models import OneTimeCode

# A code stays a little after its expiry, so that "this code has expired" can still be told.
EXPIRED_CODE_GRACE = datetime.timedelta(days=1)


def purge_expired_codes(*, now: datetime.datetime | None = None) -> int:
    """Delete one-time codes expired for more than a day (their digests serve no one).

    Returns the number of codes deleted.
    """
    moment = now or timezone.now()
    deleted, _by_model = OneTimeCode.objects.filter(
        expires_at__lt=moment - EXPIRED_CODE_GRACE
    ).delete()
    return deleted
