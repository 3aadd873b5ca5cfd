"""Blueprint: a service of the catalogue allowed to call the API says so next to its tile.

```yaml
services:
  - slug: arena
    ...                      # the tile (portal) and its oidc: block (sso)
    api:
      scopes: [notifications:annonces, notifications:services]
```

The service needs an ``oidc:`` client, confidential: the API is reached with its client
credentials, which a public client (no secret) cannot present, so its scopes stay unused.
``scopes: []`` withdraws the access; a service without ``api:`` keeps what it had.
``notifications:securite`` is refused: security notifications are the portal's own.
"""

from __future__ import annotations

from typing import Any

from convergence.api.models import ApiClient
from convergence.api.scopes import SCOPES
from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.sso.models import OidcClient


def load_service_api(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Third pass over ``services``: the API scopes of each service's OIDC client."""
    for item in data:
        block = item.get("api")
        if block is None:
            continue
        slug = item["slug"]
        if not isinstance(block, dict):
            raise BlueprintError(f"{slug} : le bloc api attend « scopes: [...] ».")
        scopes = [str(scope) for scope in block.get("scopes") or []]
        refused = sorted(set(scopes) - SCOPES)
        if refused:
            raise BlueprintError(
                f"{slug} : portée d'API inconnue ou interdite {', '.join(refused)} (possibles : "
                f"{', '.join(sorted(SCOPES))} ; jamais de notifications de sécurité)."
            )
        client = OidcClient.objects.filter(service__slug=slug).first()
        if client is None:
            raise BlueprintError(
                f"{slug} : le bloc api demande un bloc oidc (identifiants client)."
            )
        if not scopes:
            ApiClient.objects.filter(oidc_client=client).delete()
            continue
        _row, created = ApiClient.objects.update_or_create(
            oidc_client=client, defaults={"scopes": " ".join(sorted(set(scopes)))}
        )
        report.count("clients de l'API", created=created)
