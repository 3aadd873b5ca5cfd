"""The help app: guides (Markdown in content/guides/ and drafts written in the
administration), the guide of every error code, the help search and the troubleshooter."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpConfig(AppConfig):
    name = "convergence.help"
    label = "help"
    verbose_name = _("Aide")

    def ready(self) -> None:
        pass
