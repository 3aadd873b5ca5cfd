"""Signals other apps listen to, so that accounts never imports them."""

from django.dispatch import Signal

# Sent inside the transaction that moves an active account to another state.
# Arguments: user, request (or None).
account_deactivated = Signal()

# Sent inside the transaction that resets an account's password (the person's own reset or
# a référent's), so that every session of the account ends. Arguments: user, request (or
# None). Each receiver returns how many sessions it ended; the reset's audit row says the sum.
account_password_reset = Signal()
