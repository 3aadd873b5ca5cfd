"""Second factors have one name each, everywhere a person reads them: « codes changeants »,
« clé d'accès », « codes de secours » — never allauth's « application d'authentification »
or « clé de sécurité », nor « passkey »."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from allauth.mfa.models import Authenticator
from django.utils import translation
from django.utils.translation.template import templatize

from convergence.mfa import personal_data, policy, seams

SRC = Path(__file__).resolve().parents[2] / "src" / "convergence"
OTHER_NAMES = re.compile(
    r"application d['\u2019]authentification|cl[ée]s? de s[ée]curit[ée]|passkey|authentificateur",
    re.IGNORECASE,
)
TRANSLATED = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext"}


def shown_strings(path: Path) -> list[str]:
    """The strings of a module that reach people: those given to gettext."""
    strings = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in TRANSLATED:
            strings += [
                arg.value
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            ]
    return strings


def test_no_template_names_a_second_factor_otherwise():
    """What templates translate (``templatize`` keeps exactly that) never uses another name."""
    found = []
    for path in SRC.rglob("templates/**/*"):
        if path.suffix in {".html", ".txt"}:
            code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            found += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in OTHER_NAMES.finditer(code)]
    assert not found


def test_no_message_names_a_second_factor_otherwise():
    found = [
        f"{path.relative_to(SRC)}: {text}"
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        for text in shown_strings(path)
        if OTHER_NAMES.search(text)
    ]
    assert not found


def test_the_portal_words_for_each_kind_of_factor():
    with translation.override("fr"):
        assert str(Authenticator.Type.TOTP.label) == "Codes changeants"
        assert str(Authenticator.Type.WEBAUTHN.label) == "Clé d'accès"
        assert str(Authenticator.Type.RECOVERY_CODES.label) == "Codes de secours"
        assert str(personal_data.MFA_TYPES["totp"]) == "Codes changeants"
        assert str(personal_data.MFA_TYPES["webauthn"]) == "Clé d'accès"
        assert "codes changeants" in str(policy.ENROL_MESSAGE)
        assert str(seams.CHANGES["mfa/email/totp_activated"]) == (
            "les codes changeants ont été activés"
        )
