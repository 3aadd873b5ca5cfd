"""Confirming one's identity before a security change: the other ways offered keep where the
person was going (once, however often they switch) and speak the portal's words."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client
from django.urls import reverse

ALTERNATIVE = re.compile(r'<a class="fr-btn fr-btn--secondary" href="([^"]+)">([^<]+)</a>')


def alternatives(page: str) -> dict[str, str]:
    """The « Autres moyens » of a reauthentication page: label → link."""
    section = page.split("Autres moyens", 1)[1]
    return {
        html.unescape(label): html.unescape(href) for href, label in ALTERNATIVE.findall(section)
    }


def test_switching_ways_carries_the_destination_once(head_of_school: Any) -> None:
    client = Client()
    client.force_login(head_of_school)
    destination = reverse("mfa_deactivate_totp")
    url = f"{reverse('account_reauthenticate')}?next={destination}"
    for _switch in range(4):
        response = client.get(url)
        assert response.status_code == 200
        links = alternatives(response.content.decode())
        assert links
        url = next(iter(links.values()))
        query = parse_qs(urlsplit(url).query)
        assert query == {"next": [destination]}, url
        assert len(url) < 200


def test_other_ways_are_named_as_everywhere_in_the_portal(head_of_school: Any) -> None:
    client = Client()
    client.force_login(head_of_school)
    password_page = client.get(reverse("account_reauthenticate")).content.decode()
    assert list(alternatives(password_page)) == ["Utiliser un code changeant ou un code de secours"]
    code_page = client.get(reverse("mfa_reauthenticate")).content.decode()
    assert list(alternatives(code_page)) == ["Utiliser mon mot de passe"]
    for page in (password_page, code_page):
        assert "application d'authentification" not in html.unescape(page)
        assert "clé de sécurité" not in html.unescape(page)
