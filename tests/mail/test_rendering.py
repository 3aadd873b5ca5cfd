"""A message's raw bytes become what the reading page shows, safely and without raising."""

from __future__ import annotations

import datetime
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from convergence.mail.rendering import (
    Address,
    Part,
    RenderedMessage,
    extract_part,
    render_message,
    safe_download_headers,
    safe_filename,
)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


def part_url(part_id: str) -> str:
    return f"/messagerie/INBOX/42/parties/{part_id}/"


def render(raw: bytes, *, allow_remote: bool = False) -> RenderedMessage:
    return render_message(raw, allow_remote=allow_remote, part_url=part_url)


def new_message(subject: str = "Conseil de classe") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Sophie Bernard <sophie.bernard@ac-besancon.fr>"
    message["To"] = "Marc Duval <marc.duval@ac-besancon.fr>, vie-scolaire@ac-besancon.fr"
    message["Subject"] = subject
    message["Date"] = "Tue, 04 Nov 2025 08:15:00 +0100"
    message["Message-ID"] = "<conseil-4e2@ac-besancon.fr>"
    return message


def as_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP)


def test_alternative_gives_both_text_and_sanitised_html() -> None:
    message = new_message()
    message.set_content("Le conseil de 4e2 a lieu jeudi.")
    message.add_alternative(
        "<p>Le conseil de <b>4e2</b> a lieu jeudi.</p><script>alert(1)</script>", subtype="html"
    )

    rendered = render(as_bytes(message))

    assert rendered.text.strip() == "Le conseil de 4e2 a lieu jeudi."
    assert rendered.html == "<p>Le conseil de <b>4e2</b> a lieu jeudi.</p>\n"
    assert rendered.attachments == []


def test_headers_are_decoded() -> None:
    message = new_message(subject="Réunion parents-professeurs")
    message["Cc"] = "=?utf-8?q?Jos=C3=A9_Martin?= <jose.martin@ac-besancon.fr>"
    message["In-Reply-To"] = "<invitation-1@ac-besancon.fr>"
    message["References"] = "<rentree@ac-besancon.fr> <invitation-1@ac-besancon.fr>"
    message.set_content("Bonjour")

    rendered = render(as_bytes(message))

    assert rendered.subject == "Réunion parents-professeurs"
    assert rendered.sender == Address(name="Sophie Bernard", email="sophie.bernard@ac-besancon.fr")
    assert rendered.to == [
        Address(name="Marc Duval", email="marc.duval@ac-besancon.fr"),
        Address(name="", email="vie-scolaire@ac-besancon.fr"),
    ]
    assert rendered.cc == [Address(name="José Martin", email="jose.martin@ac-besancon.fr")]
    assert rendered.date == datetime.datetime(2025, 11, 4, 7, 15, tzinfo=datetime.UTC)
    assert rendered.date is not None and rendered.date.tzinfo is not None
    assert rendered.message_id == "<conseil-4e2@ac-besancon.fr>"
    assert rendered.in_reply_to == "<invitation-1@ac-besancon.fr>"
    assert rendered.references == ["<rentree@ac-besancon.fr>", "<invitation-1@ac-besancon.fr>"]


def test_encoded_line_breaks_in_headers_are_stripped() -> None:
    raw = (
        b"From: =?utf-8?q?Pirate=0D=0ABcc:_x@evil.example?= <p@evil.example>\r\n"
        b"Subject: =?utf-8?q?Urgent=0D=0AX-Injected:_oui?=\r\n"
        b"\r\nCorps\r\n"
    )

    rendered = render(raw)

    assert rendered.subject == "Urgent X-Injected: oui"
    assert rendered.sender is not None
    assert "\r" not in rendered.sender.name and "\n" not in rendered.sender.name


def test_invalid_or_missing_date_is_none() -> None:
    assert render(b"Date: le jour des morts\r\n\r\nx").date is None
    assert render(b"Subject: x\r\n\r\nx").date is None


def test_date_without_known_zone_is_taken_as_utc() -> None:
    rendered = render(b"Date: Tue, 04 Nov 2025 08:15:00 -0000\r\n\r\nx")

    assert rendered.date == datetime.datetime(2025, 11, 4, 8, 15, tzinfo=datetime.UTC)


def test_pdf_attachment_of_a_mixed_message_is_part_2() -> None:
    message = new_message()
    message.set_content("Voir le compte rendu joint.")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="cr.pdf")
    raw = as_bytes(message)

    rendered = render(raw)

    assert rendered.text.strip() == "Voir le compte rendu joint."
    assert len(rendered.attachments) == 1
    attachment = rendered.attachments[0]
    assert (attachment.part_id, attachment.filename, attachment.content_type) == (
        "2",
        "cr.pdf",
        "application/pdf",
    )
    assert attachment.size == len(PDF)
    assert attachment.inline is False
    part = extract_part(raw, "2")
    assert part is not None
    assert part.data == PDF
    assert part.content_type == "application/pdf"


