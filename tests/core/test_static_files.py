"""Static files in production: hashed names that never break a page, the DSFR parts the pages
use, and the icon subset kept in step with the templates (core/staticfiles.py, core/icons.py).

What a browser downloads is weighed in tests/e2e/test_page_weight.py.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template import Context, Template
from dsfr.constants import DsfrStaticAssets

from convergence.core import icons
from convergence.core.staticfiles import CompressedManifestStorage

ROOT = Path(__file__).resolve().parent.parent.parent
STATIC_NAME = re.compile(r"""{%\s*static\s+(['"])([^'"]+)\1""")
PRODUCTION_STORAGE = "convergence.core.staticfiles.CompressedManifestStorage"


def collected() -> set[str]:
    """The files collectstatic copies, with the ignore patterns it uses."""
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    return {path for finder in finders.get_finders() for path, _ in finder.list(ignore)}


def template_dirs() -> list[Path]:
    return [Path(config.path) / "templates" for config in apps.get_app_configs()]


def manifest(root: Path, paths: dict[str, str]) -> None:
    (root / "staticfiles.json").write_text(json.dumps({"version": "1.1", "paths": paths}))


def test_production_serves_hashed_compressed_files_it_collected(tmp_path):
    env = {
        **os.environ,
        "CONVERGENCE_PRODUCTION": "1",
        "SECRET_KEY": "clé-de-test",
        "ALLOWED_HOSTS": "portail.ac-exemple.fr",
        "CONVERGENCE_OFFICIAL_HOST": "portail.ac-exemple.fr",
        "CONVERGENCE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "convergence.settings",
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    env.pop("DJANGO_DEBUG", None)
    script = (
        "from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'], settings.WHITENOISE_USE_FINDERS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == [PRODUCTION_STORAGE, "False"]


def test_a_file_in_the_manifest_is_named_by_its_hash(tmp_path):
    manifest(tmp_path, {"core/convergence.css": "core/convergence.0123456789ab.css"})
    storage = CompressedManifestStorage(location=tmp_path, base_url="/static/")
    assert storage.url("core/convergence.css") == "/static/core/convergence.0123456789ab.css"


def test_a_file_missing_from_the_manifest_keeps_its_name_instead_of_breaking_the_page(tmp_path):
    manifest(tmp_path, {"core/convergence.css": "core/convergence.0123456789ab.css"})
    storage = CompressedManifestStorage(location=tmp_path, base_url="/static/")
    assert storage.url("ailleurs/absent.js") == "/static/ailleurs/absent.js"


def test_every_static_file_a_template_names_is_collected():
    names = {
        (str(path.relative_to(directory)), match.group(2))
        for directory in template_dirs()
        if directory.is_dir()
        for path in directory.rglob("*.html")
        for match in STATIC_NAME.finditer(path.read_text(encoding="utf-8", errors="ignore"))
    }
    # django-dsfr's tags name theirs through constants; {% icon_stylesheet %} names one too.
    names |= {
        ("dsfr tags", value)
        for name, value in vars(DsfrStaticAssets).items()
        if not name.startswith("_")
    }
    names.add(("icon_stylesheet", icons.DSFR_ICONS))
    available = collected()
    assert {(template, name) for template, name in names if name not in available} == set()


def test_the_dsfr_copies_no_page_names_are_not_collected():
    available = collected()
    assert "dsfr/dist/dsfr/dsfr.main.min.css" in available
    assert "dsfr/dist/component/button/button.main.min.css" not in available
    assert "dsfr/dist/dsfr.min.css" not in available
    # Finding a file by name (the development server, WhiteNoise without collectstatic) is
    # unchanged.
    assert finders.find("dsfr/dist/component/button/button.main.min.css")


def test_the_icon_subset_is_up_to_date_with_the_templates():
    # Fails after a template, the code or a blueprint names a DSFR utility class the subset
    # lacks: run manage.py write_icon_css and commit core/static/core/dsfr-utility.css.
    call_command("write_icon_css", check=True)


def test_an_icon_of_the_subset_needs_no_other_stylesheet():
    assert "fr-icon-mail-line" in icons.subset_names()
    rendered = Template("{% load icons %}{% icon_stylesheet 'fr-icon-mail-line' %}").render(
        Context()
    )
    assert rendered == ""


def test_an_icon_outside_the_subset_brings_the_dsfr_icon_stylesheet():
    every_icon = Path(str(finders.find(icons.DSFR_ICONS))).read_text(encoding="utf-8")
    outside = next(
        name
        for name in re.findall(r"\.(fr-icon-[a-z0-9-]+)", every_icon)
        if name not in icons.subset_names()
    )
    rendered = Template("{% load icons %}{% icon_stylesheet name %}").render(
        Context({"name": outside})
    )
    assert re.fullmatch(
        r'<link rel="stylesheet" href="/static/dsfr/dist/utility/icons/icons\.main\.min\.css">',
        rendered,
    )


def test_the_static_503_page_names_the_hashed_stylesheet(tmp_path, settings):
    static_root = tmp_path / "static"
    static_root.mkdir()
    manifest(
        static_root,
        {"dsfr/dist/dsfr/dsfr.main.min.css": "dsfr/dist/dsfr/dsfr.main.min.0123456789ab.css"},
    )
    settings.STATIC_ROOT = static_root
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STORAGE}}
    call_command("write_error_pages", str(tmp_path / "errors"), stdout=io.StringIO())
    page = (tmp_path / "errors" / "503.html").read_text(encoding="utf-8")
    assert 'href="/static/dsfr/dist/dsfr/dsfr.main.min.0123456789ab.css"' in page


@pytest.mark.parametrize("name", ["", "fr-btn", "pas-une-icone"])
def test_what_is_no_icon_needs_no_stylesheet(name):
    assert icons.stylesheet_for(name) is None
