"""Absolute links name the official host, never the Host header of the request."""

from __future__ import annotations

from django.test import RequestFactory

from convergence.core import links
from convergence.core.models import Academie


def _official_host(host: str) -> None:
    academie = Academie.current()
    academie.official_host = host
    academie.save()


def test_links_name_the_academie_s_official_host(demo, settings):
    settings.HTTPS = True
    _official_host("portail.ac-besancon.fr")
    request = RequestFactory().get("/", HTTP_HOST="attacker.example")
    settings.ALLOWED_HOSTS = ["*"]
    assert links.portal_host(request) == "portail.ac-besancon.fr"
    assert links.absolute_url("/connexion/", request) == "https://portail.ac-besancon.fr/connexion/"
    assert links.base_url(request) == "https://portail.ac-besancon.fr"


def test_the_request_host_stands_in_only_when_no_host_is_configured(demo, settings):
    settings.HTTPS = False
    settings.OFFICIAL_HOST = ""
    _official_host("")
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8000")
    assert links.absolute_url("/", request) == "http://127.0.0.1:8000/"
