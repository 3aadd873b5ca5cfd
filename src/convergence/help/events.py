"""Audit event types of the help app: the life of a guide written in the administration."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

GUIDE_SUBMITTED = declare("help.guide_submitted", _("Guide d'aide soumis à relecture"))
GUIDE_PUBLISHED = declare("help.guide_published", _("Guide d'aide publié"))
GUIDE_WITHDRAWN = declare("help.guide_withdrawn", _("Guide d'aide retiré de la publication"))
