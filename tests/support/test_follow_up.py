"""The private follow-up link of a ticket opened without an account: Karim, who cannot sign
in, reads Julien's replies, answers and downloads the files through it; notes stay hidden,
the link cannot be forged, expires, opens one ticket only, and cannot flood the agents."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.core.files.uploadedfile import SimpleUploadedFile

from convergence.audit.events import ACCESS_REFUSED
from convergence.audit.models import AuditEvent
from convergence.support import attachments, events, follow_up
from convergence.support.actions import tickets as actions
from convergence.support.models import Status, Ticket
from tests.helpers import text_of

KARIM = "karim.martin@exemple.fr"
PUBLIC = "/assistance/demandes/sans-compte/"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(40)
PAGE = b"<!DOCTYPE html><html><script>fetch('/gestion/')</script></html>"


@pytest.fixture(autouse=True)
def storage_dir(settings, tmp_path: Path) -> Path:
    settings.SUPPORT_ATTACHMENTS_DIR = tmp_path / "pieces-jointes"
    return settings.SUPPORT_ATTACHMENTS_DIR


def upload(name: str, content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def open_without_account(email=KARIM, description="Je n'ai jamais reçu ma lettre.", files=()):
    return actions.open_ticket(
        acting_user=None,
        email=email,
        category="connexion",
        description=description,
        profiles=frozenset({"parent"}),
        context={"without_account": True},
        attachments=[attachments.check(file) for file in files],
    )


def path_of(ticket: Ticket) -> str:
    return urlsplit(follow_up.url_for(ticket)).path


def answer(ticket, agent, body, capture, files=()):
    """An agent's reply, mailed to the requester; the path of the link in that mail."""
    mail.outbox.clear()
    with capture(execute=True):
        actions.reply(
            acting_user=agent,
            ticket=ticket,
            body=body,
            as_agent=True,
            attachments=[attachments.check(file) for file in files],
        )
    assert mail.outbox[-1].to == [ticket.requester_email]
    match = re.search(r"https?://\S+/assistance/demandes/suivi/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return urlsplit(match[0]).path


def test_karim_reads_julien_reply_through_the_link_of_the_mail(
    client, referent, django_capture_on_commit_callbacks
):
    ticket = open_without_account()
    link = answer(
        ticket, referent, "Votre lettre est renvoyée.", django_capture_on_commit_callbacks
    )
    response = client.get(link)
    page = text_of(response)
    assert response.status_code == 200
    assert ticket.reference in page
    assert "Je n'ai jamais reçu ma lettre." in page
    assert "Votre lettre est renvoyée." in page
    assert "En attente de votre réponse" in page
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]


def test_the_public_form_confirmation_gives_the_link(client, demo):
    client.post(PUBLIC, {"step": "email", "email": KARIM})
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]
    fields = {"step": "ticket", "profile": "parent", "category": "connexion", "code": code}
    response = client.post(PUBLIC, {**fields, "description": "Lettre jamais reçue."})
    ticket = Ticket.objects.get(requester_email=KARIM)
    match = re.search(
        r'href="(https?://[^"]+/assistance/demandes/suivi/[^"]+/)"', text_of(response)
    )
    assert match
    assert response["Cache-Control"] == "private, no-store"
    assert ticket.reference in text_of(client.get(urlsplit(match[1]).path))


def test_internal_notes_and_their_files_never_appear(client, referent):
    ticket = open_without_account()
    actions.add_internal_note(
        acting_user=referent,
        ticket=ticket,
        body="Adresse déjà vue dans un hameçonnage.",
        attachments=[attachments.check(upload("console.png"))],
    )
    actions.reply(acting_user=referent, ticket=ticket, body="Réessayez demain.", as_agent=True)
    page = text_of(client.get(path_of(ticket)))
    assert "Réessayez demain." in page
    assert "hameçonnage" not in page
    assert "console.png" not in page


def test_reply_through_the_link_goes_back_to_the_agents(
    client, referent, django_capture_on_commit_callbacks
):
    ticket = open_without_account()
    link = answer(ticket, referent, "Quel navigateur ?", django_capture_on_commit_callbacks)
    response = client.post(
        link,
        {"action": "reply", "body": "Firefox, à jour.", "attachments": [upload("écran.png")]},
    )
    assert response.status_code == 302
    assert response["Location"] == link
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    message = ticket.messages.latest("pk")
    assert (message.body, message.author, message.from_agent) == ("Firefox, à jour.", None, False)
    assert message.attachments.get().name == "écran.png"
    row = AuditEvent.objects.of_type(events.TICKET_REPLIED).latest("pk")
    assert row.actor is None and row.identifier_digest
    assert row.data == {
        "ticket": ticket.reference,
        "agent": False,
        "attachments": 1,
        "via": "follow_up_link",
    }
    assert "Firefox, à jour." in text_of(client.get(link))