def related_message() -> bytes:
    """mixed[ related[ alternative[text, html], png ], pdf ]: the picture is "1.2"."""
    message = new_message()
    message.set_content("Le logo du lycée est ci-dessous.")
    message.add_alternative(
        '<p>Le logo du lycée :</p><img src="cid:logo@lycee-pasteur" alt="Logo">'
        '<img src="https://newsletter.example/open.gif">',
        subtype="html",
    )
    html_part = message.get_payload()[1]
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<logo@lycee-pasteur>")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="cr.pdf")
    return as_bytes(message)


def test_nested_parts_are_numbered_as_imap_does() -> None:
    raw = related_message()

    rendered = render(raw)

    by_id = {a.part_id: a for a in rendered.attachments}
    assert set(by_id) == {"1.2.2", "2"}
    assert by_id["1.2.2"].content_id == "logo@lycee-pasteur"
    assert by_id["1.2.2"].inline is True
    assert by_id["1.2.2"].content_type == "image/png"
    assert extract_part(raw, "1.1") is not None
    assert extract_part(raw, "1.2.2") == Part(
        part_id="1.2.2", filename="piece-jointe", content_type="image/png", data=PNG
    )
    assert extract_part(raw, "1.2") is None  # a container, not a downloadable part
    assert extract_part(raw, "3") is None


def test_related_html_shows_inline_image_from_the_portal_and_blocks_remote_ones() -> None:
    rendered = render(related_message())

    assert rendered.html is not None
    assert 'src="/messagerie/INBOX/42/parties/1.2.2/"' in rendered.html
    assert "newsletter.example" not in rendered.html
    assert rendered.blocked_remote == 1


def test_remote_images_load_when_the_reader_allows_them() -> None:
    rendered = render(related_message(), allow_remote=True)

    assert rendered.html is not None
    assert 'src="https://newsletter.example/open.gif"' in rendered.html
    assert rendered.blocked_remote == 0


def test_second_level_nesting_is_1_2() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: multipart/related; boundary=B\r\n\r\n"
        b'--B\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<img src="cid:plan">\r\n'
        b"--B\r\nContent-Type: image/gif\r\nContent-ID: <plan>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n"
        b"--B--\r\n"
        b"--A\r\nContent-Type: application/pdf; name=plan.pdf\r\n\r\n%PDF\r\n"
        b"--A--\r\n"
    )

    rendered = render(raw)

    assert [a.part_id for a in rendered.attachments] == ["1.2", "2"]
    assert rendered.html == '<img src="/messagerie/INBOX/42/parties/1.2/">'
    assert rendered.attachments[1].filename == "plan.pdf"


def test_message_only_html_gets_a_text_rendering() -> None:
    message = new_message()
    message.set_content("<p>Bonjour,</p><p>La sortie est <b>annulée</b>.</p>", subtype="html")

    rendered = render(as_bytes(message))

    assert rendered.text == "Bonjour,\n\nLa sortie est annulée."
    assert rendered.html is not None


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\system.ini", "system.ini"),
        ("rapport\r\nX-Injected: oui.pdf", "rapportX-Injected: oui.pdf"),
        ("..", "piece-jointe"),
        ("", "piece-jointe"),
        ("\x00\x1b", "piece-jointe"),
        ("a" * 300 + ".pdf", "a" * 116 + ".pdf"),
    ],
)
def test_filenames_are_made_safe(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


def test_attachment_filename_with_path_and_line_breaks_is_made_safe() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nvoir PJ\r\n"
        b"--A\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\r\n\r\nroot\r\n'
        b"--A\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="=?utf-8?q?a=0D=0Ab=2Ftmp=2Fx.sh?="\r\n'
        b"\r\nx\r\n"
        b"--A--\r\n"
    )

    rendered = render(raw)

    assert [a.filename for a in rendered.attachments] == ["passwd", "x.sh"]


def test_rfc2231_french_filename_is_decoded() -> None:
    message = new_message()
    message.set_content("ci-joint")
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="Compte rendu réunion.pdf"
    )
    raw = as_bytes(message)
    assert b"filename*=utf-8''" in raw

    rendered = render(raw)

    assert rendered.attachments[0].filename == "Compte rendu réunion.pdf"


def test_rfc2047_french_filename_is_decoded() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nci-joint\r\n"
        b'--A\r\nContent-Type: application/pdf; name="=?ISO-8859-1?Q?Compte_rendu_r=E9union.pdf?="'
        b"\r\nContent-Disposition: attachment;\r\n"
        b' filename="=?UTF-8?B?Q29tcHRlIHJlbmR1IHLDqXVuaW9uLnBkZg==?="\r\n\r\n%PDF\r\n'
        b"--A--\r\n"
    )

    rendered = render(raw)

    assert rendered.attachments[0].filename == "Compte rendu réunion.pdf"


