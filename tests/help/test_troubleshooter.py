"""The troubleshooter: its paths are data checked at start, walked with plain GET forms (no
JavaScript), swapped in place by htmx, and never a 500 on a forged address."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import resolve, reverse

from convergence.help import troubleshooter
from convergence.help.views import troubleshooter as troubleshooter_views
from tests.helpers import has_totp

SYMPTOMS = {"connexion", "code", "page", "message-suspect"}


@dataclass
class StepForm:
    """The question's GET form as a browser without JavaScript sees it."""

    action: str = ""
    hidden: dict[str, str] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)  # label → value
    legend: str = ""


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.form: StepForm | None = None
        self._radio_ids: dict[str, str] = {}
        self._label_for = ""
        self._in_legend = False
        self._label_text = ""
        self._closed = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and found.get("hx-target") == "#depannage" and self.form is None:
            self.form = StepForm(action=found.get("action", ""))
        if self.form is None or self._closed:
            return
        if tag == "input" and found.get("type") == "hidden":
            self.form.hidden[found["name"]] = found.get("value", "")
        if tag == "input" and found.get("type") == "radio":
            self._radio_ids[found["id"]] = found["value"]
        if tag == "label" and found.get("for") in self._radio_ids:
            self._label_for, self._label_text = found["for"], ""
        if tag == "legend":
            self._in_legend = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.form is not None:
            self._closed = True
        if tag == "label" and self._label_for and self.form is not None:
            self.form.answers[" ".join(self._label_text.split())] = self._radio_ids[self._label_for]
            self._label_for = ""
        if tag == "legend":
            self._in_legend = False

    def handle_data(self, data: str) -> None:
        if self._label_for:
            self._label_text += data
        if self._in_legend and self.form is not None:
            self.form.legend += data


def step_form(response: Any) -> StepForm:
    reader = _FormReader()
    reader.feed(response.content.decode())
    assert reader.form is not None, "no GET form on the page"
    reader.form.legend = " ".join(reader.form.legend.split())
    return reader.form


def answer(client: Client, response: Any, label: str, **fields: str) -> Any:
    """Tick the answer labelled ``label`` and press « Continuer », as without JavaScript."""
    form = step_form(response)
    data = {**form.hidden, **fields}
    if label:
        assert label in form.answers, f"{label!r} not among {list(form.answers)}"
        data["reponse"] = form.answers[label]
    return client.get(form.action, data, follow=True)


def choose_profile(client: Client, symptom: str, profile: str) -> Any:
    page = client.get(reverse("help:troubleshooter_symptom", args=[symptom]))
    assert step_form(page).legend == "Vous êtes :"
    return client.get(step_form(page).action, {"profil": profile, "repondre": "1"}, follow=True)


def links(response: Any) -> list[str]:
    return [
        html.unescape(href) for href in re.findall(r'href="([^"]+)"', response.content.decode())
    ]


# --- The data -------------------------------------------------------------------------------


def test_every_path_file_loads_and_validates() -> None:
    assert troubleshooter.errors_in(troubleshooter.PATHS_DIR) == []
    assert {item.slug for item in troubleshooter.symptoms()} == SYMPTOMS
    assert troubleshooter.check_paths() == []


def test_every_symptom_starts_for_every_profile() -> None:
    for item in troubleshooter.symptoms():
        for profile in troubleshooter.PROFILES:
            assert item.first_step(profile).answers


GUIDES_DIR = Path(__file__).resolve().parents[2] / "content" / "guides"


def test_every_ending_leads_to_a_page_of_the_portal() -> None:
    """Action links resolve to a view of the portal; guide links name a written guide."""
    for item in troubleshooter.symptoms():
        for ending in item.endings.values():
            if not ending.url:
                continue
            resolve(ending.url)  # raises Resolver404 on a page that does not exist
            if ending.kind == "guide":
                slug = ending.url.removeprefix("/aide/guides/").strip("/")
                assert (GUIDES_DIR / f"{slug}.md").is_file(), f"{item.slug}: {ending.url}"


SOUND = """
title: Un symptôme
start: {eleve: a, parent: a, personnel: a}
steps:
  a:
    question: Une question ?
    answers:
      - {label: Oui, next: b}
      - {label: Non, end: fin}
  b:
    question: Une autre ?
    answers:
      - {label: Oui, end: fin}
endings:
  fin: {kind: guide, title: Un guide, url: /aide/guides/un-guide/}
"""


