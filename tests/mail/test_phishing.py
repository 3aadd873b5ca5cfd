"""Look-alike senders: a table of true and false cases, and the banners of the reading page."""

from __future__ import annotations

from typing import Any

import pytest

from convergence.mail.phishing import ACADEMIE, EXTERNAL, SUSPICIOUS, assess

OFFICIALS = ["ac-besancon.fr", "education.gouv.fr"]


@pytest.mark.parametrize(
    ("address", "name", "level"),
    [
        # The académie and the ministry, their subdomains: nothing to say.
        ("philippe.girard@ac-besancon.fr", "Philippe Girard", ACADEMIE),
        ("ce.rectorat@AC-BESANCON.FR", "Rectorat", ACADEMIE),
        ("lettre@listes.education.gouv.fr", "Ministère", ACADEMIE),
        # Ordinary outside senders: a quiet banner only.
        ("karim.martin@exemple.fr", "Karim Martin", EXTERNAL),
        ("newsletter@lesnumeriques.example", "La lettre du numérique", EXTERNAL),
        ("contact@besancon.fr", "Mairie de Besançon", EXTERNAL),
        # The official domain inside another one.
        ("support@ac-besancon.fr.secure-login.info", "Support", SUSPICIOUS),
        ("it@ac-besancon-fr.com", "Informatique", SUSPICIOUS),
        ("x@mail.ac-besancon.fr-connexion.net", "", SUSPICIOUS),
        # Confusables and accents.
        ("x@ac-be\u0455ancon.fr", "", SUSPICIOUS),  # Cyrillic dze for s
        ("x@ac-besanc0n.fr", "", SUSPICIOUS),
        ("x@ac-besançon.fr", "", SUSPICIOUS),
        # One or two letters away.
        ("x@ac-besancom.fr", "", SUSPICIOUS),
        ("x@ac-besanon.fr", "", SUSPICIOUS),
        ("x@ac-dijon.fr", "", EXTERNAL),  # another académie: outside, not a look-alike
        # A display name claiming an académie role from outside.
        ("x@gmail.com", "Le Principal", SUSPICIOUS),
        ("x@outlook.fr", "Service informatique de l'Académie", SUSPICIOUS),
        ("x@gmail.com", "Sophie Bernard", EXTERNAL),
    ],
)
def test_look_alikes(address: str, name: str, level: str) -> None:
    verdict = assess(address, name, officials=OFFICIALS)
    assert verdict.level == level, (address, name, verdict.reasons)
    assert bool(verdict.reasons) == (level == SUSPICIOUS)


def test_the_academie_domain_comes_from_its_settings(demo: None, settings: Any) -> None:
    settings.MAIL_TRUSTED_DOMAINS = ["education.gouv.fr"]
    assert assess("a@ac-besancon.fr").level == ACADEMIE
    assert assess("a@ac-besancon.fr.secure-login.info").level == SUSPICIOUS
