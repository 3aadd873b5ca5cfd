"""What the devices app tells the apps above it.

``sessions_ended``: a person's sessions were ended from « Mes appareils » (all but the
current one: ``request`` is that browser's) or by an administrator (all of them:
``all_sessions`` True). Receivers forget what those browsers held — the notifications app
their push subscriptions."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with user, request (or None), all_sessions.
sessions_ended = Signal()
