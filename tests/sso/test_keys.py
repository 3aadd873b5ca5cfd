"""OpenID Connect signing keys: the newest signs, the previous one stays published until the
tokens it signed have expired, older ones go; ``rotate_oidc_key`` does it and says so."""

from __future__ import annotations

import io
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from convergence.audit.models import AuditEvent
from convergence.sso import events, keys

GRACE = 3600


def test_first_key_is_created_when_the_directory_is_empty(tmp_path: Path) -> None:
    active, published = keys.active_and_published(tmp_path / "keys", GRACE)

    assert "PRIVATE KEY" in active
    assert published == []
    (key_file,) = keys.list_keys(tmp_path / "keys")
    assert stat.S_IMODE(key_file.path.stat().st_mode) == 0o600


def test_new_key_becomes_active(tmp_path: Path) -> None:
    now = int(time.time())
    old = keys.generate_key(tmp_path, now - 100)
    new = keys.generate_key(tmp_path, now)

    active, published = keys.active_and_published(tmp_path, GRACE, now)

    assert active == new.pem()
    assert published == [old.pem()]


def test_two_keys_generated_in_the_same_second_do_not_collide(tmp_path: Path) -> None:
    first = keys.generate_key(tmp_path, 1_000)
    second = keys.generate_key(tmp_path, 1_000)

    assert first.path != second.path
    assert keys.active_and_published(tmp_path, GRACE, 1_001)[0] == second.pem()


def test_retired_key_is_no_longer_published_after_the_grace(tmp_path: Path) -> None:
    now = int(time.time())
    keys.generate_key(tmp_path, now - GRACE - 10)
    new = keys.generate_key(tmp_path, now - GRACE)

    active, published = keys.active_and_published(tmp_path, GRACE, now)

    assert active == new.pem()
    assert published == []


def test_prune_keeps_the_key_within_grace_and_deletes_older_ones(tmp_path: Path) -> None:
    now = int(time.time())
    oldest = keys.generate_key(tmp_path, now - 3 * GRACE)
    previous = keys.generate_key(tmp_path, now - 2 * GRACE)
    current = keys.generate_key(tmp_path, now - 10)

    deleted = keys.prune(tmp_path, GRACE, now)

    assert deleted == [oldest.path]
    assert [key.path for key in keys.list_keys(tmp_path)] == [current.path, previous.path]


def test_prune_after_the_grace_deletes_the_previous_key(tmp_path: Path) -> None:
    now = int(time.time())
    previous = keys.generate_key(tmp_path, now - 10)
    current = keys.generate_key(tmp_path, now)

    assert keys.prune(tmp_path, GRACE, now) == []
    assert keys.prune(tmp_path, GRACE, now + GRACE) == [previous.path]
    assert [key.path for key in keys.list_keys(tmp_path)] == [current.path]


def test_jwks_publishes_the_active_and_the_retired_key(
    tmp_path: Path, settings: Any, db: None
) -> None:
    now = int(time.time())
    old = keys.generate_key(tmp_path, now - 100)
    new = keys.generate_key(tmp_path, now)
    active, published = keys.active_and_published(tmp_path, GRACE, now)
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": active,
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": published,
    }

    response = Client().get("/oidc/.well-known/jwks.json")

    published_kids = {key["kid"] for key in response.json()["keys"]}
    assert published_kids == {keys.key_id(new.pem()), keys.key_id(old.pem())}
    assert all("d" not in key for key in response.json()["keys"])


@pytest.mark.django_db
def test_rotate_command_adds_a_key_prunes_and_says_to_restart(
    tmp_path: Path, settings: Any
) -> None:
    settings.OIDC_KEYS_DIR = tmp_path
    now = int(time.time())
    grace = settings.OIDC_KEY_GRACE_SECONDS
    oldest = keys.generate_key(tmp_path, now - 3 * grace)
    previous = keys.generate_key(tmp_path, now - 2 * grace)
    out = io.StringIO()

    call_command("rotate_oidc_key", stdout=out)

    remaining = keys.list_keys(tmp_path)
    assert len(remaining) == 2
    assert remaining[1].path == previous.path
    assert not oldest.path.exists()
    output = out.getvalue()
    assert f"kid {keys.key_id(remaining[0].pem())}" in output
    assert f"L'ancienne clé (kid {keys.key_id(previous.pem())}) reste publiée" in output
    assert f"Clé retirée supprimée : {oldest.path.name}." in output
    assert "Redémarrez les processus" in output
    event = AuditEvent.objects.of_type(events.KEY_ROTATED).get()
    assert event.data["kid"] == keys.key_id(remaining[0].pem())
    assert event.data["pruned"] == [oldest.path.name]


@pytest.mark.django_db
def test_rotate_command_on_an_empty_directory_creates_the_first_key(
    tmp_path: Path, settings: Any
) -> None:
    settings.OIDC_KEYS_DIR = tmp_path / "neuf"
    out = io.StringIO()

    call_command("rotate_oidc_key", stdout=out)

    assert len(keys.list_keys(tmp_path / "neuf")) == 1
    assert "L'ancienne clé" not in out.getvalue()
