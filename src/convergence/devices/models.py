"""Portal sessions in the database, each with the device "Mes appareils" shows for it.

One row per session (signed in or not): Django's session columns plus the account and what is
known of the browser. The session store (``devices/sessions/db.py``) fills these columns from
the session's own data at every save, so a sign-in writes this one row and nothing else.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession, BaseSessionManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.core.http import USER_AGENT_MAX


class DeviceSessionQuerySet(models.QuerySet["DeviceSession"]):
    def signed_in_as(self, user: Any) -> DeviceSessionQuerySet:
        """The unexpired sessions signed in to ``user``'s account."""
        return self.filter(user=user, expire_date__gt=timezone.now())


class DeviceSessionManager(BaseSessionManager.from_queryset(DeviceSessionQuerySet)):  # type: ignore[misc]
    pass


class DeviceSession(AbstractBaseSession):
    """A portal session, with the account it signs in to and the device it was seen from."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compte"),
    )
    ip = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    user_agent = models.CharField(_("navigateur"), max_length=USER_AGENT_MAX, blank=True)
    created_at = models.DateTimeField(_("connexion"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("dernière activité"), default=timezone.now)

    objects: ClassVar[DeviceSessionManager] = DeviceSessionManager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
