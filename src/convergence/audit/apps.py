"""The audit app: the append-only trail of security events."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "convergence.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self) -> None:
        from convergence.audit import personal_data, receivers, tasks
        from convergence.core.schedule import register_job
        from convergence.core.signals import admin_changed

        admin_changed.connect(receivers.record_admin_change, dispatch_uid="audit_admin_change")
        register_job("purge_old_audit_events", tasks.purge_old_audit_events)
        personal_data.register()
