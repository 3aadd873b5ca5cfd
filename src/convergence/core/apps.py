"""The core app: académie, departments, establishments, base templates, error pages."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "convergence.core"
    label = "core"
    verbose_name = _("Académie")

    def ready(self) -> None:
        from django.core import checks

        from . import blueprint_sections as sections
        from .blueprints import register_section
        from .ratelimit import check_atomic_cache

        register_section("academie", sections.load_academie, order=10)
        register_section("departments", sections.load_departments, order=20)
        register_section("establishments", sections.load_establishments, order=30)
        checks.register(check_atomic_cache)
