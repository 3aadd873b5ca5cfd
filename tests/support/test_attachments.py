"""Files joined to tickets, their checks and their download; the last error code a person was
shown, carried into the ticket they open."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.support import attachments, events
from convergence.support.actions import tickets as actions
from convergence.support.models import Ticket, TicketAttachment
from tests.helpers import text_of

COLLEGE = "0250013D"  # Collège Victor Hugo, Besançon (Doubs): Julien is its référent
LYCEE_DOLE = "0390012B"  # Lycée Charles Nodier, Dole (Jura)
NEW = "/assistance/demandes/nouvelle/"
PUBLIC = "/assistance/demandes/sans-compte/"

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PAGE = b"<!DOCTYPE html><html><script>fetch('/gestion/')</script></html>"


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path: Path) -> Path:
    """Each test's files in its own directory, created by the first upload."""
    settings.SUPPORT_ATTACHMENTS_DIR = tmp_path / "pieces-jointes"
    return settings.SUPPORT_ATTACHMENTS_DIR


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def open_with_files(person, *files, uai=COLLEGE):
    establishment = Establishment.objects.get(uai=uai)
    return actions.open_ticket(
        acting_user=person,
        category="services",
        description="L'ENT affiche une page blanche.",
        establishment=establishment,
        profiles=frozenset({"parent"}),
        roles=frozenset({"parent"}),
        department_ids=frozenset({establishment.department_id}),
        attachments=[attachments.check(file) for file in files],
    )


def ticket_fields(**extra):
    return {
        "category": "materiel",
        "description": "La tablette de Léa ne charge plus.",
        "establishment": Establishment.objects.get(uai=COLLEGE).pk,
        **extra,
    }


