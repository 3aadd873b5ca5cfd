"""The ``api:`` block of a service in a blueprint: the scopes its client may get."""

from __future__ import annotations

from typing import Any

import pytest

from convergence.api.models import ApiClient
from convergence.core.blueprints import BlueprintError, apply
from tests.conftest import demo_blueprint


def _arena(**api: Any) -> dict[str, Any]:
    services: list[dict[str, Any]] = demo_blueprint()["services"]
    arena = dict(next(item for item in services if item["slug"] == "arena"))
    arena["api"] = api
    return arena


def test_demo_arena_may_post_announcements_and_services_news(demo: None) -> None:
    client = ApiClient.objects.get()

    service = client.oidc_client.service
    assert service is not None
    assert service.slug == "arena"
    assert client.scopes == "notifications:annonces notifications:services"


def test_security_scope_is_refused_with_why(demo: None) -> None:
    with pytest.raises(BlueprintError, match="jamais de notifications de sécurité"):
        apply({"services": [_arena(scopes=["notifications:securite"])]})

    assert ApiClient.objects.get().scopes == "notifications:annonces notifications:services"


def test_empty_scopes_withdraw_the_access(demo: None) -> None:
    apply({"services": [_arena(scopes=[])]})

    assert not ApiClient.objects.exists()


def test_api_block_needs_an_oidc_client(demo: None) -> None:
    services: list[dict[str, Any]] = demo_blueprint()["services"]
    pia = dict(next(item for item in services if item["slug"] == "pia"))
    pia["api"] = {"scopes": ["notifications:annonces"]}

    with pytest.raises(BlueprintError, match="bloc oidc"):
        apply({"services": [pia]})


def test_loading_twice_changes_nothing(demo: None) -> None:
    apply({"services": [_arena(scopes=["notifications:services", "notifications:annonces"])]})

    assert ApiClient.objects.count() == 1
    assert ApiClient.objects.get().scopes == "notifications:annonces notifications:services"
