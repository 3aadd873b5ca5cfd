"""No DSFR button of ours hides its label behind its icon.

The DSFR renders a ``fr-btn`` carrying an ``fr-icon-*`` class as a 40 px square with its text
pushed out of sight, unless the button says where the icon goes (``fr-btn--icon-left`` or
``--icon-right``) *and* the ``fr-btns-group`` around it, if any, says so too
(``fr-btns-group--icon-left``/``--icon-right``: without it the group makes every icon button
icon-only again). The browser walk (tests/e2e/test_readable_pages.py) sees the pages a
person reaches by links; this reads every template, pages behind a form included.

A button meant to show only its icon needs an ``aria-label`` and a DSFR tooltip
(``aria-describedby`` naming a ``role="tooltip"``). The header's tool links are the DSFR's
own pattern: their text shows on a desktop, and on a phone they move into the menu.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "convergence"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
ICON = re.compile(r"(?:^|\s)fr-(?:icon|fi)-")
SIDE = re.compile(r"--icon-(?:left|right)\b")


class IconButtons(HTMLParser):
    """Collects the icon buttons of one template that would show no text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str]] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "")
        if re.search(r"(?:^|\s)fr-btn(?:\s|$)", classes) and ICON.search(classes):
            self.check(tag, classes, attributes)
        if tag not in VOID:
            self.open.append((tag, classes))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def check(self, tag: str, classes: str, attributes: dict[str, str]) -> None:
        where = f'line {self.getpos()[0]}: <{tag} class="{classes}">'
        around = [outer for _, outer in self.open]
        if any("fr-header__tools-links" in outer for outer in around):
            return
        if not SIDE.search(classes):
            if not (attributes.get("aria-label") and attributes.get("aria-describedby")):
                self.problems.append(f"{where} icon only, without aria-label and tooltip")
            return
        groups = [outer for outer in around if re.search(r"(?:^|\s)fr-btns-group(?:\s|$)", outer)]
        if groups and not SIDE.search(groups[-1]):
            self.problems.append(f"{where} in a fr-btns-group without --icon-left/right")


def test_no_icon_button_hides_its_text() -> None:
    problems = []
    for template in sorted(SRC.glob("*/templates/**/*.html")):
        name = template.relative_to(SRC).as_posix()
        parser = IconButtons()
        parser.feed(template.read_text(encoding="utf-8"))
        problems += [f"{name} {problem}" for problem in parser.problems]
    assert problems == [], "\n".join(problems)
