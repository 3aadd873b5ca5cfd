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
        from convergence.sso import (
            errors,  # noqa: F401  (declares its error codes)
            receivers,  # noqa: F401  (connects signal receivers)
        )
        from convergence.sso.blueprint_sections import load_server_clients, load_service_sso
        from convergence.sso.csp import form_action_origins
        from convergence.sso.signing import check_signing_algorithms

        register_form_action_source(form_action_origins)
        register_section("services", load_service_sso, order=55)
        register_section("server_clients", load_server_clients, order=56)
        checks.register(check_signing_algorithms, checks.Tags.database)

        from convergence.sso import personal_data, site_map

        personal_data.register()
        site_map.register()

        from convergence.core import open_urls

        # Signing out of the services is never blocked by the enrolment policy.
        open_urls.register(
            "oauth2_provider:rp-initiated-logout",
            "cas:logout",
            during=(open_urls.During.ENROLMENT,),
        )

        from convergence.core.schedule import register_job
        from convergence.sso import tasks

        register_job("purge_single_sign_on", tasks.purge_single_sign_on)
