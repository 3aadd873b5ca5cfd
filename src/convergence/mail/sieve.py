"""The person's mail rules and vacation reply as Sieve (RFC 5228), written and read back.

Pure functions, no I/O. The portal owns one *managed section* of the person's active script,
between two marker lines (docs/mail.md, "Rules and vacation reply"); whatever else the script
holds (a hand-written part) is kept verbatim, except that its ``require`` commands are hoisted
into one merged ``require`` at the very top, as Sieve wants every ``require`` first.

Inside the section: the vacation reply first (a rule's ``stop`` never silences it), then the
enabled rules in order. Each rule is preceded by ``# règle: <json>`` carrying its form data,
the vacation block by ``# absence: <json>``: the portal reads its own data back from these
comments, never from the Sieve it generated. A disabled rule (or vacation) is the comment
alone.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

BEGIN = "# --- Convergence : début de la section gérée par le portail ---"
END = "# --- Convergence : fin de la section gérée par le portail ---"
RULE_PREFIX = "# règle: "
VACATION_PREFIX = "# absence: "

# What the rules may say (the form's choices).
FROM = "from"  # l'expéditeur est…
FROM_DOMAIN = "from_domain"  # l'adresse de l'expéditeur se termine par…
GROUP = "group"  # l'expéditeur fait partie de… (expanded to addresses when saved)
SUBJECT = "subject"  # l'objet contient…
ATTACHMENT = "attachment"  # le message a une pièce jointe
CC_ME = "cc_me"  # je suis en copie
LIST = "list"  # c'est une lettre d'information ou une liste de diffusion
OTHER = "other"  # tous les autres messages
CONDITION_KINDS = (FROM, FROM_DOMAIN, GROUP, SUBJECT, ATTACHMENT, CC_ME, LIST, OTHER)
# Kinds whose condition carries values (addresses, domains, words).
VALUED_KINDS = frozenset({FROM, FROM_DOMAIN, GROUP, SUBJECT, CC_ME})

FILEINTO = "fileinto"  # classer dans…
SEEN = "seen"  # marquer comme lu
REDIRECT = "redirect"  # transférer à… (une copie reste)
NOTIFY = "notify"  # me notifier
STOP = "stop"  # ne pas appliquer les règles suivantes
ACTION_KINDS = (FILEINTO, SEEN, REDIRECT, NOTIFY, STOP)

ALL = "all"
ANY = "any"

NOTIFY_PROGRAM = "convergence-notify"
LIST_HEADERS = ("list-id", "list-unsubscribe")
# ``exists`` with a list is true only when *every* header is there (RFC 5228 §5.5): a list or
# a newsletter is a message with *any* of them.
IS_LIST = "anyof(" + ", ".join(f'exists "{name}"' for name in LIST_HEADERS) + ")"
BASE_REQUIRES = ("fileinto", "imap4flags", "copy", "vacation", "date", "relational", "mime")
EXECUTE = "vnd.dovecot.execute"


class ScriptError(ValueError):
    """A managed section the portal cannot read back (edited by hand, truncated)."""


@dataclass(frozen=True)
class Condition:
    kind: str
    values: tuple[str, ...] = ()
    # For GROUP: which directory group ("direction", "vie_scolaire", "enseignants_classe").
    group: str = ""
    negate: bool = False

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.values:
            data["values"] = list(self.values)
        if self.group:
            data["group"] = self.group
        if self.negate:
            data["negate"] = True
        return data

    @classmethod
    def from_data(cls, data: Any) -> Condition:
        if not isinstance(data, dict) or data.get("kind") not in CONDITION_KINDS:
            raise ScriptError("condition")
        values = data.get("values", [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ScriptError("condition values")
        return cls(
            kind=data["kind"],
            values=tuple(values),
            group=str(data.get("group", "")),
            negate=bool(data.get("negate", False)),
        )


@dataclass(frozen=True)
class Action:
    kind: str
    value: str = ""

    def as_data(self) -> dict[str, Any]:
        return {"kind": self.kind, **({"value": self.value} if self.value else {})}

    @classmethod
    def from_data(cls, data: Any) -> Action:
        if not isinstance(data, dict) or data.get("kind") not in ACTION_KINDS:
            raise ScriptError("action")
        return cls(kind=data["kind"], value=str(data.get("value", "")))


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    actions: tuple[Action, ...]
    match: str = ALL
    enabled: bool = True

    def as_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "match": self.match,
            "conditions": [condition.as_data() for condition in self.conditions],
            "actions": [action.as_data() for action in self.actions],
        }

    @classmethod
    def from_data(cls, data: Any) -> Rule:
        if not isinstance(data, dict):
            raise ScriptError("rule")
        conditions = data.get("conditions", [])
        actions = data.get("actions", [])
        if not isinstance(conditions, list) or not isinstance(actions, list):
            raise ScriptError("rule parts")
        return cls(
            name=str(data.get("name", "")),
            enabled=bool(data.get("enabled", True)),
            match=ANY if data.get("match") == ANY else ALL,
            conditions=tuple(Condition.from_data(item) for item in conditions),
            actions=tuple(Action.from_data(item) for item in actions),
        )

    @property
    def notifies(self) -> bool:
        return any(action.kind == NOTIFY for action in self.actions)


@dataclass(frozen=True)
class Vacation:
    """« Réponse automatique d'absence »: between two dates (both included, either open)."""

    subject: str
    text: str
    from_address: str
    addresses: tuple[str, ...]
    days: int = 7
    start: datetime.date | None = None
    end: datetime.date | None = None
    enabled: bool = True

    def as_data(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "subject": self.subject,
            "text": self.text,
            "days": self.days,
            "from": self.from_address,
            "addresses": list(self.addresses),
        }

    @classmethod
    def from_data(cls, data: Any) -> Vacation:
        if not isinstance(data, dict):
            raise ScriptError("vacation")
        try:
            start = datetime.date.fromisoformat(data["start"]) if data.get("start") else None
            end = datetime.date.fromisoformat(data["end"]) if data.get("end") else None
            days = int(data.get("days", 7))
        except (TypeError, ValueError) as error:
            raise ScriptError("vacation dates") from error
        addresses = data.get("addresses", [])
        if not isinstance(addresses, list):
            raise ScriptError("vacation addresses")
        return cls(
            enabled=bool(data.get("enabled", True)),
            start=start,
            end=end,
            subject=str(data.get("subject", "")),
            text=str(data.get("text", "")),
            days=days,
            from_address=str(data.get("from", "")),
            addresses=tuple(str(item) for item in addresses),
        )

    def active_on(self, day: datetime.date) -> bool:
        return (
            self.enabled
            and (self.start is None or self.start <= day)
            and (self.end is None or day <= self.end)
        )


