"""The audit app: the append-only trail of security events."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "convergence.audit"
    label = "audit"
    verbose_name = _("Audit")
