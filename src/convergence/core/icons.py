"""The DSFR utility classes the portal names, out of the thousand the DSFR ships.

django-dsfr's ``{% dsfr_css %}`` loads the DSFR's utility stylesheet: every icon (about a
thousand ``fr-icon-*`` classes, each naming its SVG) and every colour utility, 458 KB, 62 KB
gzipped once the names are hashed, for the twenty icons a page shows. ``manage.py
write_icon_css`` writes ``core/static/core/dsfr-utility.css`` with the rules of the classes the
project's templates, code and blueprints name (:func:`subset_css`); a test checks that the file
is up to date (``write_icon_css --check``).

An icon chosen at run time (a service's, which a DSI may pick among all the DSFR's) may be
missing from that file: ``{% icon_stylesheet name %}`` then links the DSFR's whole icon
stylesheet, so the icon shows whatever it is (:func:`stylesheet_for`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders

# The DSFR utility stylesheet the subset is cut from (icons and colour utilities), and the
# icons-only one linked for an icon outside the subset.
DSFR_UTILITY = "dsfr/dist/utility/utility.main.min.css"
DSFR_ICONS = "dsfr/dist/utility/icons/icons.main.min.css"
SUBSET = "core/dsfr-utility.css"

# Where the classes the portal names are written: its templates, code and scripts, the
# blueprints (services' icons), and django-dsfr's templates (its tags and form widgets).
SOURCE_SUFFIXES = {".html", ".py", ".js", ".yaml", ".yml", ".txt"}

_CLASS = re.compile(r"fr-[a-z0-9]+(?:-{1,2}[a-z0-9]+)*")
_SELECTOR_CLASS = re.compile(r"\.(fr-[A-Za-z0-9_-]+)")
_URL = re.compile(r"url\(([^)\"']+)\)")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def names_in(paths: Iterable[Path]) -> set[str]:
    """Every ``fr-…`` class name written in the files under ``paths``."""
    found: set[str] = set()
    for root in paths:
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for path in files:
            if path.suffix in SOURCE_SUFFIXES and path.is_file():
                found.update(_CLASS.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return found


def _split_top_level(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` outside parentheses (``:is(a, b)`` stays whole)."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _blocks(css: str) -> Iterator[tuple[str, str]]:
    """The top-level ``prelude{body}`` blocks of a stylesheet without comments."""
    depth, start, body_start = 0, 0, 0
    for index, char in enumerate(css):
        if char == "{":
            if depth == 0:
                body_start = index + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                yield css[start : body_start - 1].strip(), css[body_start:index]
                start = index + 1


def _kept(css: str, names: set[str]) -> str:
    """The rules of ``css`` whose selectors name only classes of ``names`` (the others
    dropped from each rule's selector list), ``@media`` blocks filtered alike."""
    kept = []
    for prelude, body in _blocks(css):
        if prelude.startswith("@"):
            inner = _kept(body, names)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
            continue
        selectors = [
            selector
            for selector in _split_top_level(prelude, ",")
            if (classes := _SELECTOR_CLASS.findall(selector))
            and all(name in names for name in classes)
        ]
        if selectors:
            kept.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(kept)


def _relocated(css: str, source: str, target: str) -> str:
    """``css`` written for the static path ``source``, with its relative URLs made relative
    to ``target`` (collectstatic then replaces them with the hashed names)."""

    def move(match: re.Match[str]) -> str:
        url = match.group(1)
        if url.startswith(("data:", "/", "http:", "https:")):
            return match.group(0)
        absolute = posixpath.normpath(posixpath.join(posixpath.dirname(source), url))
        return f"url({posixpath.relpath(absolute, posixpath.dirname(target))})"

    return _URL.sub(move, css)


def subset_css(names: set[str]) -> str:
    """The DSFR utility rules for ``names``, under the DSFR's licence header."""
    path = finders.find(DSFR_UTILITY)
    if not isinstance(path, str):
        raise FileNotFoundError(f"{DSFR_UTILITY} not found (is django-dsfr installed?)")
    css = Path(path).read_text(encoding="utf-8")
    header = css[: css.index("*/") + 2] if css.startswith("/*") else ""
    rules = _relocated(_kept(_COMMENT.sub("", css), names), DSFR_UTILITY, SUBSET)
    return (
        f"{header}\n/* The DSFR utility classes Convergence names, from {DSFR_UTILITY}: "
        "written by manage.py write_icon_css, do not edit. */\n" + rules.replace("}", "}\n")
    )


@cache
def subset_names() -> frozenset[str]:
    """The classes ``core/dsfr-utility.css`` defines (read once per process)."""
    path = finders.find(SUBSET)
    if not isinstance(path, str):
        return frozenset()
    return frozenset(_SELECTOR_CLASS.findall(Path(path).read_text(encoding="utf-8")))


def stylesheet_for(name: str) -> str | None:
    """The static path of the stylesheet an icon chosen at run time needs beyond the subset:
    None when the subset has it (or ``name`` is no icon class)."""
    if not name.startswith(("fr-icon-", "fr-fi-")) or name in subset_names():
        return None
    return DSFR_ICONS
