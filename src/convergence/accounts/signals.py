"""Signals other apps listen to, so that accounts never imports them."""

from django.dispatch import Signal

# Sent inside the transaction that moves an active account to another state.
# Arguments: user, request (or None).
account_deactivated = Signal()
