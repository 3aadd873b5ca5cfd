"""What an announcement carries: its text rendered from Markdown-light and sanitised, and
files accepted by their content, within the limits, handed out to recipients only."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from convergence.portal import announcement_files
from convergence.portal.announcement_text import render
from convergence.portal.models import AnnouncementAttachment
from tests.helpers import client_of
from tests.portal.announcement_factories import sent, written

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Path) -> None:
    settings.ANNOUNCEMENT_ATTACHMENTS_DIR = tmp_path / "announcements"


def office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if kind == "odt":
            archive.writestr("mimetype", announcement_files.ODT)
            archive.writestr("content.xml", "<office:document-content/>")
        elif kind == "docx":
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "<w:document/>")
        else:
            archive.writestr("readme.txt", "just a zip")
    return buffer.getvalue()


# --- text -------------------------------------------------------------------------------------


def test_markdown_light_is_rendered() -> None:
    html = render(
        "### Sortie\n\n**Jeudi**, *18 h* :\n\n- gymnase\n- [plan](https://ac-besancon.fr)"
    )
    assert "<h3>Sortie</h3>" in html and "<strong>Jeudi</strong>" in html
    assert "<em>18 h</em>" in html and "<li>gymnase</li>" in html
    assert '<a href="https://ac-besancon.fr" rel="noopener">plan</a>' in html


@pytest.mark.parametrize(
    ("typed", "forbidden"),
    [
        ("<script>alert(1)</script>Bonjour", "<script"),
        ("<script>alert(1)</script>Bonjour", "alert(1)"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<p onclick="alert(1)">x</p>', "onclick"),
        ("[clic](javascript:alert(1))", 'href="javascript'),
        ('<a href="javascript:alert(1)">clic</a>', "javascript:"),
        ('<a href="data:text/html,x">clic</a>', "data:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<span style="color:red">x</span>', "style="),
        ("# Titre", "<h1"),
    ],
)
def test_what_could_run_or_restyle_is_stripped(typed: str, forbidden: str) -> None:
    assert forbidden not in render(typed)


def test_the_stored_body_is_sanitised(head_of_school: Any) -> None:
    announcement = written(head_of_school, body="Lire <script>x()</script>[ici](javascript:x())")
    assert (
        "<script" not in announcement.body_html and 'href="javascript' not in announcement.body_html
    )
    assert announcement.body_source.startswith("Lire <script>")


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("convocation.pdf", PDF_BYTES, announcement_files.PDF),
        ("plan.png", PNG_BYTES, announcement_files.PNG),
        ("compte-rendu.odt", office("odt"), announcement_files.ODT),
        ("compte-rendu.docx", office("docx"), announcement_files.DOCX),
    ],
)
def test_accepted_files_are_known_by_their_content(name: str, content: bytes, kind: str) -> None:
    checked = announcement_files.check(SimpleUploadedFile(name, content))
    assert checked.content_type == kind and checked.name == name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("programme.pdf", b"MZ\x90\x00 a program renamed"),
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
        ("image.png", PDF_BYTES),  # a real PDF, but announced as an image
        ("archive.docx", office("zip")),  # a ZIP that is no office document
        ("script.js", b"alert(1)"),
        ("vide.pdf", b""),
    ],
)
def test_wrong_types_are_refused_even_when_renamed(name: str, content: bytes) -> None:
    with pytest.raises(announcement_files.RefusedFile):
        announcement_files.check(SimpleUploadedFile(name, content))


def test_files_over_the_size_limit_are_refused(settings: Any) -> None:
    settings.ANNOUNCEMENT_ATTACHMENT_MAX_MB = 1
    big = SimpleUploadedFile("gros.pdf", PDF_BYTES + b"0" * (1024 * 1024))
    with pytest.raises(announcement_files.RefusedFile, match="dépasse 1 Mo"):
        announcement_files.check(big)


def _form(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Sortie scolaire",
        "body": "Autorisation à signer.",
        "scope": "etablissement",
        "action": "enregistrer",
        **extra,
    }


def test_the_form_refuses_a_renamed_file_and_a_sixth_file(head_of_school: Any) -> None:
    from tests.portal.announcement_factories import establishment

    client = client_of(head_of_school)
    college = establishment().pk
    renamed = client.post(
        "/annonces/gestion/nouvelle/",
        _form(establishment=college, attachments=[SimpleUploadedFile("a.pdf", b"MZ not a pdf")]),
    )
    assert renamed.status_code == 400, renamed.context["form"].errors
    assert "accepté" in renamed.content.decode()
    six = [SimpleUploadedFile(f"f{n}.pdf", PDF_BYTES) for n in range(6)]
    too_many = client.post(
        "/annonces/gestion/nouvelle/", _form(establishment=college, attachments=six)
    )
    assert too_many.status_code == 400 and "Trop de fichiers" in too_many.content.decode()
    ok = client.post(
        "/annonces/gestion/nouvelle/",
        _form(establishment=college, attachments=[SimpleUploadedFile("Sortie.pdf", PDF_BYTES)]),
    )
    assert ok.status_code == 302
    attachment = AnnouncementAttachment.objects.get()
    assert attachment.name == "Sortie.pdf" and attachment.content_type == "application/pdf"
    # Kept outside MEDIA_ROOT, under a name of its own.
    assert "Sortie" not in str(attachment.file.name)


def test_files_go_to_recipients_as_downloads_and_404_to_others(
    head_of_school: Any, pupil: Any, pupil_in_dole: Any
) -> None:
    checked = announcement_files.check(SimpleUploadedFile("menu.pdf", PDF_BYTES))
    announcement = sent(head_of_school, attachments=[checked])
    attachment = announcement.attachments.get()
    url = f"/annonces/{announcement.pk}/pieces-jointes/{attachment.pk}/"
    response = client_of(pupil).get(url)
    assert response.status_code == 200
    assert response.getvalue() == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    # Yanis is in Dole: not a recipient, the same 404 as for a file that does not exist.
    assert client_of(pupil_in_dole).get(url).status_code == 404
    assert client_of(head_of_school).get(url).status_code == 200
    assert client_of(pupil).get(f"{url[:-1]}0/").status_code == 404
