"""The project's French catalog: its committed .mo is the compiled .po, and every plural
message of the portal is in it, so that French counts 0 as singular (« 0 session ouverte »)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.utils import translation
from django.utils.translation.template import templatize

from convergence.core import catalogs

SRC = Path(__file__).resolve().parents[2] / "src" / "convergence"
LOCALE = SRC / "locale"
PO = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
# templatize writes each plural of a template as ngettext('singular', 'plural', count).
TEMPLATE_PLURAL = re.compile(
    r"\bngettext\((u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")), "
    r"(u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"))"
)
PLURAL_FUNCTIONS = {"ngettext", "ngettext_lazy"}


def template_plurals(path: Path) -> list[tuple[str, str]]:
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    return [
        (ast.literal_eval(singular), ast.literal_eval(plural))
        for singular, plural in TEMPLATE_PLURAL.findall(code)
    ]


def python_plurals(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        singular, plural = node.args[0], node.args[1]
        if (
            name in PLURAL_FUNCTIONS
            and isinstance(singular, ast.Constant)
            and isinstance(plural, ast.Constant)
        ):
            found.append((singular.value, plural.value))
    return found


def portal_plurals() -> list[tuple[str, str]]:
    messages = []
    for path in sorted(SRC.rglob("*")):
        if "migrations" in path.parts:
            continue
        if path.suffix in {".html", ".txt"} and "templates" in path.parts:
            if "admin" in path.parts:  # Django's templates, in Django's English msgids
                continue
            messages += template_plurals(path)
        elif path.suffix == ".py":
            messages += python_plurals(path)
    return messages


def test_the_committed_mo_is_the_compiled_po():
    assert PO.with_suffix(".mo").read_bytes() == catalogs.mo_bytes(catalogs.read_po(PO)), (
        "Run: .venv/bin/python manage.py compile_translations"
    )


def test_the_catalog_is_where_django_reads_translations():
    assert LOCALE in [Path(folder) for folder in settings.LOCALE_PATHS]


def test_every_plural_message_of_the_portal_counts_zero_as_singular():
    messages = portal_plurals()
    assert len(messages) > 10
    missing = []
    with translation.override("fr"):
        for singular, plural in messages:
            zero, two = (translation.ngettext(singular, plural, n) for n in (0, 2))
            if (zero, two) != (singular, plural):
                missing.append(catalogs.plural_entry(singular, plural))
    assert not missing, (
        "Add to src/convergence/locale/fr/LC_MESSAGES/django.po, then run "
        "manage.py compile_translations:\n\n" + "\n".join(dict.fromkeys(missing))
    )


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 session ouverte"), (1, "1 session ouverte"), (2, "2 sessions ouvertes")],
)
def test_sessions_are_counted_the_french_way(count, expected):
    template = Template(
        "{% load i18n %}{% blocktranslate count counter=n with login=login %}Le compte "
        "<code>{{ login }}</code> a {{ counter }} session ouverte.{% plural %}Le compte "
        "<code>{{ login }}</code> a {{ counter }} sessions ouvertes.{% endblocktranslate %}"
    )
    with translation.override("fr"):
        assert expected in template.render(Context({"n": count, "login": "lmartin"}))


def test_the_compile_command_writes_the_same_mo(tmp_path, settings):
    copy = tmp_path / "fr" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    (copy / "django.po").write_bytes(PO.read_bytes())
    settings.LOCALE_PATHS = [tmp_path]
    call_command("compile_translations", verbosity=0)
    assert (copy / "django.mo").read_bytes() == PO.with_suffix(".mo").read_bytes()


def test_the_po_reader_understands_contexts_plurals_and_continued_lines(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=2; plural=(n > 1);\\n"\n\n'
        '#, fuzzy\nmsgid "Old"\nmsgstr "Ancien"\n\n'
        'msgctxt "Task"\nmsgid "Ready"\nmsgstr "En attente"\n\n'
        'msgid "%d token"\nmsgid_plural "%d tokens"\nmsgstr[0] "%d jeton"\nmsgstr[1] "%d "\n'
        '"jetons"\n',
        encoding="utf-8",
    )
    messages = {message.key: message for message in catalogs.read_po(po)}
    assert messages["Task\x04Ready"].value == "En attente"
    assert messages["%d token\x00%d tokens"].value == "%d jeton\x00%d jetons"
    assert messages["Old"].fuzzy
    import gettext
    import io

    compiled = gettext.GNUTranslations(io.BytesIO(catalogs.mo_bytes(list(messages.values()))))
    assert compiled.pgettext("Task", "Ready") == "En attente"
    assert compiled.ngettext("%d token", "%d tokens", 0) == "%d jeton"
    assert compiled.gettext("Old") == "Old"
