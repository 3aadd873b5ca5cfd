"""Exactly one password hash per sign-in attempt, whatever was typed: time tells nothing.

The attack found: an e-mail address with an account cost two Argon2 verifications, an unknown
one a single dummy hash (p50 gap 22-49 ms). The test counts the hasher's computations rather
than timing them, so it cannot pass by luck or fail on a busy machine.
"""

from __future__ import annotations

import pytest
from django.test import Client

from convergence.accounts.backends import find_candidate
from convergence.accounts.hashers import ConvergenceArgon2PasswordHasher
from convergence.accounts.models import AccountState

WRONG = "Pas-Le-Bon-Mot-De-Passe-1"


@pytest.fixture
def hash_calls(monkeypatch):
    """Every Argon2 computation (verification or dummy hash) made during the test."""
    calls: list[str] = []
    verify, encode = ConvergenceArgon2PasswordHasher.verify, ConvergenceArgon2PasswordHasher.encode

    def counting_verify(self, password, encoded):
        calls.append("verify")
        return verify(self, password, encoded)

    def counting_encode(self, password, salt):
        calls.append("encode")
        return encode(self, password, salt)

    monkeypatch.setattr(ConvergenceArgon2PasswordHasher, "verify", counting_verify)
    monkeypatch.setattr(ConvergenceArgon2PasswordHasher, "encode", counting_encode)
    return calls


def attempt(login: str, password: str = WRONG):
    return Client().post("/connexion/", {"login": login, "password": password})


IDENTIFIERS = {
    "known login": lambda people: people["parent"].login,
    "known e-mail": lambda people: people["parent"].email,
    "known e-mail in capitals": lambda people: people["parent"].email.upper(),
    "unknown login": lambda people: "personne.inconnue",
    "unknown e-mail": lambda people: "personne.inconnue@exemple.fr",
    "suspended account": lambda people: people["suspended"].login,
}


@pytest.mark.parametrize("case", sorted(IDENTIFIERS))
def test_every_failed_attempt_costs_exactly_one_hash(case, parent, pupil, hash_calls):
    pupil.state = AccountState.SUSPENDED
    pupil.save(update_fields=["state"])
    identifier = IDENTIFIERS[case]({"parent": parent, "suspended": pupil})
    hash_calls.clear()
    response = attempt(identifier)
    assert response.status_code == 200
    assert len(hash_calls) == 1, hash_calls


def test_a_successful_sign_in_by_e_mail_costs_one_hash(parent, hash_calls):
    response = attempt(parent.email, parent.demo_password)
    assert response.status_code == 302
    assert hash_calls == ["verify"]


def test_sign_in_by_e_mail_works_whatever_the_case(parent):
    assert attempt(parent.email.upper(), parent.demo_password).status_code == 302


def test_the_candidate_is_found_by_login_or_by_e_mail(parent):
    assert find_candidate(parent.login) == parent
    assert find_candidate(f"  {parent.email.upper()} ") == parent
    assert find_candidate("personne.inconnue@exemple.fr") is None
    assert find_candidate("") is None