def write(directory: Path, text: str, name: str = "symptome.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sound_file_passes(tmp_path: Path) -> None:
    write(tmp_path, SOUND)
    assert troubleshooter.errors_in(tmp_path) == []


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (SOUND.replace("next: b", "next: z"), "l'étape « z » n'existe pas"),
        (SOUND.replace("{label: Oui, end: fin}", "{label: Oui, next: a}"), "tourne en rond"),
        (SOUND.replace("kind: guide, title: Un guide,", "kind: guide,"), "« title » manque"),
        (SOUND.replace("kind: guide", "kind: autre"), "« kind » doit être"),
        (SOUND.replace("end: fin}\n  b:", "end: nulle-part}\n  b:"), "la fin « nulle-part »"),
        (SOUND.replace("personnel: a", "personnel: z"), "profil « personnel »"),
        (SOUND.replace("      - {label: Oui, end: fin}\n", "      []\n"), "« answers »"),
        ("title: [ouvert", "illisible"),
    ],
)
def test_an_invalid_path_file_fails_the_system_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: str, message: str
) -> None:
    write(tmp_path, SOUND, "sain.yaml")
    write(tmp_path, broken, "casse.yaml")
    monkeypatch.setattr(troubleshooter, "PATHS_DIR", tmp_path)
    errors = troubleshooter.check_paths()
    assert [error.id for error in errors] == [troubleshooter.CHECK_ID]
    assert "casse.yaml" in errors[0].msg
    assert message in errors[0].msg
    with pytest.raises(SystemCheckError, match=r"casse\.yaml"):
        call_command("check")


# --- Walking the paths without JavaScript ----------------------------------------------------


@pytest.mark.django_db
def test_start_page_lists_the_four_symptoms(client: Client) -> None:
    response = client.get(reverse("help:troubleshooter"))
    assert response.status_code == 200
    page = response.content.decode()
    for title in (
        "Je n&#x27;arrive pas à me connecter",
        "Je ne reçois pas de code",
        "Une page ne s&#x27;ouvre pas",
        "J&#x27;ai reçu un message suspect",
    ):
        assert title in page


@pytest.mark.django_db
def test_parent_who_forgot_her_password_ends_on_password_reset(client: Client) -> None:
    first = choose_profile(client, "connexion", "parent")
    assert step_form(first).legend == "Avez-vous déjà activé votre compte ?"
    second = answer(client, first, "Oui, je me suis déjà connecté ou connectée")
    assert step_form(second).legend == "Que se passe-t-il ?"
    end = answer(client, second, "J'ai oublié mon mot de passe")
    assert end.status_code == 200
    assert "Choisissez un nouveau mot de passe" in end.content.decode()
    assert "/mot-de-passe-oublie/" in links(end)
    # The address says where she is, so the page can be bookmarked or reloaded.
    url, _ = end.redirect_chain[-1]
    assert url.startswith("/aide/depannage/connexion/mot-de-passe-oublie/?profil=parent")


@pytest.mark.django_db
def test_pupil_with_a_letter_not_yet_used_ends_on_activation(client: Client) -> None:
    first = choose_profile(client, "connexion", "eleve")
    end = answer(client, first, "Non, j'ai une lettre d'activation que je n'ai pas encore utilisée")
    assert "Activez votre compte avec votre lettre" in end.content.decode()
    assert "/activation/" in links(end)


@pytest.mark.django_db
def test_previous_question_link_goes_back_one_step(client: Client) -> None:
    first = choose_profile(client, "connexion", "parent")
    second = answer(client, first, "Oui, je me suis déjà connecté ou connectée")
    page = second.content.decode()
    assert "Revenir à la question précédente" in page
    back = next(url for url in links(second) if "/parent-compte/" in url)
    previous = client.get(back)
    assert step_form(previous).legend == "Avez-vous déjà activé votre compte ?"
    assert "Recommencer" in previous.content.decode()


@pytest.mark.django_db
def test_no_answer_ticked_asks_again_with_a_message(client: Client) -> None:
    first = choose_profile(client, "connexion", "parent")
    again = answer(client, first, "")
    assert again.status_code == 200
    assert "Choisissez une réponse." in again.content.decode()
    assert step_form(again).legend == "Avez-vous déjà activé votre compte ?"


@pytest.mark.django_db
def test_contact_ending_names_whom_to_contact_and_links_the_contacts(client: Client) -> None:
    first = choose_profile(client, "connexion", "parent")
    end = answer(client, first, "Non, et je n'ai rien reçu")
    page = html.unescape(end.content.decode())
    assert "Adressez-vous à l'établissement de votre enfant" in page
    assert "référent numérique" in page
    assert f"{reverse('support:contacts')}?profil=parent" in links(end)