def test_parent_joins_a_png_and_a_pdf_to_a_new_ticket(client, parent, storage_dir, settings):
    client.force_login(parent)
    response = client.post(
        NEW,
        ticket_fields(
            attachments=[
                upload("capture d'écran.png", PNG),
                upload("facture.pdf", PDF, "application/pdf"),
            ]
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(description="La tablette de Léa ne charge plus.")
    files = list(ticket.attachments.order_by("name"))
    assert [(f.name, f.content_type, f.size) for f in files] == [
        ("capture d'écran.png", "image/png", len(PNG)),
        ("facture.pdf", "application/pdf", len(PDF)),
    ]
    stored = storage_dir / files[0].file.name
    assert stored.read_bytes() == PNG
    assert not stored.is_relative_to(Path(settings.MEDIA_ROOT))
    opened = AuditEvent.objects.of_type(events.TICKET_OPENED).latest("pk")
    assert opened.data["attachments"] == 2


def test_the_form_states_the_limits(client, parent):
    client.force_login(parent)
    page = text_of(client.get(NEW))
    assert 'enctype="multipart/form-data"' in page
    limits = "Au plus 3 fichiers de 5 Mo chacun : images PNG ou JPEG, PDF, texte (.txt, .log)."
    assert limits in page


def test_an_oversized_file_is_refused_and_the_text_typed_is_kept(client, parent, settings):
    settings.SUPPORT_ATTACHMENT_MAX_MB = 1
    client.force_login(parent)
    big = upload("photo.png", PNG + bytes(1024 * 1024))
    response = client.post(NEW, ticket_fields(attachments=[big]))
    page = text_of(response)
    assert response.status_code == 200
    assert "Le fichier « photo.png » dépasse 1 Mo" in page
    assert ">La tablette de Léa ne charge plus.</textarea>" in page
    assert '<option value="materiel" selected>' in page
    assert not Ticket.objects.filter(description="La tablette de Léa ne charge plus.").exists()


def test_a_page_renamed_png_is_refused(client, parent, storage_dir):
    client.force_login(parent)
    response = client.post(NEW, ticket_fields(attachments=[upload("capture.png", PAGE)]))
    assert "Ce type de fichier n'est pas accepté : « capture.png »" in text_of(response)
    assert not Ticket.objects.filter(description="La tablette de Léa ne charge plus.").exists()
    assert not storage_dir.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.txt", PAGE),  # text, but markup a browser would render
        ("page.html", b"<p>Bonjour</p>"),  # not an accepted extension
        ("photo.jpg", PNG),  # a real image, but not what its name says
        ("outil.exe", b"MZ\x90\x00\x03\x00\x00\x00"),
        ("binaire.txt", b"abc\x00def"),
        ("image.txt", b'  <svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("para.txt", b"<p>Bonjour</p>"),
        ("echappe.txt", b"ligne\x1b[31m rouge"),
    ],
)
def test_disguised_or_unaccepted_files_are_refused(name, content):
    with pytest.raises(attachments.RefusedFile, match="n'est pas accepté"):
        attachments.check(upload(name, content))


def test_a_text_file_is_kept_as_plain_text():
    checked = attachments.check(upload("journal.txt", "Erreur à 8 h 02\n".encode(), "text/html"))
    assert checked.content_type == "text/plain; charset=utf-8"


def test_a_name_keeps_no_folder_nor_control_character():
    assert attachments.clean_name("C:\\Users\\karim\\..\\re\x07çu.pdf") == "re çu.pdf"
    assert attachments.clean_name("../../etc/passwd") == "passwd"
    assert len(attachments.clean_name("a" * 300 + ".pdf")) == 120


def test_no_more_than_three_files(client, parent):
    client.force_login(parent)
    files = [upload(f"capture-{n}.png", PNG) for n in range(4)]
    response = client.post(NEW, ticket_fields(attachments=files))
    assert "Trop de fichiers : 3 au plus." in text_of(response)
    assert not Ticket.objects.filter(description="La tablette de Léa ne charge plus.").exists()


def test_requester_downloads_with_safe_headers(client, parent):
    ticket = open_with_files(parent, upload("écran bleu.png", PNG))
    file = ticket.attachments.get()
    client.force_login(parent)
    response = client.get(f"/assistance/demandes/{ticket.reference}/pieces-jointes/{file.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%C3%A9cran%20bleu.png" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == "sandbox"


def test_referent_of_the_establishment_downloads(client, parent, referent):
    ticket = open_with_files(parent, upload("capture.png", PNG))
    client.force_login(referent)
    url = f"/assistance/demandes/{ticket.reference}/pieces-jointes/{ticket.attachments.get().pk}/"
    assert client.get(url).status_code == 200


def test_referent_of_another_establishment_gets_404(client, parent, referent):
    ticket = open_with_files(parent, upload("capture.png", PNG), uai=LYCEE_DOLE)
    client.force_login(referent)
    url = f"/assistance/demandes/{ticket.reference}/pieces-jointes/{ticket.attachments.get().pk}/"
    assert client.get(url).status_code == 404


def test_another_person_gets_404(client, parent, teacher):
    ticket = open_with_files(parent, upload("capture.png", PNG))
    client.force_login(teacher)
    url = f"/assistance/demandes/{ticket.reference}/pieces-jointes/{ticket.attachments.get().pk}/"
    assert client.get(url).status_code == 404


def test_a_file_is_not_reached_through_another_ticket(client, parent):
    mine = open_with_files(parent, upload("capture.png", PNG))
    other = open_with_files(parent)
    client.force_login(parent)
    url = f"/assistance/demandes/{other.reference}/pieces-jointes/{mine.attachments.get().pk}/"
    assert client.get(url).status_code == 404


def test_requester_never_gets_a_file_of_an_internal_note(client, parent, referent):
    ticket = open_with_files(parent)
    note = actions.add_internal_note(
        acting_user=referent,
        ticket=ticket,
        body="Copie d'écran de la console.",
        attachments=[attachments.check(upload("console.png", PNG))],
    )
    url = f"/assistance/demandes/{ticket.reference}/pieces-jointes/{note.attachments.get().pk}/"
    client.force_login(parent)
    assert client.get(url).status_code == 404
    client.force_login(referent)
    assert client.get(url).status_code == 200


def test_files_are_listed_with_their_size_on_the_ticket(client, parent, referent):
    ticket = open_with_files(parent, upload("capture.png", PNG))
    for person in (parent, referent):
        client.force_login(person)
        page = text_of(client.get(f"/assistance/demandes/{ticket.reference}/"))
        assert "capture.png" in page
        assert f"{len(PNG)}\xa0octets" in page  # filesizeformat keeps them together


def test_requester_replies_with_a_file(client, parent):
    ticket = open_with_files(parent)
    client.force_login(parent)
    response = client.post(
        f"/assistance/demandes/{ticket.reference}/",
        {"action": "reply", "body": "Voici le message.", "attachments": [upload("m.pdf", PDF)]},
    )
    assert response.status_code == 302
    message = ticket.messages.get()
    assert message.attachments.get().name == "m.pdf"


def test_deleting_a_ticket_removes_its_files(
    parent, storage_dir, django_capture_on_commit_callbacks
):
    ticket = open_with_files(parent, upload("capture.png", PNG))
    stored = storage_dir / ticket.attachments.get().file.name
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ticket.delete()
    assert not stored.exists()
    assert not TicketAttachment.objects.exists()


def test_files_of_a_failed_opening_are_removed(parent, storage_dir, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(actions, "record_event", broken)
    with pytest.raises(RuntimeError):
        open_with_files(parent, upload("capture.png", PNG))
    assert not any(path.is_file() for path in storage_dir.rglob("*"))


# --- The last error code shown ------------------------------------------------------------


def test_the_code_in_the_link_is_shown_and_kept_across_the_post(client, parent):
    client.force_login(parent)
    page = text_of(client.get(f"{NEW}?code=conv-403-csrf"))
    assert 'href="/aide/erreurs/CONV-403-CSRF/"' in page
    assert f'action="{NEW}?code=conv-403-csrf"' in page
    client.post(f"{NEW}?code=conv-403-csrf", ticket_fields())
    ticket = Ticket.objects.get(description="La tablette de Léa ne charge plus.")
    assert ticket.context["last_error_code"] == "CONV-403-CSRF"


def test_the_code_of_a_404_shown_to_a_signed_in_person_is_captured(client, parent):
    client.force_login(parent)
    assert client.get("/page-qui-n-existe-pas/").status_code == 404
    client.post(NEW, ticket_fields())
    ticket = Ticket.objects.get(description="La tablette de Léa ne charge plus.")
    assert ticket.context["last_error_code"] == "CONV-404"


def test_an_unknown_code_is_ignored(client, parent):
    client.force_login(parent)
    page = text_of(client.get(f"{NEW}?code=<script>"))
    assert "Dernier code d'erreur" not in page
    client.post(f"{NEW}?code=CONV-999", ticket_fields())
    ticket = Ticket.objects.get(description="La tablette de Léa ne charge plus.")
    assert ticket.context["last_error_code"] is None


def test_agents_see_the_code_with_its_explanation_link(client, parent, referent):
    ticket = open_with_files(parent)
    ticket.context = {**ticket.context, "last_error_code": "CONV-429"}
    ticket.save(update_fields=["context"])
    client.force_login(referent)
    page = text_of(client.get(f"/assistance/demandes/{ticket.reference}/"))
    assert 'href="/aide/erreurs/CONV-429/">CONV-429</a>' in page


def test_the_public_form_keeps_the_code(client, demo):
    page = text_of(
        client.post(f"{PUBLIC}?code=CONV-429", {"step": "email", "email": "a@exemple.fr"})
    )
    assert f'action="{PUBLIC}?code=CONV-429"' in page
    assert 'href="/aide/erreurs/CONV-429/"' in page


def test_the_error_page_offers_to_ask_for_help(client, parent):
    anonymous = text_of(client.get("/page-qui-n-existe-pas/"))
    assert f'href="{PUBLIC}?code=CONV-404"' in anonymous
    client.force_login(parent)
    signed_in = text_of(client.get("/page-qui-n-existe-pas/"))
    assert f'href="{NEW}?code=CONV-404"' in signed_in
    assert "Demander de l'aide" in signed_in


def test_a_ticket_gathers_at_most_its_quota_of_files(client, parent, monkeypatch):
    monkeypatch.setattr(actions, "MAX_FILES_PER_TICKET", 4)
    ticket = open_with_files(parent, *[upload(f"capture-{n}.png", PNG) for n in range(3)])
    client.force_login(parent)
    url = f"/assistance/demandes/{ticket.reference}/"
    files = [upload("a.png", PNG), upload("b.png", PNG)]
    response = client.post(url, {"action": "reply", "body": "Encore deux.", "attachments": files})
    assert "déjà 3 pièces jointes sur 4" in text_of(response)
    assert "Encore deux.</textarea>" in text_of(response)
    assert ticket.attachments.count() == 3
    assert not ticket.messages.filter(body="Encore deux.").exists()


def test_one_person_joins_at_most_a_days_quota_of_files(client, parent, monkeypatch):
    monkeypatch.setattr(actions, "MAX_FILES_PER_DAY", 4)
    open_with_files(parent, *[upload(f"capture-{n}.png", PNG) for n in range(3)])
    client.force_login(parent)
    response = client.post(
        NEW,
        ticket_fields(attachments=[upload("a.png", PNG), upload("b.png", PNG)]),
    )
    assert response.status_code == 200
    assert "Vous avez joint 4 fichiers aujourd'hui, le maximum" in text_of(response)
    assert "La tablette de Léa ne charge plus.</textarea>" in text_of(response)
    assert not Ticket.objects.filter(description="La tablette de Léa ne charge plus.").exists()
