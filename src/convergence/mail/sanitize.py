"""Sanitising a message's HTML before the reading page shows it in the portal's origin.

Three passes, each on the output of the one before:

1. nh3 (the Ammonia sanitiser) with a small allow-list of tags for mail layouts (tables,
   basic formatting, images, links) and of attributes (no ``on*``, no ``id``/``name``/
   ``class``). ``style`` attributes and ``<style>`` elements are dropped entirely rather than
   filtered: a CSS sanitiser is a parser of its own to get right, and a mail read without its
   colours stays readable. ``<script>``, ``<svg>``, ``<math>``, forms, frames, objects and
   other active or raw-text elements go with their content; ``<base>``, ``<meta>`` and
   ``<link>`` go. URLs keep the schemes http, https, mailto and cid only, and relative URLs
   are dropped (they would point at the portal). Remote images lose their ``src`` unless the
   reader allowed them, and are counted.
2. A re-serialising pass with the standard library's ``html.parser`` that rewrites ``cid:``
   sources to the portal's URL of the inline part, puts every link's real target in its
   ``title``, and appends a visible hint of the real domain when a link's text names another
   domain than its target (the phishing case). It escapes every text and attribute value.
3. nh3 again, with the same allow-list plus only what pass 2 adds, so nothing pass 2 emitted
   can carry markup the first pass refused.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

import nh3
from django.utils.translation import gettext as _

HINT_CLASS = "mail-real-domain"
LINK_REL = "noopener noreferrer nofollow"

TAGS = frozenset(
    {
        "a", "abbr", "address", "article", "b", "bdi", "bdo", "big", "blockquote", "br",
        "caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "dfn", "div",
        "dl", "dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre",
        "q", "rp", "rt", "ruby", "s", "samp", "section", "small", "span", "strike", "strong",
        "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u",
        "ul", "var", "wbr",
    }
)  # fmt: skip
# Removed together with everything inside them: active content, raw text, and forms (a
# form in a mail is a phishing page's password field far more often than anything else).
CLEAN_CONTENT_TAGS = frozenset(
    {
        "applet", "audio", "button", "canvas", "embed", "form", "frame", "frameset", "head",
        "iframe", "math", "noembed", "noframes", "noscript", "object", "plaintext", "script",
        "select", "style", "svg", "template", "textarea", "title", "video", "xmp",
    }
)  # fmt: skip
_CELL = {"align", "valign", "width", "height", "colspan", "rowspan", "bgcolor", "nowrap"}
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"dir", "lang", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height", "border", "align"},
    "table": {"width", "border", "cellpadding", "cellspacing", "align", "bgcolor", "summary"},
    "td": _CELL | {"headers", "scope"},
    "th": _CELL | {"headers", "scope", "abbr"},
    "tr": {"align", "valign", "bgcolor", "height"},
    "thead": {"align", "valign"},
    "tbody": {"align", "valign"},
    "tfoot": {"align", "valign"},
    "col": {"span", "width", "align", "valign"},
    "colgroup": {"span", "width", "align", "valign"},
    "div": {"align"},
    "p": {"align"},
    "h1": {"align"},
    "h2": {"align"},
    "h3": {"align"},
    "h4": {"align"},
    "h5": {"align"},
    "h6": {"align"},
    "hr": {"width", "size", "align", "noshade"},
    "font": {"color", "face", "size"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
    "time": {"datetime"},
    "bdo": {"dir"},
}
FIRST_PASS_SCHEMES = frozenset({"http", "https", "mailto", "cid"})
FINAL_SCHEMES = frozenset({"http", "https", "mailto"})
REMOTE_SCHEMES = ("http:", "https:")
# Second-level labels under which a country's registrable names sit (ac-besancon.fr but
# example.co.uk, service.gouv.fr): enough to name a domain in a hint without a suffix list.
_SECOND_LEVEL = frozenset(
    {"ac", "asso", "co", "com", "edu", "gouv", "gov", "ltd", "net", "nom", "org", "plc", "sch"}
)
_URLISH_TEXT = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*:(?://)?)?(?:[^\s/@:]+@)?"
    r"(?P<host>(?:[\w-]+\.)+(?:[^\W\d_]{2,}|xn--[\w-]+))\.?(?::\d+)?(?:[/?#]\S*)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CleanedHtml:
    """Sanitised HTML, ready to be marked safe, and how many remote resources were blocked."""

    html: str
    blocked_remote: int


def clean_html(
    html_text: str, *, allow_remote: bool, cid_url: Callable[[str], str | None]
) -> CleanedHtml:
    """Return ``html_text`` reduced to what the reading page may show in the portal's origin."""
    blocked = 0

    def first_filter(tag: str, attribute: str, value: str) -> str | None:
        nonlocal blocked
        if tag != "img" or attribute != "src":
            return value
        # Browsers ignore spaces and control characters in a URL (" http:", "ht\ttp:"): judge
        # the value as they read it. Without the reader's consent an image may only be a part
        # of the message (cid:); anything else is blocked, and counted when it is remote.
        seen = "".join(ch for ch in value if ord(ch) > 32 and ord(ch) != 127).lower()
        if seen.startswith("cid:"):
            return value
        if not allow_remote:
            if seen.startswith(REMOTE_SCHEMES) or seen.startswith("//"):
                blocked += 1
            return None
        return value if seen.startswith(REMOTE_SCHEMES) else None

    first = nh3.Cleaner(
        tags=TAGS,
        clean_content_tags=CLEAN_CONTENT_TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=first_filter,
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes=FIRST_PASS_SCHEMES,
        url_relative="deny",
    ).clean(html_text)

    rewriter = _LinkRewriter(cid_url)
    rewriter.feed(first)
    rewriter.close()

    produced = rewriter.produced_urls

    def allow_produced(url: str) -> str | None:
        return url if url in produced else None

    final_attributes = {name: set(values) for name, values in ATTRIBUTES.items()}
    final_attributes["a"] = final_attributes["a"] | {"title"}
    final = nh3.Cleaner(
        tags=TAGS,
        clean_content_tags=CLEAN_CONTENT_TAGS,
        attributes=final_attributes,
        link_rel=LINK_REL,
        set_tag_attribute_values={"a": {"target": "_blank"}},
        allowed_classes={"span": {HINT_CLASS}},
        url_schemes=FINAL_SCHEMES,
        url_relative=allow_produced,
    ).clean("".join(rewriter.out))
    return CleanedHtml(html=final, blocked_remote=blocked)