@pytest.mark.django_db
def test_contact_ending_says_whom_in_words_without_the_contacts_page(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(troubleshooter_views, "_contacts_url", lambda profile: "")
    first = choose_profile(client, "connexion", "parent")
    second = answer(client, first, "Oui, je me suis déjà connecté ou connectée")
    end = answer(client, second, "Autre chose")
    page = html.unescape(end.content.decode())
    assert "Contactez l'assistance ÉduConnect ou ENT" in page
    assert not [url for url in links(end) if url.startswith("/assistance/")]


@pytest.mark.django_db
def test_signed_in_parent_is_not_asked_her_profile(client: Client, parent: Any) -> None:
    client.force_login(parent)
    response = client.get(reverse("help:troubleshooter_symptom", args=["connexion"]))
    assert response.status_code == 302
    assert response["Location"].endswith("/connexion/parent-compte/?profil=parent")


@pytest.mark.django_db
def test_pages_need_no_javascript(client: Client) -> None:
    """Every move is a link or a GET form with a real action; htmx attributes only add to it."""
    first = choose_profile(client, "page", "personnel")
    page = first.content.decode()
    form = step_form(first)
    assert form.action == reverse(
        "help:troubleshooter_step", args=["page", "personnel-que-voyez-vous"]
    )
    assert 'method="get"' in page
    assert "<script>" not in page and "style=" not in page
    assert '<legend class="fr-fieldset__legend' in page


# --- htmx ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_answer_swaps_the_next_step_and_pushes_its_address(client: Client) -> None:
    start = reverse("help:troubleshooter_step", args=["connexion", "eleve-compte"])
    response = client.get(
        start,
        {"profil": "eleve", "repondre": "1", "reponse": "eleve-probleme"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "Que se passe-t-il ?" in page
    assert 'hx-target="#depannage"' in page
    assert response["HX-Push-Url"] == (
        "/aide/depannage/connexion/eleve-probleme/?profil=eleve&etapes=eleve-compte"
    )


# --- Forged addresses ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/aide/depannage/inconnu/", 404),
        ("/aide/depannage/inconnu/eleve-compte/?profil=eleve", 404),
        ("/aide/depannage/connexion/nulle-part/?profil=eleve", 404),
        # A step of another profile, a trail that is not a walk, a profile that does not exist.
        ("/aide/depannage/connexion/parent-probleme/?profil=eleve", 302),
        ("/aide/depannage/connexion/eleve-probleme/?profil=eleve&etapes=parent-compte", 302),
        ("/aide/depannage/connexion/eleve-probleme/?profil=eleve&etapes=....", 302),
        ("/aide/depannage/connexion/activer-avec-la-lettre/?profil=eleve", 302),
        ("/aide/depannage/connexion/eleve-compte/?profil=pirate", 302),
        ("/aide/depannage/connexion/eleve-compte/?profil=eleve&etapes=" + "a." * 500, 302),
        # An answer that is not one of the question's.
        ("/aide/depannage/connexion/eleve-compte/?profil=eleve&reponse=parent-probleme", 200),
        ("/aide/depannage/connexion/eleve-compte/?profil=eleve&reponse=%00", 200),
        # Answering an ending.
        (
            "/aide/depannage/connexion/activer-avec-la-lettre/?profil=eleve"
            "&etapes=eleve-compte&reponse=x",
            302,
        ),
        ("/aide/depannage/connexion/?profil=%3Cscript%3E", 200),
    ],
)
def test_forged_address_never_answers_500(client: Client, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/aide/depannage/connexion/")


# --- The sign-in page leads here -------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_failure_links_to_the_troubleshooter(client: Client, parent: Any) -> None:
    response = client.post(
        reverse("account_login"), {"login": parent.login, "password": "pas-le-bon-1234"}
    )
    page = html.unescape(response.content.decode())
    assert "Identifiant ou mot de passe incorrect." in page
    assert "Besoin d'aide pour vous connecter ?" in page
    target = next(url for url in links(response) if url.startswith("/aide/depannage/"))
    assert client.get(target, follow=True).status_code == 200


@pytest.mark.django_db
def test_second_factor_code_failure_links_to_the_troubleshooter(
    client: Client, head_of_school: Any
) -> None:
    assert has_totp(head_of_school)
    client.post(
        reverse("account_login"),
        {"login": head_of_school.login, "password": head_of_school.demo_password},
    )
    refused = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    page = html.unescape(refused.content.decode())
    assert "Code incorrect ou déjà utilisé." in page
    assert "Besoin d'aide pour vous connecter ?" in page
    assert reverse("help:troubleshooter_symptom", args=["code"]) in links(refused)
