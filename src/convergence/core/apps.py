"""The core app: académie, departments, establishments, base templates, error pages."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "convergence.core"
    label = "core"
    verbose_name = _("Académie")

    def ready(self) -> None:
        from django.core import checks
        from django_tasks.signals import task_finished

        from convergence.core import blueprint_sections as sections
        from convergence.core.blueprints import register_section
        from convergence.core.ratelimit import check_atomic_cache
        from convergence.core.schedule import record_finish

        register_section("academie", sections.load_academie, order=10)
        register_section("departments", sections.load_departments, order=20)
        register_section("establishments", sections.load_establishments, order=30)
        checks.register(check_atomic_cache)

        from convergence.core import errors, open_urls, search, sitemap

        # The one search (core/search.py): the pages of the site map, the error codes.
        search.register(search.Provider("pages", _("Pages du portail"), sitemap.find, order=50))
        search.register(search.Provider("help", _("Aide"), errors.find, order=90))

        # Error-code explanations stay readable in both situations; the administration lets
        # the DSI work during maintenance (it checks staff rights itself).
        both = (open_urls.During.MAINTENANCE, open_urls.During.ENROLMENT)
        open_urls.register("error_codes", during=both)
        open_urls.register("/administration/", during=(open_urls.During.MAINTENANCE,))
        # What a public site owes stays readable whatever happens (legal notice, personal
        # data, accessibility statement, site map), with core's entries in their registries.
        open_urls.register(
            "legal_notice", "personal_data_notice", "accessibility", "site_map", during=both
        )
        from convergence.core import legal

        legal.register()
        # When the worker finishes a scheduled job, its row says so (``last_finished_at``).
        task_finished.connect(record_finish, dispatch_uid="schedule_record_finish")

        from django.db.models.signals import post_migrate

        from convergence.core.receivers import rename_permissions

        # Permissions named in French after every migrate (core/receivers.py).
        post_migrate.connect(rename_permissions, dispatch_uid="core_rename_permissions")