def registrable_domain(host: str) -> str:
    """The part of ``host`` its owner registered (``secure-login.info`` of
    ``ac-besancon.fr.secure-login.info``), by a heuristic good enough for a warning."""
    host = host.strip(".").lower()
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _ascii_host(host: str) -> str:
    host = host.strip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _href_host(href: str) -> str | None:
    if href.lower().startswith("mailto:"):
        address = unquote(href[len("mailto:") :]).split("?", 1)[0].split(",", 1)[0]
        _, at, domain = address.rpartition("@")
        return (domain.strip() or None) if at else None
    try:
        return urlsplit(href).hostname
    except ValueError:
        return None


def _real_domain_hint(text: str, href: str) -> str | None:
    """The real domain to show when a link's text names another domain than its target."""
    match = _URLISH_TEXT.match(" ".join(text.split()))
    if match is None:
        return None
    target = _href_host(href)
    if not target:
        return None
    shown = registrable_domain(_ascii_host(match.group("host")))
    real = registrable_domain(_ascii_host(target))
    if shown == real:
        return None
    return real


class _LinkRewriter(HTMLParser):
    """Re-serialises nh3's output: ``cid:`` sources, link titles and real-domain hints."""

    def __init__(self, cid_url: Callable[[str], str | None]) -> None:
        super().__init__(convert_charrefs=True)
        self.cid_url = cid_url
        self.out: list[str] = []
        self.produced_urls: set[str] = set()
        self.link_href: str | None = None
        self.link_text: list[str] = []

    def _resolve_cid(self, url: str) -> str | None:
        content_id = unquote(url[len("cid:") :]).strip().strip("<>")
        try:
            resolved = self.cid_url(content_id) if content_id else None
        except Exception:  # a failing lookup only loses an image
            resolved = None
        if resolved:
            self.produced_urls.add(resolved)
        return resolved

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = HEADING_SHIFT.get(tag, tag)
        kept: list[tuple[str, str | None]] = []
        href: str | None = None
        for name, value in attrs:
            if name in {"src", "href"} and value is not None and value.lower().startswith("cid:"):
                value = self._resolve_cid(value)
                if value is None:
                    continue
            if tag == "a" and name == "title":
                continue
            if tag == "a" and name == "href":
                href = value
            kept.append((name, value))
        if tag == "a":
            if href:
                kept.append(("title", href))
            self.link_href = href
            self.link_text = []
        self.out.append(_start_tag(tag, kept))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        tag = HEADING_SHIFT.get(tag, tag)
        self.out.append(f"</{tag}>")
        if tag == "a":
            href, text = self.link_href, "".join(self.link_text)
            self.link_href, self.link_text = None, []
            domain = _real_domain_hint(text, href) if href else None
            if domain is not None:
                hint = _("[domaine réel : %(domain)s]") % {"domain": domain}
                self.out.append(f' <span class="{HINT_CLASS}">{html.escape(hint)}</span>')

    def handle_data(self, data: str) -> None:
        if self.link_href is not None:
            self.link_text.append(data)
        self.out.append(html.escape(data, quote=False))


# The page has its own h1 (the subject) and h2: a message's headings go below them, so that
# the page's outline stays the page's for a screen reader.
HEADING_SHIFT = {"h1": "h3", "h2": "h4", "h3": "h5", "h4": "h6", "h5": "h6"}


def _start_tag(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    parts = [tag]
    for name, value in attrs:
        parts.append(name if value is None else f'{name}="{html.escape(value, quote=True)}"')
    return "<" + " ".join(parts) + ">"


def html_to_text(html_text: str) -> str:
    """A plain-text rendering of ``html_text``: tags stripped, blocks on their own lines."""
    extractor = _TextExtractor()
    with contextlib.suppress(Exception):  # html.parser is lenient; a failure keeps what was read
        extractor.feed(html_text)
        extractor.close()
    lines = [" ".join(line.split()) for line in "".join(extractor.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "br", "caption", "div", "dl", "dt", "dd",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_HIDDEN = frozenset({"head", "script", "style", "svg", "math", "template", "title", "noscript"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag in {"td", "th"}:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)
