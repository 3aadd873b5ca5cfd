"""What a public site owes: mentions légales, données personnelles, déclaration
d'accessibilité and plan du site, open to everyone and linked from every page's footer."""

from __future__ import annotations

import datetime
import itertools
import re

import pytest

from convergence.core import data_notice, open_urls, sitemap
from convergence.core.blueprints import BlueprintError, apply
from convergence.core.models import Academie, AccessibilityStatus
from tests.helpers import client_of

LEGAL_PAGES = ("/mentions-legales/", "/donnees-personnelles/", "/accessibilite/", "/plan-du-site/")


def footer_of(page: str) -> str:
    found = re.search(r'<footer class="fr-footer".*?</footer>', page, re.S)
    assert found, "no DSFR footer on the page"
    return found.group(0)


def text_of(page: str) -> str:
    """The page's words, tags and runs of spaces removed (a sentence may span lines)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/mentions-legales/",
            [
                "Mentions légales",
                "10 rue de la Convention",
                "25030 Besançon Cedex",
                "Le recteur de l'académie de Besançon (démonstration)",
                "Direction des systèmes d'information (DSI) du rectorat",
                "EUPL-1.2",
            ],
        ),
        (
            "/donnees-personnelles/",
            [
                "article 6, paragraphe 1, point e du RGPD",
                "dpd@ac-besancon.fr",
                'href="/compte/mes-donnees/"',
                "Journal des événements de sécurité",
                "365 jours",
                "CNIL",
                "convergence-session",
                "convergence-device",
            ],
        ),
        (
            "/accessibilite/",
            [
                "Déclaration d'accessibilité",
                "partiellement conforme",
                "RGAA",
                "axe-core",
                "5 décembre 2026",
                "accessibilite@ac-besancon.fr",
                "Défenseur des droits",
                "Libre réponse 71120",
            ],
        ),
        ("/plan-du-site/", ["Plan du site", 'href="/connexion/"', 'href="/mentions-legales/"']),
    ],
)
def test_each_page_answers_anyone_with_its_content(client, demo, path, expected) -> None:
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    for words in expected:
        assert words.replace("'", "&#x27;") in page or words in text_of(page), words


@pytest.mark.parametrize("path", LEGAL_PAGES)
def test_pages_keep_the_csp_and_heading_order(client, demo, path) -> None:
    page = client.get(path).content.decode()
    assert " style=" not in page
    assert "<script>" not in page
    levels = [int(level) for level in re.findall(r"<h([1-6])[ >]", page)]
    assert levels.count(1) == 1
    assert all(after <= before + 1 for before, after in itertools.pairwise(levels))


@pytest.mark.parametrize("path", LEGAL_PAGES)
def test_pages_say_non_renseigne_when_the_academie_left_fields_blank(client, db, path) -> None:
    Academie.objects.create(name="Académie d'essai", official_host="testserver", mail_domain="t.fr")
    response = client.get(path)
    assert response.status_code == 200
    if path != "/plan-du-site/":
        assert "non renseigné" in response.content.decode().lower()


def test_accessibility_statement_shows_the_academie_evaluation(client, demo) -> None:
    academie = Academie.objects.get()
    academie.accessibility_evaluation = "Audit par Access42 le 3 mars 2027 : 87 % des critères."
    academie.accessibility_status = AccessibilityStatus.NONE
    academie.save()
    page = client.get("/accessibilite/").content.decode()
    assert "87 % des critères" in page
    assert "Le portail est non conforme" in page
    assert "Aucun audit complet" not in page


def assert_footer_links_the_four_pages(page: str) -> None:
    footer = footer_of(page)
    for path in ("/plan-du-site/", "/mentions-legales/", "/donnees-personnelles/"):
        assert f'class="fr-footer__bottom-link" href="{path}"' in footer
    assert (
        'class="fr-footer__bottom-link" href="/accessibilite/">Accessibilité : '
        "partiellement conforme</a>" in footer
    )
    assert 'href="/aide/erreurs/"' in footer
    assert "Paramètres d'affichage" in footer or "Paramètres d&#x27;affichage" in footer


def test_sign_in_page_footer_links_the_four_pages(client, demo) -> None:
    assert_footer_links_the_four_pages(client.get("/connexion/").content.decode())


def test_dashboard_footer_links_the_four_pages(pupil) -> None:
    assert_footer_links_the_four_pages(client_of(pupil).get("/").content.decode())


def test_not_found_page_footer_links_the_four_pages(client, demo) -> None:
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert_footer_links_the_four_pages(response.content.decode())


def test_footer_follows_the_academie_accessibility_status(client, pupil) -> None:
    academie = Academie.objects.get()
    academie.accessibility_status = AccessibilityStatus.NONE
    academie.save()
    footer = footer_of(client_of(pupil).get("/").content.decode())
    assert 'href="/accessibilite/">Accessibilité : non conforme</a>' in footer


def test_retention_figures_follow_the_settings(client, demo, settings) -> None:
    settings.AUDIT_RETENTION_DAYS = 400
    settings.PERSONAL_DATA_RETENTION_DAYS = 60
    settings.SESSION_COOKIE_AGE = 2 * 3600
    settings.ACTIVATION_CODE_DAYS = 45
    page = text_of(client.get("/donnees-personnelles/").content.decode())
    assert "400 jours, puis supprimé" in page
    assert "supprimé 60 jours après" in page
    assert "après 2 heures sans activité" in page
    assert "Valables 45 jours pour un code d'activation" in page.replace("&#x27;", "'")
    assert "365 jours" not in page


def test_cookies_are_named_as_the_settings_name_them(client, demo, settings) -> None:
    settings.SESSION_COOKIE_NAME = "__Host-convergence-session"
    page = client.get("/donnees-personnelles/").content.decode()
    assert "<code>__Host-convergence-session</code>" in page


def test_sms_outbox_is_told_only_when_sms_stay_in_the_portal(client, demo, settings) -> None:
    settings.SMS_BACKEND = "outbox"
    assert (
        "boîte d&#x27;envoi de développement"
        in client.get("/donnees-personnelles/").content.decode()
    )
    settings.SMS_BACKEND = "http"
    assert "boîte d&#x27;envoi" not in client.get("/donnees-personnelles/").content.decode()


def test_site_map_lists_only_public_pages_to_anyone(client, demo) -> None:
    page = client.get("/plan-du-site/").content.decode()
    for path in ("/connexion/", "/activation/", "/mot-de-passe-oublie/", "/identifiant-oublie/"):
        assert f'href="{path}"' in page
    assert 'href="/aide/erreurs/"' in page
    for path in ("/compte/", "/compte/appareils/", "/compte/mes-donnees/", "/gestion/comptes/"):
        assert f'href="{path}"' not in page.split('<main id="contenu"')[1].split("</main>")[0]
    assert "Après connexion" in page


def main_of(page: str) -> str:
    return page.split('<main id="contenu"')[1].split("</main>")[0]


def test_site_map_lists_account_pages_to_a_signed_in_pupil(pupil) -> None:
    page = main_of(client_of(pupil).get("/plan-du-site/").content.decode())
    for path in (
        "/",
        "/compte/",
        "/compte/mot-de-passe/",
        "/compte/secours/",
        "/compte/securite/",
        "/compte/appareils/",
        "/compte/activite/",
        "/compte/services-autorises/",
        "/compte/mes-donnees/",
    ):
        assert f'href="{path}"' in page, path
    assert 'href="/gestion/comptes/"' not in page
    assert "Après connexion" not in page


def test_site_map_lists_management_pages_to_those_who_may_open_them(referent, dsi) -> None:
    referent_page = main_of(client_of(referent).get("/plan-du-site/").content.decode())
    assert 'href="/gestion/comptes/"' in referent_page
    assert 'href="/gestion/lettres/"' in referent_page
    assert 'href="/gestion/imports/"' not in referent_page
    dsi_page = main_of(client_of(dsi).get("/plan-du-site/").content.decode())
    for path in ("/gestion/comptes/", "/gestion/imports/", "/gestion/annee-scolaire/"):
        assert f'href="{path}"' in dsi_page
    assert 'href="/gestion/second-facteur/demandes/"' in dsi_page


def test_every_registered_page_resolves() -> None:
    # The map skips a name that does not resolve (below); a typo must not hide a page.
    from django.urls import reverse

    for page in sitemap.pages():
        assert reverse(page.url_name), page


def test_site_map_skips_a_page_whose_name_no_longer_resolves(monkeypatch) -> None:
    monkeypatch.setattr(sitemap, "_PAGES", dict(sitemap._PAGES))
    sitemap.register(sitemap.Section.HELP, "Disparue", "help:gone")
    titles = [link.title for _section, links in sitemap.sections_for(None) for link in links]
    assert "Disparue" not in titles
    assert "Mentions légales" in titles


@pytest.mark.parametrize("path", LEGAL_PAGES)
def test_anonymous_pages_cost_a_bounded_number_of_queries(
    client, demo, path, django_assert_max_num_queries
) -> None:
    client.get(path)  # the académie is cached by the first page
    with django_assert_max_num_queries(1):
        assert client.get(path).status_code == 200


def test_site_map_of_a_dsi_costs_a_bounded_number_of_queries(dsi, django_assert_max_num_queries):
    browser = client_of(dsi)
    browser.get("/plan-du-site/")
    # Session, account, then one question per distinct rule (manager, DSI): not one per page.
    with django_assert_max_num_queries(5):
        assert browser.get("/plan-du-site/").status_code == 200


@pytest.mark.parametrize("path", LEGAL_PAGES)
def test_pages_stay_open_during_maintenance_and_enrolment(path) -> None:
    assert open_urls.is_open(path, open_urls.During.MAINTENANCE)
    assert open_urls.is_open(path, open_urls.During.ENROLMENT)


def test_legal_notice_answers_during_maintenance(client, demo, settings) -> None:
    settings.MAINTENANCE = True
    assert client.get("/mentions-legales/").status_code == 200


def test_demo_blueprint_fills_the_academie_public_fields(demo) -> None:
    academie = Academie.objects.get()
    assert academie.postal_address.splitlines()[-1] == "25030 Besançon Cedex"
    assert academie.dpo_email == "dpd@ac-besancon.fr"
    assert academie.accessibility_status == AccessibilityStatus.PARTIAL
    assert academie.accessibility_statement_date == datetime.date(2026, 12, 5)


def test_blueprint_refuses_an_unknown_academie_field(db) -> None:
    data = {"academie": {"name": "A", "official_host": "h", "mail_domain": "d.fr", "dpo_mail": "x"}}
    with pytest.raises(BlueprintError, match="dpo_mail"):
        apply(data, source="test")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (datetime.timedelta(days=92), "92 jours"),
        (datetime.timedelta(days=1), "1 jour"),
        (8 * 3600, "8 heures"),
        (1800, "30 minutes"),
        (90, "90 secondes"),
        (3600 + 60, "61 minutes"),
    ],
)
def test_durations_read_in_their_largest_whole_unit(value, words) -> None:
    assert data_notice.duration(value) == words


def test_the_administration_edits_what_the_pages_show(dsi) -> None:
    academie = Academie.objects.get()
    page = client_of(dsi).get(f"/administration/core/academie/{academie.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("postal_address", "publication_director", "dpo_email", "accessibility_status"):
        assert f'name="{name}"' in html
