"""What collectstatic collects, and how it stores it for production.

In production ``collectstatic`` writes every file under a name carrying a hash of its content
(``dsfr.main.min.48ca52240952.css``) with ``.gz`` and ``.br`` copies beside it, so that nginx
(``gzip_static``) and WhiteNoise send it compressed and browsers may keep it a year: a new
release changes the name of every file it changes (docs/deployment.md, "Static files").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.contrib.staticfiles import finders
from django.core.files.storage import Storage

# WhiteNoise ships no type information.
from whitenoise.storage import CompressedManifestStaticFilesStorage  # type: ignore[import-untyped]

# The copies of the DSFR no page names: its parts one by one (``component/``, ``core/``…,
# each also inside the bundle the pages load) and the bundle's duplicate at the top of
# ``dist/``. Without them collectstatic hashes and compresses 40 % less at each deployment.
UNUSED_DSFR_FILES = [
    *(
        f"dsfr/dist/{part}/*"
        for part in ("analytics", "component", "core", "layout", "legacy", "scheme")
    ),
    "dsfr/dist/utility/colors/*",
    "dsfr/dist/utility/icons/icons-*",
    "dsfr/dist/utility/pictograms/*",
    "dsfr/dist/dsfr.*",
    "dsfr/dist/*.md",
]


class AppDirectoriesFinder(finders.AppDirectoriesFinder):
    """Django's finder of the apps' static files, whose listing (what collectstatic copies)
    leaves out :data:`UNUSED_DSFR_FILES`. Finding one file by name is unchanged.
    ``tests/core/test_static_files.py`` checks that every file a template names is listed.
    """

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, Storage]]:
        yield from super().list([*(ignore_patterns or []), *UNUSED_DSFR_FILES])


class CompressedManifestStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """WhiteNoise's compressed manifest storage, with one change: a name missing from the
    manifest is served under its own name instead of raising.

    Django's manifest storage raises ``ValueError`` for a file ``collectstatic`` did not
    collect, which makes every page naming it a 500 — a third-party template naming a file
    its package does not ship would take the portal down. Under its own name the file is a
    404 on its own, and the page stands. ``tests/core/test_static_files.py`` checks that the
    templates name no such file.
    """

    def stored_name(self, name: str) -> str:
        try:
            return str(super().stored_name(name))
        except ValueError:
            return name
