"""« Services autorisés »: the consents a person gave, and withdrawing one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from convergence.audit.models import AuditEvent
from convergence.core.blueprints import apply
from convergence.portal.models import Service
from convergence.sso import actions, events
from convergence.sso.models import Consent


@pytest.fixture
def third_party(demo: None) -> Service:
    apply(
        {
            "services": [
                {
                    "slug": "quiz-exterieur",
                    "name": "Quiz extérieur",
                    "description": "Un service d'un éditeur.",
                    "url": "https://quiz.exemple.com/",
                    "category": "pedagogie",
                    "audience": "everyone",
                    "external": True,
                    "oidc": {
                        "client_id": "quiz",
                        "client_secret": "secret-du-quiz-assez-long-pour-le-portail",
                        "redirect_uris": ["https://quiz.exemple.com/cb"],
                    },
                }
            ]
        }
    )
    return Service.objects.get(slug="quiz-exterieur")


def signed_in(user: Any) -> Client:
    client = Client()
    client.post("/connexion/", {"login": user.login, "password": user.demo_password})
    return client


def test_account_page_links_to_authorised_services(pupil: Any) -> None:
    response = signed_in(pupil).get("/compte/")
    assert b"/compte/services-autorises/" in response.content


def test_lists_consents_with_what_they_release(pupil: Any, third_party: Service) -> None:
    actions.grant_consent(user=pupil, service=third_party, scopes={"openid", "profile"})
    response = signed_in(pupil).get("/compte/services-autorises/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Quiz extérieur" in content
    assert "Vos nom, prénom, identifiant et profils" in content


def test_withdrawing_consent_revokes_the_services_tokens(pupil: Any, third_party: Service) -> None:
    consent = actions.grant_consent(user=pupil, service=third_party, scopes={"openid"})
    application = Application.objects.get(client_id="quiz")
    token = AccessToken.objects.create(
        user=pupil, application=application, token="t-1", expires=timezone.now(), scope="openid"
    )
    RefreshToken.objects.create(
        user=pupil, application=application, token="r-1", access_token=token, token_family=None
    )
    client = signed_in(pupil)

    response = client.post(f"/compte/services-autorises/{consent.pk}/retirer/", follow=True)

    assert "ne reçoit plus vos informations" in response.content.decode()
    assert not Consent.objects.filter(user=pupil).exists()
    assert not AccessToken.objects.filter(user=pupil, application=application).exists()
    assert AuditEvent.objects.of_type(events.CONSENT_REVOKED).filter(subject=pupil).exists()


def test_nobody_withdraws_another_persons_consent(
    pupil: Any, teacher: Any, third_party: Service
) -> None:
    consent = actions.grant_consent(user=teacher, service=third_party, scopes={"openid"})
    response = signed_in(pupil).post(f"/compte/services-autorises/{consent.pk}/retirer/")
    assert response.status_code == 404
    assert Consent.objects.filter(pk=consent.pk).exists()


def test_withdrawing_needs_a_post_with_csrf(pupil: Any, third_party: Service) -> None:
    consent = actions.grant_consent(user=pupil, service=third_party, scopes={"openid"})
    client = Client(enforce_csrf_checks=True)
    client.force_login(pupil)
    assert client.get(f"/compte/services-autorises/{consent.pk}/retirer/").status_code == 405
    assert client.post(f"/compte/services-autorises/{consent.pk}/retirer/").status_code == 403
    assert Consent.objects.filter(pk=consent.pk).exists()
