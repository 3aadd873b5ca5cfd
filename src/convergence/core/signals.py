"""Signals of core that the apps above it listen to, so that core never imports them."""

from django.dispatch import Signal

# Sent by ``admin.AuditedModelAdmin`` for each addition, change or deletion in the
# administration. Arguments: request, obj, action ("addition", "change" or "deletion").
admin_changed = Signal()