@dataclass(frozen=True)
class Managed:
    """What the portal manages: the rules in order and the vacation reply."""

    rules: tuple[Rule, ...] = ()
    vacation: Vacation | None = None


@dataclass(frozen=True)
class Script:
    """A person's script, split: the hand-written text before and after the section (its
    ``require`` commands taken out), the capabilities those required, and the section."""

    managed: Managed = field(default_factory=Managed)
    before: str = ""
    after: str = ""
    requires: tuple[str, ...] = ()


# --- Writing ---------------------------------------------------------------------------------


_LINE_COMMENT = re.compile(r"^([ \t]*)#", re.MULTILINE)


def quote(value: str) -> str:
    """A Sieve quoted string: backslash and double quote escaped, NUL dropped; line breaks
    stay (RFC 5228 §2.4.2; sent as CRLF by the ManageSieve client)."""
    cleaned = value.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    escaped = cleaned.replace("\\", "\\\\").replace('"', '\\"')
    # A line of a multi-line string that starts with "#" would read, line by line, as one of
    # the section's markers or comment lines (a vacation text holding the end marker locked
    # the person out of their own rules): its "#" is written "\#", which Sieve reads as "#"
    # (an undefined escape is the character itself, RFC 5228 §2.4.2).
    escaped = _LINE_COMMENT.sub(r"\1\\#", escaped)
    return '"' + escaped + '"'


def string_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(quote(value) for value in values) + "]"


def _comment(prefix: str, data: dict[str, Any]) -> str:
    # One line: JSON escapes line breaks; separators keep it short.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return prefix + text.replace("\r", "").replace("\n", "")


def _test(condition: Condition) -> str:
    kind = condition.kind
    values = tuple(value for value in condition.values if value)
    if kind in VALUED_KINDS and not values:
        # An empty group (nobody in the direction this year) matches nobody.
        test = "not true"
    elif kind in (FROM, GROUP):
        test = f'address :is "from" {string_list(values)}'
    elif kind == FROM_DOMAIN:
        test = f'address :domain :is "from" {string_list(values)}'
    elif kind == SUBJECT:
        test = f'header :contains "subject" {string_list(values)}'
    elif kind == ATTACHMENT:
        test = 'header :mime :anychild :contains "Content-Disposition" "attachment"'
    elif kind == CC_ME:
        test = f'address :is "cc" {string_list(values)}'
    elif kind == LIST:
        test = IS_LIST
    elif kind == OTHER:
        test = "true"
    else:
        raise ValueError(f"unknown condition {kind!r}")
    return f"not {test}" if condition.negate else test


