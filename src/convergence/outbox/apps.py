"""The outbox app: one adapter per channel that reaches people (e-mail, SMS), with timeouts."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "convergence.outbox"
    label = "outbox"
    verbose_name = _("Envois")
