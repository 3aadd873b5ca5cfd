"""Blueprint: a service of the catalogue declares its single sign-on next to its tile.

```yaml
services:
  - slug: arena
    ...                      # the tile and its audience (portal)
    oidc:
      client_id: arena
      client_secret_env: ARENA_CLIENT_SECRET   # or client_secret: … (demo only)
      redirect_uris: [https://arena.exemple.fr/oidc/callback]
      post_logout_redirect_uris: [https://arena.exemple.fr/]
      backchannel_logout_uri: https://arena.exemple.fr/oidc/backchannel-logout
      first_party: true        # no consent page
      public: false            # a public client (no secret) still needs PKCE; made
                               # public, its old secret is replaced by an unknown one
      algorithm: RS256         # optional; the only ID token algorithm (sso/signing.py)
  - slug: ent
    cas:
      url_prefix: https://ent.exemple.fr/
      first_party: true
      single_logout: true
      proxy_callback_prefix: https://ent.exemple.fr/cas/pgt
server_clients:              # service-to-service (client credentials), e.g. the mail server
  - client_id: messagerie-introspection
    name: Serveur de messagerie
    client_secret_env: MAIL_INTROSPECTION_SECRET
```
"""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.portal.models import Service
from convergence.sso.hashers import MIN_SECRET_LENGTH
from convergence.sso.models import CasService, OidcClient
from convergence.sso.signing import ID_TOKEN_SIGNING_ALGORITHMS, UNSUPPORTED_ALGORITHM


def _secret(slug: str, data: dict[str, Any]) -> str | None:
    if "client_secret_env" in data:
        value = os.environ.get(str(data["client_secret_env"]), "").strip()
        if not value:
            raise BlueprintError(
                f"{slug} : la variable d'environnement {data['client_secret_env']} est vide."
            )
    elif "client_secret" in data:
        value = str(data["client_secret"])
    else:
        return None
    if len(value) < MIN_SECRET_LENGTH:
        raise BlueprintError(
            f"{slug} : le secret du client doit compter au moins {MIN_SECRET_LENGTH} caractères "
            "tirés au hasard (par exemple : python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')."
        )
    return value


def _lines(value: Any) -> str:
    if isinstance(value, str):
        return value
    return " ".join(str(item) for item in value or [])


def _application(
    slug: str, data: dict[str, Any], *, name: str, grant_type: str, public: bool
) -> Application:
    client_id = str(data.get("client_id") or slug)
    application = Application.objects.filter(client_id=client_id).first() or Application(
        client_id=client_id
    )
    application.name = name
    was_confidential = (
        application.pk is not None and application.client_type == Application.CLIENT_CONFIDENTIAL
    )
    application.client_type = (
        Application.CLIENT_PUBLIC if public else Application.CLIENT_CONFIDENTIAL
    )
    application.authorization_grant_type = grant_type
    application.redirect_uris = _lines(data.get("redirect_uris"))
    application.post_logout_redirect_uris = _lines(data.get("post_logout_redirect_uris"))
    # Optional in the blueprint, and RS256 whatever it was before (sso/signing.py).
    algorithm = str(data.get("algorithm", Application.RS256_ALGORITHM))
    if algorithm not in ID_TOKEN_SIGNING_ALGORITHMS:
        raise BlueprintError(f"{slug} : algorithm {algorithm} refusé. {UNSUPPORTED_ALGORITHM}")
    application.algorithm = algorithm
    application.skip_authorization = False  # consent is decided by OidcClient.first_party
    secret = _secret(slug, data)
    if public and secret:
        raise BlueprintError(f"{slug} : un client public n'a pas de secret.")
    if public and was_confidential:
        # The old secret must not outlive the switch: replaced by a random one nobody
        # knows (hashed on save), not emptied, which an empty password would match.
        application.client_secret = generate_client_secret()
    if not public:
        if secret is None and application.pk is None:
            raise BlueprintError(f"{slug} : un client confidentiel a besoin d'un secret.")
        if secret is not None:
            application.client_secret = secret
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except ValidationError as error:
        raise BlueprintError(f"{slug} : {' '.join(error.messages)}") from error
    application.save()
    return application


def load_service_sso(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Second pass over ``services``: the OIDC client and CAS registration of each tile."""
    for item in data:
        slug = item["slug"]
        service = Service.objects.get(slug=slug)
        oidc = item.get("oidc")
        if oidc:
            application = _application(
                slug,
                oidc,
                name=service.name,
                grant_type=Application.GRANT_AUTHORIZATION_CODE,
                public=bool(oidc.get("public", False)),
            )
            _client, created = OidcClient.objects.update_or_create(
                service=service,
                defaults={
                    "application": application,
                    "first_party": bool(oidc.get("first_party", False)),
                    "backchannel_logout_uri": str(oidc.get("backchannel_logout_uri", "")),
                },
            )
            report.count("clients OpenID Connect", created=created)
        cas = item.get("cas")
        if cas:
            registration = CasService.objects.filter(service=service).first() or CasService(
                service=service
            )
            created = registration.pk is None
            registration.url_prefix = str(cas["url_prefix"])
            registration.first_party = bool(cas.get("first_party", True))
            registration.single_logout = bool(cas.get("single_logout", True))
            registration.proxy_callback_prefix = str(cas.get("proxy_callback_prefix", ""))
            try:
                registration.full_clean(exclude=["service"])
            except ValidationError as error:
                raise BlueprintError(f"{slug} : {' '.join(error.messages)}") from error
            registration.save()
            report.count("services CAS", created=created)


def load_server_clients(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Service-to-service clients (client credentials grant), without a tile."""
    for item in data:
        client_id = str(item["client_id"])
        existed = Application.objects.filter(client_id=client_id).exists()
        application = _application(
            client_id,
            item,
            name=str(item.get("name", client_id)),
            grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            public=False,
        )
        OidcClient.objects.update_or_create(
            application=application, defaults={"service": None, "first_party": True}
        )
        report.count("clients serveur", created=not existed)