def _action(action: Action) -> str:
    if action.kind == FILEINTO:
        return f"fileinto {quote(action.value)};"
    if action.kind == SEEN:
        return 'addflag "\\\\Seen";'
    if action.kind == REDIRECT:
        return f"redirect :copy {quote(action.value)};"
    if action.kind == NOTIFY:
        return f"execute :pipe {quote(NOTIFY_PROGRAM)};"
    if action.kind == STOP:
        return "stop;"
    raise ValueError(f"unknown action {action.kind!r}")


def _combined(tests: list[str], match: str) -> str:
    if not tests:
        return "true"
    if len(tests) == 1:
        return tests[0]
    return ("anyof" if match == ANY else "allof") + "(" + ", ".join(tests) + ")"


# Sieve gives a message the flags set *before* it is filed: « marquer comme lu » is written
# first whatever its place in the form, and « arrêter » last.
_ACTION_ORDER = {SEEN: 0, STOP: 2}


def render_rule(rule: Rule) -> list[str]:
    lines = [_comment(RULE_PREFIX, rule.as_data())]
    if rule.enabled and rule.actions:
        test = _combined([_test(condition) for condition in rule.conditions], rule.match)
        lines.append(f"if {test} {{")
        ordered = sorted(rule.actions, key=lambda action: _ACTION_ORDER.get(action.kind, 1))
        lines.extend(f"  {_action(action)}" for action in ordered)
        lines.append("}")
    return lines


def render_vacation(vacation: Vacation) -> list[str]:
    lines = [_comment(VACATION_PREFIX, vacation.as_data())]
    if not vacation.enabled:
        return lines
    tests: list[str] = []
    if vacation.start:
        tests.append(f'currentdate :value "ge" "date" {quote(vacation.start.isoformat())}')
    if vacation.end:
        tests.append(f'currentdate :value "le" "date" {quote(vacation.end.isoformat())}')
    tests.append(f"not {IS_LIST}")
    arguments = f":days {max(1, int(vacation.days))} :subject {quote(vacation.subject)}"
    if vacation.from_address:
        arguments += f" :from {quote(vacation.from_address)}"
    if vacation.addresses:
        arguments += f" :addresses {string_list(vacation.addresses)}"
    lines.append(f"if {_combined(tests, ALL)} {{")
    lines.append(f"  vacation {arguments} {quote(vacation.text)};")
    lines.append("}")
    return lines


def required_by(managed: Managed) -> tuple[str, ...]:
    """The extensions the section needs (``vnd.dovecot.execute`` only when a rule notifies:
    a server without it still takes every other rule)."""
    needed = list(BASE_REQUIRES)
    if any(rule.enabled and rule.notifies for rule in managed.rules):
        needed.append(EXECUTE)
    return tuple(needed)


def render_section(managed: Managed) -> str:
    lines = [BEGIN]
    if managed.vacation is not None:
        lines.extend(render_vacation(managed.vacation))
    for rule in managed.rules:
        lines.extend(render_rule(rule))
    lines.append(END)
    return "\n".join(lines) + "\n"


