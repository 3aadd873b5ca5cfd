from django.apps import AppConfig


class SsoConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "convergence.sso"
    label = "sso"
    verbose_name = "Authentification unique"

    def ready(self) -> None:
        from django.core import checks

        from convergence.core.blueprints import register_section
        from convergence.core.middleware import register_form_action_source

        from . import receivers  # noqa: F401  (connects signal receivers)
        from .blueprint_sections import load_server_clients, load_service_sso
        from .csp import form_action_origins
        from .signing import check_signing_algorithms

        register_form_action_source(form_action_origins)
        register_section("services", load_service_sso, order=55)
        register_section("server_clients", load_server_clients, order=56)
        checks.register(check_signing_algorithms, checks.Tags.database)