def test_a_refused_file_keeps_the_text_typed(client, demo):
    ticket = open_without_account()
    response = client.post(
        path_of(ticket),
        {"action": "reply", "body": "Voici la page.", "attachments": [upload("page.png", PAGE)]},
    )
    page = text_of(response)
    assert response.status_code == 400
    assert "Ce type de fichier n'est pas accepté : « page.png »" in page
    assert ">Voici la page.</textarea>" in page
    assert not ticket.messages.exists()


def test_files_download_through_the_link_but_not_those_of_a_note(
    client, referent, django_capture_on_commit_callbacks
):
    ticket = open_without_account(files=[upload("lettre.png")])
    link = answer(
        ticket,
        referent,
        "Voici la procédure.",
        django_capture_on_commit_callbacks,
        files=[upload("procedure.png")],
    )
    note = actions.add_internal_note(
        acting_user=referent,
        ticket=ticket,
        body="Pour nous.",
        attachments=[attachments.check(upload("console.png"))],
    )
    page = text_of(client.get(link))
    for file in ticket.attachments.exclude(message=note):
        url = f"{link}pieces-jointes/{file.pk}/"
        assert f'href="{url}"' in page
        response = client.get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert response["Referrer-Policy"] == "no-referrer"
    assert client.get(f"{link}pieces-jointes/{note.attachments.get().pk}/").status_code == 404
    refusal = AuditEvent.objects.of_type(ACCESS_REFUSED).latest("pk")
    assert refusal.data["kind"] == "support_attachment"


def test_a_tampered_link_is_404(client, demo):
    ticket = open_without_account()
    token = follow_up.token_for(ticket)
    payload, rest = token.split(":", 1)
    forged = signing.dumps({"t": ticket.pk, "a": "0" * 24}, salt=follow_up.SALT)
    for bad in (f"{payload}x:{rest}", token[:-2], forged, signing.dumps({"t": ticket.pk})):
        response = client.get(f"/assistance/demandes/suivi/{bad}/")
        assert response.status_code == 404
        assert "Lien de suivi invalide" in text_of(response)
        assert ticket.reference not in text_of(response)


def test_a_changed_address_voids_the_link(client, demo):
    ticket = open_without_account()
    link = path_of(ticket)
    Ticket.objects.filter(pk=ticket.pk).update(requester_email="autre@exemple.fr")
    assert client.get(link).status_code == 404


def test_an_expired_link_says_how_to_get_a_new_one(client, demo, monkeypatch):
    ticket = open_without_account()
    made = int(time.time()) - follow_up.VALID_SECONDS - 60
    with monkeypatch.context() as patched:
        patched.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(made))
        link = path_of(ticket)
    response = client.get(link)
    page = text_of(response)
    assert response.status_code == 410
    assert "Lien de suivi expiré" in page
    assert "90 jours" in page
    assert 'href="/assistance/demandes/sans-compte/"' in page
    assert ticket.reference not in page
    assert response["Cache-Control"] == "private, no-store"
    assert client.post(link, {"action": "reply", "body": "Encore là ?"}).status_code == 410
    assert not ticket.messages.exists()


def test_the_link_of_one_ticket_does_not_open_another(client, referent):
    mine = open_without_account()
    other = open_without_account(
        email="quelquun@exemple.fr", description="Autre demande.", files=[upload("autre.png")]
    )
    link = path_of(mine)
    page = text_of(client.get(link))
    assert mine.reference in page
    assert other.reference not in page and "Autre demande." not in page
    other_file = other.attachments.get()
    assert client.get(f"{link}pieces-jointes/{other_file.pk}/").status_code == 404


def test_a_signed_in_requesters_ticket_has_no_follow_up_link(parent):
    ticket = actions.open_ticket(acting_user=parent, category="autre", description="x")
    with pytest.raises(ValueError):
        follow_up.token_for(ticket)


