"""An announcement's text as safe HTML: the author writes Markdown-light (paragraphs, bold,
italics, lists, links, subheadings), markdown-it-py renders it, then nh3 keeps only an
allow-list (no script, event handler, style, image, ``javascript:`` or ``data:`` link)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h3", "h4"}
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"https", "mailto"}
# The page already has its h1 and h2: an author's headings become h3 and h4.
_HEADING = {"h1": "h3", "h2": "h3", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}

_PARSER = MarkdownIt("commonmark", {"html": True, "linkify": False, "breaks": True}).disable(
    ["image", "code", "fence", "table", "hr", "blockquote", "backticks"], ignoreInvalid=True
)


def _shift_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = _HEADING.get(token.tag, "h4")


def sanitise(markup: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes; links get
    ``rel="noopener"``, relative links are dropped."""
    return nh3.clean(
        markup,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
        url_relative="deny",
    )


def render(text: str) -> str:
    """``text`` (what the author typed) as the sanitised HTML recipients see."""
    tokens = _PARSER.parse(text)
    _shift_headings(tokens)
    return sanitise(_PARSER.renderer.render(tokens, _PARSER.options, {})).strip()
