"""Audit event types of provisioning: letters, imports, rentrée, departures and purges."""

from django.utils.translation import gettext_lazy as _

from convergence.audit.events import declare

IMPORT_RUN = declare("import.run", _("Import de comptes"))
SCHOOL_YEAR_CLOSED = declare("school_year.closed", _("Année scolaire close"))
ACCOUNT_ARCHIVED = declare("account.archived", _("Compte archivé (départ)"))
PERSONAL_DATA_PURGED = declare("account.purged", _("Données personnelles supprimées"))
