"""Blueprints: YAML an académie edits, loaded idempotently section by section.

Each app registers the sections it understands (``register_section`` in ``AppConfig.ready``);
the ``load_blueprint`` command reads a file and hands each section to its handler in order,
inside one transaction, so a bad file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction


class BlueprintError(ValueError):
    """A blueprint that cannot be applied; the message says where and why, in French."""


_TIME_RANGE = re.compile(r"^\s*(\d{1,2})[:h](\d{2})?\s*[-\N{EN DASH}]\s*(\d{1,2})[:h](\d{2})?\s*$")


def time_range(
    text: object, *, where: str, backwards: str = "finit avant de commencer"
) -> tuple[dt.time, dt.time]:
    """``"8:00-12:00"`` (or ``8h-12h``, an en dash between the two) as two ordered times of a day; a
    French ``BlueprintError`` naming ``where`` otherwise (``backwards``: what to say of a
    range whose end comes first)."""
    match = _TIME_RANGE.match(str(text))
    if not match:
        raise BlueprintError(f"{where} : horaire illisible « {str(text).strip()} ».")
    try:
        start = dt.time(int(match[1]), int(match[2] or 0))
        end = dt.time(int(match[3]), int(match[4] or 0))
    except ValueError as error:
        raise BlueprintError(f"{where} : heure impossible « {str(text).strip()} ».") from error
    if end <= start:
        raise BlueprintError(f"{where} : « {str(text).strip()} » {backwards}.")
    return start, end


@dataclass
class LoadReport:
    """What loading changed, and what a newcomer needs to know (demo credentials)."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Shared between handlers: e.g. people refer to establishments by UAI.
    context: dict[str, Any] = field(default_factory=dict)

    def count(self, kind: str, *, created: bool) -> None:
        target = self.created if created else self.updated
        target[kind] = target.get(kind, 0) + 1


Handler = Callable[[Any, LoadReport], None]


@dataclass(frozen=True)
class Section:
    name: str
    handler: Handler
    order: int


# Keyed by (name, order): an app may add a later pass over another app's section (single
# sign-on reads the ``oidc``/``cas`` keys of the portal's ``services`` after the tiles exist).
_SECTIONS: dict[tuple[str, int], Section] = {}


def register_section(name: str, handler: Handler, *, order: int) -> None:
    _SECTIONS[(name, order)] = Section(name, handler, order)


def read(path: Path) -> dict[str, Any]:
    """Parse a blueprint file (libyaml's parser when present: ten times faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise BlueprintError(f"Impossible de lire {path} : {error}") from error
    if not isinstance(data, dict):
        raise BlueprintError(f"{path} doit contenir des sections nommées.")
    return data


def load(path: Path) -> LoadReport:
    """Apply the blueprint at ``path``; unknown sections are refused before anything is written."""
    return apply(read(path), source=str(path))


def apply(data: dict[str, Any], *, source: str = "blueprint") -> LoadReport:
    """Apply parsed blueprint sections in order, in one transaction."""
    unknown = sorted(set(data) - {section.name for section in _SECTIONS.values()})
    if unknown:
        raise BlueprintError(f"Sections inconnues dans {source} : {', '.join(unknown)}.")
    report = LoadReport()
    with transaction.atomic():
        for section in sorted(_SECTIONS.values(), key=lambda s: s.order):
            if section.name in data:
                section.handler(data[section.name], report)
    return report
