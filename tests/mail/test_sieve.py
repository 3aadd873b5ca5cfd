"""The managed section of a Sieve script: written per the contract, read back exactly, a
hand-written script kept around it with its requires hoisted."""

from __future__ import annotations

import datetime

import pytest

from convergence.mail import sieve

HEAD = sieve.Rule(
    name="Messages de ma direction",
    conditions=(
        sieve.Condition(kind=sieve.GROUP, group="direction", values=("p.girard@ac-x.fr",)),
    ),
    actions=(sieve.Action(sieve.NOTIFY), sieve.Action(sieve.STOP)),
)
OTHERS = sieve.Rule(
    name="Tous les autres",
    conditions=(sieve.Condition(kind=sieve.OTHER),),
    actions=(sieve.Action(sieve.FILEINTO, "Autres"), sieve.Action(sieve.STOP)),
)
VACATION = sieve.Vacation(
    subject='Absente "jusqu\'au" lundi',
    text="Bonjour,\nje suis absente.\nC:\\temp",
    from_address="s.bernard@ac-x.fr",
    addresses=("s.bernard@ac-x.fr", "sbernard@ac-x.fr"),
    days=3,
    start=datetime.date(2025, 7, 1),
    end=datetime.date(2025, 7, 31),
)
HAND_WRITTEN = """require "fileinto";
require ["envelope", "body"]; # mes extensions
# Un commentaire qui parle de require "regex";
if body :contains "require" {
  fileinto "Corps";
}
if envelope :is "from" "x@y.fr" { discard; }
"""


def test_quote_escapes_backslash_and_double_quote() -> None:
    assert sieve.quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert sieve.quote("a\x00b") == '"ab"'


def test_rule_renders_the_contract_vocabulary() -> None:
    lines = sieve.render_rule(
        sieve.Rule(
            name="Tout",
            match=sieve.ANY,
            conditions=(
                sieve.Condition(kind=sieve.FROM, values=("a@x.fr", "b@x.fr")),
                sieve.Condition(kind=sieve.FROM_DOMAIN, values=("x.fr",)),
                sieve.Condition(kind=sieve.SUBJECT, values=('dit "bonjour"',)),
                sieve.Condition(kind=sieve.ATTACHMENT),
                sieve.Condition(kind=sieve.CC_ME, values=("me@x.fr",)),
                sieve.Condition(kind=sieve.LIST, negate=True),
            ),
            actions=(
                sieve.Action(sieve.FILEINTO, "Dossier \\ à moi"),
                sieve.Action(sieve.SEEN),
                sieve.Action(sieve.REDIRECT, "c@x.fr"),
                sieve.Action(sieve.NOTIFY),
                sieve.Action(sieve.STOP),
            ),
        )
    )
    assert lines[0].startswith("# règle: {")
    assert lines[1] == (
        'if anyof(address :is "from" ["a@x.fr", "b@x.fr"], '
        'address :domain :is "from" ["x.fr"], '
        'header :contains "subject" ["dit \\"bonjour\\""], '
        'header :mime :anychild :contains "Content-Disposition" "attachment", '
        'address :is "cc" ["me@x.fr"], '
        'not anyof(exists "list-id", exists "list-unsubscribe")) {'
    )
    # The flag before the filing (Sieve files with the flags set so far), whatever the form's
    # order.
    assert lines[2:] == [
        '  addflag "\\\\Seen";',
        '  fileinto "Dossier \\\\ à moi";',
        '  redirect :copy "c@x.fr";',
        '  execute :pipe "convergence-notify";',
        "  stop;",
        "}",
    ]


def test_an_empty_group_matches_nobody() -> None:
    rule = sieve.Rule(
        name="Vide",
        conditions=(sieve.Condition(kind=sieve.GROUP, group="direction"),),
        actions=(sieve.Action(sieve.STOP),),
    )
    assert sieve.render_rule(rule)[1] == "if not true {"


def test_a_disabled_rule_is_only_its_comment() -> None:
    lines = sieve.render_rule(sieve.Rule(name="Off", enabled=False, **_parts(OTHERS)))
    assert len(lines) == 1 and lines[0].startswith(sieve.RULE_PREFIX)


def _parts(rule: sieve.Rule) -> dict[str, object]:
    return {"conditions": rule.conditions, "actions": rule.actions}


def test_vacation_comes_first_with_dates_and_never_to_lists() -> None:
    section = sieve.render_section(sieve.Managed(rules=(HEAD,), vacation=VACATION))
    lines = section.splitlines()
    assert lines[0] == sieve.BEGIN and lines[-1] == sieve.END
    assert lines[1].startswith(sieve.VACATION_PREFIX)
    assert lines[2] == (
        'if allof(currentdate :value "ge" "date" "2025-07-01", '
        'currentdate :value "le" "date" "2025-07-31", '
        'not anyof(exists "list-id", exists "list-unsubscribe")) {'
    )
    assert '  vacation :days 3 :subject "Absente \\"jusqu\'au\\" lundi"' in section
    assert ':addresses ["s.bernard@ac-x.fr", "sbernard@ac-x.fr"] "Bonjour,\nje suis' in section
    assert "C:\\\\temp" in section
    assert section.index("vacation :days") < section.index("stop;")