def test_replies_through_the_link_are_limited(client, demo):
    ticket = open_without_account()
    link = path_of(ticket)
    for number in range(follow_up.REPLIES_PER_HOUR):
        response = client.post(link, {"action": "reply", "body": f"Message {number}"})
        assert response.status_code == 302
    refused = client.post(link, {"action": "reply", "body": "Un de trop."})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "réessayez dans une heure" in text_of(refused)
    assert ">Un de trop.</textarea>" in text_of(refused)
    assert ticket.messages.count() == follow_up.REPLIES_PER_HOUR


def test_reopening_and_rating_through_the_link(client, referent):
    ticket = open_without_account()
    link = path_of(ticket)
    actions.change_status(acting_user=referent, ticket=ticket, status=Status.RESOLVED)
    assert "rouvrir la demande" in text_of(client.get(link))
    assert client.post(link, {"action": "reopen"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    actions.close(acting_user=referent, ticket=ticket)
    assert "Donner mon avis" in text_of(client.get(link))
    assert client.post(link, {"action": "rate", "satisfaction": "4"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.satisfaction == 4
    rated = AuditEvent.objects.of_type(events.TICKET_RATED).latest("pk")
    assert rated.actor is None and rated.data["via"] == "follow_up_link"


REVOKE = "Révoquer les liens de suivi et en envoyer un nouveau"


def test_an_agent_revokes_a_leaked_link_and_the_new_one_is_mailed(
    client, referent, dsi, django_capture_on_commit_callbacks
):
    ticket = open_without_account()
    leaked = answer(
        ticket, referent, "Voici la marche à suivre.", django_capture_on_commit_callbacks
    )
    client.force_login(dsi)  # the public form names no établissement: the DSI answers it
    page = f"/assistance/demandes/{ticket.reference}/"
    assert REVOKE in text_of(client.get(page))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page, {"action": "revoke_links"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.follow_up_generation == 1
    row = AuditEvent.objects.of_type(events.TICKET_FOLLOW_UP_REVOKED).latest("pk")
    assert row.actor == dsi
    assert row.data == {"ticket": ticket.reference, "generation": 1}
    client.logout()

    old = client.get(leaked)
    assert old.status_code == 404
    assert "Lien de suivi invalide" in text_of(old)
    assert ticket.reference not in text_of(old)
    refusal = AuditEvent.objects.of_type(ACCESS_REFUSED).latest("pk")
    assert refusal.data["kind"] == "support_follow_up"
    assert client.post(leaked, {"action": "reply", "body": "Encore moi."}).status_code == 404

    sent = mail.outbox[-1]
    assert sent.to == [KARIM]
    assert ticket.reference in sent.subject
    match = re.search(r"https?://\S+/assistance/demandes/suivi/\S+/", sent.body)
    assert match, sent.body
    fresh = urlsplit(match[0]).path
    assert fresh != leaked
    response = client.get(fresh)
    assert response.status_code == 200
    assert "Voici la marche à suivre." in text_of(response)


def test_only_an_agent_of_the_ticket_revokes_its_links(client, parent, referent):
    ticket = open_without_account()
    link = path_of(ticket)
    assert ticket not in Ticket.objects.agent_of(referent)
    for someone in (parent, referent):
        with pytest.raises(actions.TicketError):
            actions.revoke_follow_up_links(acting_user=someone, ticket=ticket)
    # Through the link itself, the requester has no such action.
    assert client.post(link, {"action": "revoke_links"}).status_code == 400
    ticket.refresh_from_db()
    assert ticket.follow_up_generation == 0
    assert not AuditEvent.objects.of_type(events.TICKET_FOLLOW_UP_REVOKED).exists()
    assert client.get(link).status_code == 200


def test_a_signed_in_requesters_ticket_has_no_revocation(client, parent, dsi):
    ticket = actions.open_ticket(
        acting_user=parent, category="autre", description="x", profiles=frozenset({"parent"})
    )
    with pytest.raises(actions.TicketError):
        actions.revoke_follow_up_links(acting_user=dsi, ticket=ticket)
    page = f"/assistance/demandes/{ticket.reference}/"
    for person in (dsi, parent):
        client.force_login(person)
        assert REVOKE not in text_of(client.get(page))
        assert client.post(page, {"action": "revoke_links"}).status_code == 400
    ticket.refresh_from_db()
    assert ticket.follow_up_generation == 0
    assert not AuditEvent.objects.of_type(events.TICKET_FOLLOW_UP_REVOKED).exists()
