"""The mfa app: second factors on allauth.mfa's seams, the policy and its step-up decisions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MfaConfig(AppConfig):
    name = "convergence.mfa"
    label = "second_factor"  # "mfa" is allauth.mfa's label
    verbose_name = _("Second facteur")

    def ready(self) -> None:
        from convergence.mfa import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            policy,
            receivers,
            seams,
            site_map,
        )

        # Hashed recovery codes everywhere allauth wraps them (seams.install documents why it
        # replaces a module attribute); audit and mail on every factor change; the policy
        # forgets a cached decision when a factor is added or removed.
        seams.install()
        receivers.connect()
        policy.connect()
        personal_data.register()
        site_map.register()

        from convergence.core.blueprints import register_section
        from convergence.mfa.blueprint_sections import load_second_factors

        register_section("people", load_second_factors, order=45)

        from convergence.core import open_urls

        # The second-factor step of sign-in during maintenance; enrolment itself (and the
        # password confirmation it asks first) while a factor must be enrolled.
        open_urls.register("mfa_authenticate", during=(open_urls.During.MAINTENANCE,))
        open_urls.register(
            "account_security", "account_reauthenticate", during=(open_urls.During.ENROLMENT,)
        )
