"""Guides rendered safe: what a guide's Markdown may not carry is removed."""

from __future__ import annotations

from convergence.help import guides
from convergence.help.rendering import render_markdown


def test_script_in_a_guide_is_removed():
    html = render_markdown("Bonjour <script>alert('x')</script> à tous")
    assert "<script" not in html
    assert "alert" not in html


def test_event_handlers_and_style_attributes_are_removed():
    html = render_markdown(
        '<p onclick="vol()" style="color:red">Texte</p><img src=x onerror=vol()>'
    )
    assert "onclick" not in html
    assert "onerror" not in html
    assert "style" not in html
    assert "vol()" not in html


def test_javascript_and_data_links_are_removed():
    html = render_markdown(
        "[a](javascript:alert(1)) [b](data:text/html;base64,PHNjcmlwdD4=)\n\n"
        '<a href="JaVaScRiPt:alert(2)">c</a> <a href="data:text/html,x">d</a>'
    )
    # Markdown makes no link of them (their text stays); raw HTML links lose their href.
    assert "href" not in html
    assert "<a>c</a> <a>d</a>" in html


def test_headings_get_french_anchors_unique_in_the_page():
    html = render_markdown("## Élèves et parents\n\n## Élèves et parents")
    assert '<h2 id="eleves-et-parents">' in html
    assert '<h2 id="eleves-et-parents-2">' in html


def test_links_out_of_the_portal_open_a_new_window_and_say_so():
    html = render_markdown("[EduConnect](https://educonnect.education.gouv.fr) [page](/aide/)")
    assert 'target="_blank"' in html
    assert 'rel="noopener noreferrer"' in html
    assert 'title="EduConnect — nouvelle fenêtre"' in html
    assert '<a href="/aide/">page</a>' in html


def test_images_are_served_from_the_guides_folder_only():
    html = render_markdown(
        "![Écran](images/ecran.png) ![x](https://ailleurs.example/x.png) ![y](images/../secret.png)"
        '\n\n<img src="https://ailleurs.example/pixel.gif">'
    )
    assert '<img src="/aide/guides/images/ecran.png" alt="Écran"' in html
    assert "ailleurs.example" not in html
    assert "secret" not in html


def test_tables_take_the_dsfr_frame():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")
    assert '<div class="fr-table"><table>' in html


def test_guide_page_shows_the_body_and_its_last_review(client, db, write_guide):
    write_guide("mon-guide", title="Mon guide", body="## Étape 1\nCliquez <b onclick=x()>ici</b>.")
    response = client.get("/aide/guides/mon-guide/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<h2 id="etape-1">Étape 1</h2>' in page
    assert "onclick" not in page
    assert "Dernière relecture :" in page
    assert "1 décembre 2026" in page


def test_easy_read_version_is_linked_both_ways(client, db, write_guide):
    write_guide("mot-de-passe-oublie", title="Mot de passe oublié")
    write_guide(
        "mot-de-passe-oublie-facile",
        title="Mot de passe oublié (facile à lire)",
        extra="easy_read: true\nvariant_of: mot-de-passe-oublie\n",
    )
    original = client.get("/aide/guides/mot-de-passe-oublie/").content.decode()
    assert 'href="/aide/guides/mot-de-passe-oublie-facile/"' in original
    easy = client.get("/aide/guides/mot-de-passe-oublie-facile/").content.decode()
    assert 'href="/aide/guides/mot-de-passe-oublie/"' in easy


def test_image_view_refuses_paths(client, db, guides_dir):
    (guides_dir / "images" / "ecran.png").write_bytes(b"\x89PNG\r\n")
    (guides_dir / "secret.png").write_bytes(b"secret")
    assert client.get("/aide/guides/images/ecran.png").status_code == 200
    assert client.get("/aide/guides/images/..%2Fsecret.png").status_code == 404
    assert client.get("/aide/guides/images/.htaccess").status_code == 404


def test_unknown_guide_answers_404(client, db, guides_dir):
    assert client.get("/aide/guides/inconnu/").status_code == 404


def test_rendered_body_is_cached_under_the_guide_version(db, write_guide, monkeypatch):
    from convergence.help import rendering

    write_guide("cache", body="Premier")
    guide = guides.collection().get("cache")
    assert guide is not None
    assert "Premier" in rendering.render(guide)
    calls = []
    monkeypatch.setattr(rendering, "render_markdown", lambda text: calls.append(text) or "")
    rendering.render(guide)
    assert calls == []