def test_execute_is_required_only_when_a_rule_notifies() -> None:
    assert sieve.EXECUTE in sieve.required_by(sieve.Managed(rules=(HEAD,)))
    assert sieve.EXECUTE not in sieve.required_by(sieve.Managed(rules=(OTHERS,)))
    off = sieve.Rule(name="x", enabled=False, **_parts(HEAD))  # type: ignore[arg-type]
    assert sieve.EXECUTE not in sieve.required_by(sieve.Managed(rules=(off,)))


def test_rules_and_vacation_read_back_exactly() -> None:
    off = sieve.Rule(name="Éteinte « ok »\n", enabled=False, **_parts(OTHERS))  # type: ignore[arg-type]
    managed = sieve.Managed(rules=(HEAD, off, OTHERS), vacation=VACATION)
    text = sieve.render_script(sieve.Script(managed=managed))

    assert sieve.parse_script(text).managed == managed
    assert sieve.parse_script(text.replace("\n", "\r\n")).managed == managed


def test_a_script_without_markers_is_all_hand_written() -> None:
    script = sieve.parse_script(HAND_WRITTEN)
    assert script.managed == sieve.Managed()
    assert script.requires == ("fileinto", "envelope", "body")
    assert "require" not in script.after.split("\n")[0]
    assert '# Un commentaire qui parle de require "regex";' in script.after
    assert 'if body :contains "require" {' in script.after


def test_hand_written_script_is_kept_and_its_requires_hoisted() -> None:
    first = sieve.parse_script(HAND_WRITTEN)
    text = sieve.render_script(sieve.with_managed(first, sieve.Managed(rules=(HEAD,))))

    assert text.startswith("require [")
    top = text.split("\n")[0]
    for capability in ("fileinto", "envelope", "body", "vnd.dovecot.execute", "vacation"):
        assert f'"{capability}"' in top
    assert text.count("require ") == 1 + HAND_WRITTEN.count('require "regex"')
    assert text.index(sieve.END) < text.index("if envelope")
    assert 'if envelope :is "from" "x@y.fr" { discard; }' in text

    again = sieve.parse_script(text)
    assert again.managed.rules == (HEAD,)
    assert {"fileinto", "envelope", "body"} <= set(again.requires)
    rewritten = sieve.render_script(sieve.with_managed(again, sieve.Managed()))
    assert 'if body :contains "require" {\n  fileinto "Corps";\n}' in rewritten
    assert sieve.parse_script(rewritten).after == again.after


def test_text_before_the_section_stays_before_it() -> None:
    text = (
        'require ["fileinto"];\nif header :is "x-spam" "yes" { fileinto "Junk"; stop; }\n'
        + sieve.render_section(sieve.Managed(rules=(OTHERS,)))
        + "keep;\n"
    )
    script = sieve.parse_script(text)
    assert script.before.startswith('if header :is "x-spam"')
    assert script.after == "keep;"
    rendered = sieve.render_script(script)
    assert rendered.index("x-spam") < rendered.index(sieve.BEGIN) < rendered.index("keep;")


def test_multiline_strings_are_not_mistaken_for_requires() -> None:
    text = 'require "vacation";\nvacation text:\nrequire "x";\n.\n;\n'
    kept, requires = sieve.extract_requires(text)
    assert requires == ("vacation",)
    assert 'require "x";' in kept


@pytest.mark.parametrize(
    "broken",
    [
        sieve.BEGIN + "\n# règle: {pas du json\n" + sieve.END,
        sieve.BEGIN + "\n# règle: {}\n",
        sieve.BEGIN + '\n# règle: {"conditions":[{"kind":"inconnu"}]}\n' + sieve.END,
    ],
)
def test_an_unreadable_section_is_an_error(broken: str) -> None:
    with pytest.raises(sieve.ScriptError):
        sieve.parse_script(broken)


def test_vacation_is_active_between_its_dates_included() -> None:
    assert VACATION.active_on(datetime.date(2025, 7, 1))
    assert VACATION.active_on(datetime.date(2025, 7, 31))
    assert not VACATION.active_on(datetime.date(2025, 8, 1))
    assert not sieve.Vacation(
        subject="s", text="t", from_address="", addresses=(), enabled=False
    ).active_on(datetime.date(2025, 7, 2))


@pytest.mark.parametrize(
    "line",
    [
        sieve.END,
        sieve.BEGIN,
        "# règle: x",
        '# absence: {"enabled": false}',
        "   # règle: {}",
    ],
)
def test_a_vacation_text_never_reads_as_the_sections_lines(line: str) -> None:
    """A person (or whoever holds their session) writing a marker or a comment line into the
    vacation text must not lock them out of their own rules, nor change what is read back."""
    text = f"Bonjour,\n{line}\nÀ bientôt."
    vacation = sieve.Vacation(
        subject="Absente", text=text, from_address="a@x.fr", addresses=("a@x.fr",)
    )
    rule = sieve.Rule(
        name="Garder",
        conditions=(sieve.Condition(kind=sieve.OTHER),),
        actions=(sieve.Action(sieve.STOP),),
    )
    written = sieve.render_script(
        sieve.Script(managed=sieve.Managed(rules=(rule,), vacation=vacation))
    )
    read = sieve.parse_script(written)
    assert read.managed.vacation is not None and read.managed.vacation.text == text
    assert [item.name for item in read.managed.rules] == ["Garder"]
    # What Sieve itself reads from the quoted string is the text as written.
    quoted = sieve.quote(text)
    assert sieve._unquote(quoted[1:-1]) == text
