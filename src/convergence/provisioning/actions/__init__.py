"""Every write of provisioning: imports, activation letters, rentrée, departures, their purge."""

from convergence.provisioning.actions.imports import (
    ImportRefused,
    apply_import_job,
    create_import_job,
    execute_import_job,
    resume_import_job,
)
from convergence.provisioning.actions.letters import (
    reprint_activation_letter,
    request_letter_batch,
)
from convergence.provisioning.actions.lifecycle import (
    SchoolYearClosing,
    SchoolYearError,
    archive_account,
    close_school_year,
    preview_school_year_closing,
    purge_departed_accounts,
)

__all__ = [
    "ImportRefused",
    "SchoolYearClosing",
    "SchoolYearError",
    "apply_import_job",
    "archive_account",
    "close_school_year",
    "create_import_job",
    "execute_import_job",
    "preview_school_year_closing",
    "purge_departed_accounts",
    "reprint_activation_letter",
    "request_letter_batch",
    "resume_import_job",
]