def _merged(*groups: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for capability in group:
            seen.setdefault(capability, None)
    return tuple(seen)


def render_script(script: Script) -> str:
    """The whole script: one merged ``require``, the hand-written text before the section,
    the section, the hand-written text after it."""
    requires = _merged(required_by(script.managed), script.requires)
    parts = [f"require {string_list(list(requires))};\n"]
    if script.before.strip():
        parts.append(script.before.rstrip("\n") + "\n")
    parts.append(render_section(script.managed))
    if script.after.strip():
        parts.append(script.after.lstrip("\n"))
        if not script.after.endswith("\n"):
            parts.append("\n")
    return "".join(parts)


# --- Reading ---------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MULTILINE = re.compile(r"text:[ \t]*(#[^\n]*)?\r?\n")
_MULTILINE_END = re.compile(r"\r?\n\.\r?\n")


def _unquote(body: str) -> str:
    return re.sub(r"\\(.)", r"\1", body, flags=re.DOTALL)


def _skip_string(text: str, index: int) -> tuple[int, str]:
    """From a ``"`` at ``index``: the index after the closing quote, and the value."""
    position = index + 1
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == '"':
            return position + 1, _unquote(text[index + 1 : position])
        position += 1
    raise ScriptError("unterminated string")


def _tokens(text: str) -> list[tuple[str, str, int, int]]:
    """Sieve's tokens with their spans (kind, value, start, end), comments and white space
    left out; enough to find ``require`` commands without being fooled by a string or a
    comment that contains the word."""
    tokens: list[tuple[str, str, int, int]] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char in " \t\r\n":
            index += 1
        elif char == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif text.startswith("/*", index):
            close = text.find("*/", index + 2)
            if close < 0:
                raise ScriptError("unterminated comment")
            index = close + 2
        elif char == '"':
            end, value = _skip_string(text, index)
            tokens.append(("string", value, index, end))
            index = end
        elif (match := _MULTILINE.match(text, index)) is not None:
            closing = _MULTILINE_END.search(text, match.end() - 1)
            if closing is None:
                raise ScriptError("unterminated text:")
            body = text[match.end() : closing.start() + 1]
            tokens.append(("string", body, index, closing.end()))
            index = closing.end()
        elif (match := _IDENTIFIER.match(text, index)) is not None:
            tokens.append(("identifier", match.group(), index, match.end()))
            index = match.end()
        else:
            tokens.append(("symbol", char, index, index + 1))
            index += 1
    return tokens


def extract_requires(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` without its ``require`` commands, and the capabilities they named."""
    tokens = _tokens(text)
    spans: list[tuple[int, int]] = []
    capabilities: list[str] = []
    previous = ""
    position = 0
    while position < len(tokens):
        kind, value, start, _end = tokens[position]
        at_command = previous in ("", ";", "}", "{")
        if kind == "identifier" and value.lower() == "require" and at_command:
            cursor = position + 1
            while cursor < len(tokens) and tokens[cursor][1] != ";":
                if tokens[cursor][0] == "string":
                    capabilities.append(tokens[cursor][1])
                cursor += 1
            if cursor >= len(tokens):
                raise ScriptError("require without ;")
            stop = tokens[cursor][3]
            # The line break after the command goes with it.
            if text.startswith("\r\n", stop):
                stop += 2
            elif text.startswith("\n", stop):
                stop += 1
            spans.append((start, stop))
            previous = ";"
            position = cursor + 1
            continue
        previous = value if kind == "symbol" else kind
        position += 1
    kept = text
    for start, stop in reversed(spans):
        kept = kept[:start] + kept[stop:]
    return kept, _merged(tuple(capabilities))


def _read_section(lines: list[str]) -> Managed:
    rules: list[Rule] = []
    vacation: Vacation | None = None
    for line in lines:
        stripped = line.strip()
        try:
            if stripped.startswith(RULE_PREFIX):
                rules.append(Rule.from_data(json.loads(stripped[len(RULE_PREFIX) :])))
            elif stripped.startswith(VACATION_PREFIX):
                vacation = Vacation.from_data(json.loads(stripped[len(VACATION_PREFIX) :]))
        except json.JSONDecodeError as error:
            raise ScriptError("section comment") from error
    return Managed(rules=tuple(rules), vacation=vacation)


def parse_script(text: str) -> Script:
    """Split a script into the portal's section and the hand-written rest (requires hoisted).

    A script without the markers is all hand-written: the section will go after its
    requires, before everything else. Raises :class:`ScriptError` on a section or a
    hand-written part the portal cannot read (the page says so; nothing is overwritten)."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    try:
        begin = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
    except StopIteration:
        outside, requires = extract_requires(text)
        return Script(managed=Managed(), before="", after=outside.lstrip("\n"), requires=requires)
    try:
        end = next(i for i, line in enumerate(lines) if i > begin and line.strip() == END)
    except StopIteration as error:
        raise ScriptError("section without its end marker") from error
    managed = _read_section(lines[begin + 1 : end])
    before, before_requires = extract_requires("\n".join(lines[:begin]))
    after, after_requires = extract_requires("\n".join(lines[end + 1 :]))
    return Script(
        managed=managed,
        before=before.strip("\n"),
        after=after.strip("\n"),
        requires=_merged(before_requires, after_requires),
    )


def with_managed(script: Script, managed: Managed) -> Script:
    return Script(
        managed=managed, before=script.before, after=script.after, requires=script.requires
    )
