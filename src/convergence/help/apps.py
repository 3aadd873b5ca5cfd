"""The help app: guides (Markdown in content/guides/ and drafts written in the
administration), the guide of every error code, the help search and the troubleshooter."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpConfig(AppConfig):
    name = "convergence.help"
    label = "help"
    verbose_name = _("Aide")

    def ready(self) -> None:
        from convergence.help import troubleshooter

        troubleshooter.register()

        from django.core import checks

        from convergence.core import open_urls
        from convergence.core import search as core_search
        from convergence.help import events, site_map
        from convergence.help import search as help_search
        from convergence.help.checks import check_guides

        del events  # imported for its declarations (audit event types)
        site_map.register()
        core_search.register(help_search.PROVIDER)
        # The guides help most when the rest is closed: maintenance, second-factor enrolment.
        both = (open_urls.During.MAINTENANCE, open_urls.During.ENROLMENT)
        open_urls.register("/aide/", during=both)
        checks.register(check_guides)
