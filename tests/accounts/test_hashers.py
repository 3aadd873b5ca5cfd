"""Argon2id hashing: parameters from settings, Unicode forms treated as one password."""

from __future__ import annotations

import unicodedata

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password


def test_hash_is_argon2id_with_the_configured_cost(settings):
    encoded = make_password("Sapin-Neige-Doubs-25")
    hasher = identify_hasher(encoded)
    details = hasher.decode(encoded)
    assert encoded.startswith("argon2$argon2id$")
    assert details["memory_cost"] == settings.ARGON2_MEMORY_KIB
    assert details["time_cost"] == settings.ARGON2_TIME_COST
    assert details["parallelism"] == settings.ARGON2_PARALLELISM


@pytest.mark.parametrize("form", ["NFD", "NFKC"])
def test_decomposed_accents_verify_against_a_composed_password(form):
    composed = "Élève-Forêt-Château-39"
    other = unicodedata.normalize(form, composed)
    encoded = make_password(composed)
    assert check_password(other, encoded) is (unicodedata.normalize("NFC", other) == composed)
    assert check_password(unicodedata.normalize("NFD", composed), encoded)


def test_wrong_password_does_not_verify():
    encoded = make_password("Sapin-Neige-Doubs-25")
    assert not check_password("Sapin-Neige-Doubs-26", encoded)
