"""Help and support in a browser, as the issue tells it: a parent follows the troubleshooter,
sees « Fermé — ouvre lundi à 8 h », opens a ticket; the référent answers; the parent reads
the answer. Then axe-core on every help and support page of the way.

Karim Martin (parent, collège Victor Hugo in the Doubs and lycée Charles Nodier in the Jura)
asks; Julien Moreau, référent numérique of the collège, answers from the agents' queue.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from convergence.support import hours
from convergence.support.models import OpeningException, SupportContact, Ticket

from .conftest import NewPage, sign_in
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PARIS = ZoneInfo("Europe/Paris")
MONDAY, SUNDAY = 0, 6
CLOSED_UNTIL_MONDAY = "Fermé — ouvre lundi à 8 h"
QUESTION = (
    "Je suis connecté, mais le cahier de textes de Léa reste vide dans l'ENT du collège "
    "depuis lundi."
)
ANSWER = (
    "Bonjour Monsieur Martin, le cahier de textes de la 4e B était masqué par erreur ; "
    "il est de nouveau visible."
)


@pytest.fixture
def closed_until_monday(demo: None, monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """The parents' contacts are closed from today until the coming Monday, open from 8 h.

    ``hours.now()`` (the pages' one seam for the moment) is pinned to the real now, so a test
    that runs across midnight shows the same label. hours.py names the day of the next opening
    « demain » when it is tomorrow, by its weekday two to six days ahead and « le lundi
    12 janvier » a week ahead: on a Sunday or a Monday no closure reads « ouvre lundi », so
    those two days the moment is pinned two days earlier (a Friday or a Saturday). Returns
    that Monday.
    """
    moment = dt.datetime.now(PARIS)
    if moment.weekday() in (SUNDAY, MONDAY):
        moment -= dt.timedelta(days=2)
    monkeypatch.setattr(hours, "now", lambda: moment)
    today = moment.date()
    monday = today + dt.timedelta(days=7 - today.weekday())
    assert 2 <= (monday - today).days <= 6
    for contact in SupportContact.objects.filter(profile="parent"):
        OpeningException.objects.create(
            contact=contact,
            first_day=today,
            last_day=monday - dt.timedelta(days=1),
            reason="fermeture exceptionnelle",
        )
        # An exception wins over the week and a public holiday (lundi de Pâques…).
        OpeningException.objects.create(
            contact=contact,
            first_day=monday,
            last_day=monday,
            opens=dt.time(8),
            closes=dt.time(12),
            opens_again=dt.time(13, 30),
            closes_again=dt.time(17, 30),
            reason="réouverture",
        )
    return monday


def choose(page: Page, answer: str) -> None:
    """Click an answer of the troubleshooter's question (its label: the DSFR draws the radio
    button over the hidden input) and go on."""
    step = page.locator("#depannage")
    step.locator("label").get_by_text(answer, exact=True).click()
    expect(step.get_by_role("radio", name=answer, exact=True)).to_be_checked()
    step.get_by_role("button", name="Continuer").click()


def contact_card(contacts: Locator, department: str) -> Locator:
    """The card of the contact serving ``department`` in a list of contacts."""
    return contacts.get_by_role("listitem").filter(has_text=f"Département : {department}")


def test_parent_is_sent_to_a_closed_assistance_opens_a_ticket_and_reads_the_answer(
    new_page: NewPage,
    parent: Any,
    referent: Any,
    closed_until_monday: dt.date,
    browser_errors: list[str],
) -> None:
    # Karim cannot sign in as usual: the troubleshooter, not signed in.
    page = new_page()
    page.goto("/aide/")
    page.get_by_role("link", name="Dépannage pas à pas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dépannage")
    page.get_by_role("link", name="Je n'arrive pas à me connecter").click()
    expect(page.get_by_role("group", name="Vous êtes :")).to_be_visible()
    choose(page, "Parent")
    expect(page.get_by_role("group", name="Avez-vous déjà activé votre compte ?")).to_be_visible()
    choose(page, "Oui, je me suis déjà connecté ou connectée")
    expect(page.get_by_role("group", name="Que se passe-t-il ?")).to_be_visible()
    choose(page, "Autre chose")
    expect(
        page.get_by_role("heading", level=2, name="Contactez l'assistance ÉduConnect ou ENT")
    ).to_be_focused()
    expect(page).to_have_url(
        re.compile(r"/aide/depannage/connexion/contact-assistance-parent/\?profil=parent&etapes=")
    )
    page.get_by_role("link", name="Voir les contacts et leurs horaires").click()

    # The assistance page, for everyone: the parents' contacts, closed until Monday 8 h.
    expect(page).to_have_url(re.compile(r"/assistance/(\?profil=parent)?$"))
    parents = page.get_by_role("list", name="Parent", exact=True)
    for department in ("Doubs", "Jura"):
        card = contact_card(parents, department)
        expect(card.get_by_text(CLOSED_UNTIL_MONDAY, exact=True)).to_be_visible()

    # Signed in, his dashboard says the same, and so do his own contacts.
    sign_in(page, parent)
    need_help = page.locator(".cv-widget").filter(
        has=page.get_by_role("heading", name="Besoin d'aide ?")
    )
    expect(need_help.get_by_text(CLOSED_UNTIL_MONDAY, exact=True)).to_have_count(2)
    need_help.get_by_role("link", name="Tous vos contacts et leurs horaires").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistance : contacts et horaires")
    mine = page.get_by_role("list", name="Vos contacts")
    expect(mine.get_by_role("heading", level=2)).to_have_count(2)
    for department in ("Doubs", "Jura"):
        card = contact_card(mine, department)
        expect(card.get_by_text(CLOSED_UNTIL_MONDAY, exact=True)).to_be_visible()

    # Closed until Monday: he writes instead.
    page.get_by_role("link", name="Mes demandes d'assistance et nouvelle demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes demandes d'assistance")
    page.get_by_role("link", name="Nouvelle demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle demande d'assistance")
    page.get_by_label("Catégorie").select_option(label="ENT et services")
    page.get_by_role("textbox", name=re.compile(r"^Décrivez le problème")).fill(QUESTION)
    # Two children, two schools: the question is about Léa's collège, where Julien answers.
    page.get_by_label("Établissement concerné").select_option(
        label="Collège Victor Hugo (0250013D)"
    )
    page.get_by_role("button", name="Envoyer la demande").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"^Demande AST-\d{4}-\d{6}$"))
    reference = heading.inner_text().removeprefix("Demande ")
    expect(page.get_by_text(QUESTION)).to_be_visible()
    expect(page.get_by_text("Aucun échange pour le moment.")).to_be_visible()

    # Julien, in his own browser, finds it in the agents' queue and answers.
    agent = new_page()
    sign_in(agent, referent)
    agent.goto("/assistance/demandes/")
    agent.get_by_role("link", name="File des demandes à traiter").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text("File des demandes d'assistance")
    agent.get_by_role("link", name=f"{reference} — ENT et services").click()
    expect(agent.get_by_role("heading", level=1)).to_have_text(f"Demande {reference}")
    expect(agent.get_by_text("Demandeur : Karim Martin")).to_be_visible()
    expect(agent.get_by_text(QUESTION)).to_be_visible()
    agent.get_by_role("textbox", name="Votre message").fill(ANSWER)
    agent.get_by_role("button", name="Envoyer la réponse").click()
    expect(agent.locator("article").get_by_text(ANSWER)).to_be_visible()
    expect(agent.get_by_label("Nouvel état")).to_have_value("en_attente")

    # Karim, back on his requests, reads the answer.
    page.get_by_role("link", name="Retour aux demandes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes demandes d'assistance")
    row = page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=f"{reference} — ENT et services")
    )
    expect(row.get_by_text("En attente de votre réponse", exact=True)).to_be_visible()
    row.get_by_role("link", name=f"{reference} — ENT et services").click()
    answer = page.locator("article").filter(has_text=ANSWER)
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("Assistance")
    expect(answer).not_to_contain_text("Julien")  # agents' names stay with the agents

    ticket = Ticket.objects.get(reference=reference)
    assert ticket.requester_id == parent.pk
    assert ticket.establishment is not None
    assert ticket.establishment.name == "Collège Victor Hugo"
    assert browser_errors == []


def test_help_and_support_pages_have_no_serious_accessibility_violation(
    new_page: NewPage,
    parent: Any,
    referent: Any,
    closed_until_monday: dt.date,
    browser_errors: list[str],
) -> None:
    page = new_page()
    page.goto("/aide/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aide et assistance")
    assert_no_serious_violations(page)

    page.goto("/aide/guides/trop-de-tentatives/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Trop de tentatives")
    assert_no_serious_violations(page)

    page.goto("/aide/recherche/?q=mot+de+passe")
    expect(page.locator("#resultats-aide").get_by_role("status")).to_contain_text("mot de passe")
    expect(page.locator("#resultats-aide").get_by_role("link").first).to_be_visible()
    assert_no_serious_violations(page)

    page.goto("/aide/depannage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dépannage")
    assert_no_serious_violations(page)

    page.goto("/aide/depannage/connexion/parent-compte/?profil=parent")
    expect(page.get_by_role("group", name="Avez-vous déjà activé votre compte ?")).to_be_visible()
    assert_no_serious_violations(page)

    page.goto("/assistance/")
    expect(page.get_by_text(CLOSED_UNTIL_MONDAY).first).to_be_visible()
    assert_no_serious_violations(page)

    # Karim: his contacts, the new-ticket form, the demo ticket Julien answered.
    sign_in(page, parent)
    page.goto("/assistance/")
    expect(page.get_by_role("list", name="Vos contacts")).to_be_visible()
    assert_no_serious_violations(page)

    page.goto("/assistance/demandes/nouvelle/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle demande d'assistance")
    assert_no_serious_violations(page)
    # The same form with its errors shown.
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page.locator(".fr-input-group--error")).to_be_visible()
    assert_no_serious_violations(page)

    demo_ticket = Ticket.objects.get(requester=parent)
    page.goto(f"/assistance/demandes/{demo_ticket.reference}/")
    expect(page.locator("article")).to_have_count(1)
    assert_no_serious_violations(page)

    # Julien: the agents' queue and the same ticket with what only agents see.
    agent = new_page()
    sign_in(agent, referent)
    agent.goto("/assistance/demandes/file/")
    link = agent.get_by_role("link", name=re.compile(rf"^{demo_ticket.reference} "))
    expect(link).to_be_visible()
    assert_no_serious_violations(agent)

    link.click()
    expect(agent.get_by_role("button", name="Changer l'état")).to_be_visible()
    assert_no_serious_violations(agent)
    assert browser_errors == []
