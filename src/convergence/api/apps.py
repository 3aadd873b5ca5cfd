"""The api app: the REST API for services, its OAuth scopes, idempotency and limits."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "convergence.api"
    label = "api"
    verbose_name = _("API des services")

    def ready(self) -> None:
        from convergence.api import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            tasks,
        )
        from convergence.api.blueprint_sections import load_service_api
        from convergence.api.models import granted_scopes
        from convergence.core.blueprints import register_section
        from convergence.core.schedule import register_job
        from convergence.sso import grants

        grants.register_service_scopes(granted_scopes)
        personal_data.register()
        # After sso's pass over ``services`` (55): the OIDC clients exist.
        register_section("services", load_service_api, order=57)
        register_job("purge_idempotent_requests", tasks.purge_idempotent_requests)