@pytest.mark.parametrize(
    "content_type",
    ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/javascript"],
)
def test_active_attachments_are_served_as_octet_stream(content_type: str) -> None:
    maintype, subtype = content_type.split("/")
    message = new_message()
    message.set_content("ci-joint")
    message.add_attachment(
        b"<script>alert(document.cookie)</script>",
        maintype=maintype,
        subtype=subtype,
        filename="facture.html",
    )
    part = extract_part(as_bytes(message), "2")
    assert part is not None
    assert part.content_type == content_type

    headers = safe_download_headers(part)

    assert headers["Content-Type"] == "application/octet-stream"
    assert headers["Content-Disposition"].startswith("attachment;")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"


def test_download_headers_encode_the_filename_per_rfc_6266() -> None:
    part = Part(
        part_id="2",
        filename='Compte rendu "réunion".pdf',
        content_type="application/pdf",
        data=PDF,
    )

    headers = safe_download_headers(part)

    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        'attachment; filename="Compte rendu _r_union_.pdf"; '
        "filename*=UTF-8''Compte%20rendu%20%22r%C3%A9union%22.pdf"
    )


def test_invalid_content_type_becomes_octet_stream() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nx\r\n"
        b'--A\r\nContent-Type: text/html<script>; name="a.bin"\r\n\r\nx\r\n'
        b"--A--\r\n"
    )

    rendered = render(raw)

    assert rendered.attachments[0].content_type == "application/octet-stream"


def test_attached_message_is_one_attachment() -> None:
    inner = new_message(subject="Ordre du jour")
    inner.set_content("1. Bilan")
    message = new_message(subject="Fwd: Ordre du jour")
    message.set_content("Je te transfère.")
    message.add_attachment(inner)

    rendered = render(as_bytes(message))

    assert [(a.part_id, a.filename, a.content_type) for a in rendered.attachments] == [
        ("2", "Ordre du jour.eml", "message/rfc822")
    ]


MALFORMED = {
    "unknown charset": (
        b"Subject: x\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\nBonjour r\xc3\xa9union"
    ),
    "broken base64": (
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"Qm9u!!!am91*cg=\r\n"
    ),
    "no headers": b"\r\n\r\n",
    "empty": b"",
    "8-bit garbage": (
        b"Subject: \xff\xfe\x00\x80caf\xe9\r\nFrom: \xe9\xe9 <\xff@\xfe>\r\n\r\n\xff\x00\x81"
    ),
    "bad address": b"From: <<<@@@>>>,;:\r\nTo: undisclosed-recipients:;\r\n\r\nx",
    "unterminated multipart": (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\nContent-Type: text/html\r\n"
        b"\r\n<p>tronqu"
    ),
    "multipart without boundary": b"Content-Type: multipart/mixed\r\n\r\nrien",
    "bad encoded word": b"Subject: =?utf-8?b?@@@?= =?x-unknown?q?abc?=\r\n\r\nx",
    "bad rfc2231": (
        b"Content-Type: multipart/mixed; boundary=A\r\n\r\n--A\r\nContent-Type: text/plain\r\n\r\n"
        b"x\r\n--A\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        b"filename*=x-bad''%ZZ%ff\r\n\r\n%PDF\r\n--A--\r\n"
    ),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_messages_do_not_raise(raw: bytes) -> None:
    rendered = render(raw)

    assert rendered.text
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    for attachment in rendered.attachments:
        assert attachment.filename
        assert "/" not in attachment.filename
        extract_part(raw, attachment.part_id)


def test_message_with_no_body_shows_a_placeholder() -> None:
    assert render(b"Subject: vide\r\n\r\n").text == "(message vide)"


def test_message_of_only_attachments_shows_a_placeholder_and_lists_them() -> None:
    message = new_message()
    message.make_mixed()
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="b.pdf")

    rendered = render(as_bytes(message))

    assert rendered.text == "(message vide)"
    assert rendered.html is None
    assert [(a.part_id, a.filename) for a in rendered.attachments] == [
        ("1", "a.pdf"),
        ("2", "b.pdf"),
    ]


def test_unknown_charset_falls_back_to_utf8() -> None:
    rendered = render(MALFORMED["unknown charset"])

    assert rendered.text == "Bonjour réunion"


def test_latin1_body_is_decoded_with_its_charset() -> None:
    raw = b"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCompte rendu r\xe9union"

    assert render(raw).text == "Compte rendu réunion"


def test_multipart_without_boundary_shows_its_text() -> None:
    rendered = render(MALFORMED["multipart without boundary"])

    assert rendered.text == "rien"
    assert rendered.attachments == []


def test_parts_nested_too_deep_for_the_parser_do_not_raise() -> None:
    raw = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
        for level in range(3000)
    )
    raw += b"Content-Type: text/plain\r\n\r\nau fond\r\n"

    rendered = render(raw)

    assert rendered.text
    assert extract_part(raw, "1") is not None
