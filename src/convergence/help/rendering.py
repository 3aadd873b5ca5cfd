"""A guide's Markdown as safe HTML: markdown-it-py (CommonMark and tables), headings with
French anchors, links out of the portal marked as such, images served from the guides' own
folder, then nh3 with an allow-list (no script, event handler, style, ``javascript:`` or
``data:`` link). The result is kept in the cache (``core.fragments``) under the guide's version
(file modification time or draft update) and the code's."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import nh3
from django.urls import reverse
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from convergence.core import fragments
from convergence.help.guides import Guide

IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.(?:png|jpe?g|gif|webp)$")
TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title", "target", "rel"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "h5": {"id"},
    "h6": {"id"},
    "th": {"scope"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
IMAGES_URL_PREFIX = "/aide/guides/images/"


def _heading_ids(tokens: list[Token]) -> None:
    seen: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        base = slugify(inline.content) or "section"
        count = seen.get(base, 0)
        seen[base] = count + 1
        token.attrSet("id", base if count == 0 else f"{base}-{count + 1}")


def _render_link_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if href.startswith(("http://", "https://")):
        token.attrSet("target", "_blank")
        token.attrSet("rel", "noopener noreferrer")
        words = []
        for following in tokens[idx + 1 :]:
            if following.type == "link_close":
                break
            words.append(following.content)
        label = str(token.attrGet("title") or "".join(words)).strip()
        suffix = _("nouvelle fenêtre")
        token.attrSet("title", f"{label} — {suffix}" if label else suffix)
    return renderer.renderToken(tokens, idx, options, env)


def _render_image(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    name = src.removeprefix("images/")
    if not src.startswith("images/") or not IMAGE_NAME.match(name):
        # Only the guides' own images: no request leaves for another site, no data: URL.
        return html.escape(alt)
    url = reverse("help:image", args=[name])
    return f'<img src="{html.escape(url)}" alt="{html.escape(alt)}" loading="lazy">'


def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
    parser.add_render_rule("link_open", _render_link_open)
    parser.add_render_rule("image", _render_image)
    return parser


_PARSER = _parser()


def _only_local_images(element: str, attribute: str, value: str) -> str | None:
    if element == "img" and attribute == "src" and not value.startswith(IMAGES_URL_PREFIX):
        return None
    return value


def sanitise(markup: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes."""
    cleaned = nh3.clean(
        markup,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
        attribute_filter=_only_local_images,
    )
    # Tables take the DSFR's frame (after nh3, which keeps no class).
    return cleaned.replace("<table>", '<div class="fr-table"><table>').replace(
        "</table>", "</table></div>"
    )


def render_markdown(text: str) -> str:
    tokens = _PARSER.parse(text)
    _heading_ids(tokens)
    markup = _PARSER.renderer.render(tokens, _PARSER.options, {})
    return sanitise(markup)


def render(guide: Guide) -> SafeString:
    """The guide's body as safe HTML, from the cache when this version was rendered before."""
    key = fragments.key("help-guide", guide.slug, guide.version)
    rendered = fragments.cached(key, lambda: render_markdown(guide.body))
    return mark_safe(rendered)  # noqa: S308 — sanitised by nh3 above


def plain_text(guide: Guide) -> str:
    """What the search reads of the body: the rendered text without its tags."""
    return html.unescape(strip_tags(render_markdown(guide.body)))


def headings(rendered: str) -> list[dict[str, Any]]:
    """The body's second-level headings (id, text): the guide's table of contents."""
    found = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', rendered, re.DOTALL)
    return [{"id": anchor, "text": html.unescape(strip_tags(text))} for anchor, text in found]
