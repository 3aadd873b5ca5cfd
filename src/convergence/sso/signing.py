"""How ID tokens are signed: RS256 only, with the keys of ``keys.py``.

The toolkit also offers HS256, which signs with the client's secret. Client secrets are stored
hashed here (``hashers.py``), so the portal cannot compute that HMAC: an HS256 client would
get ID tokens it cannot verify. Such a client cannot be saved (``refuse_unsupported_algorithm``,
connected to ``pre_save``), and one already in the database stops ``migrate`` and
``check --database`` (``check_signing_algorithms``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core import checks
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from oauth2_provider.models import Application

# What the discovery document advertises and the only value a client may have.
ID_TOKEN_SIGNING_ALGORITHMS = (Application.RS256_ALGORITHM,)
UNSUPPORTED_ALGORITHM = (
    "Les jetons d'identité sont signés en RS256 uniquement : les secrets des clients sont "
    "conservés hachés, le portail ne peut pas signer en HS256 avec eux. Choisissez RS256."
)


def refuse_unsupported_algorithm(application: Application) -> None:
    """Raise a ``ValidationError`` on the ``algorithm`` field unless it is RS256 (or empty,
    for a client that receives no ID token)."""
    if application.algorithm and application.algorithm not in ID_TOKEN_SIGNING_ALGORITHMS:
        raise ValidationError({"algorithm": UNSUPPORTED_ALGORITHM})


def check_signing_algorithms(
    *, databases: Sequence[str] | None = None, **kwargs: Any
) -> Iterable[checks.CheckMessage]:
    """System check (database tag): clients saved before the guard, or by a bulk update."""
    errors: list[checks.CheckMessage] = []
    for alias in databases or ():
        try:
            clients = list(
                Application.objects.using(alias)
                .exclude(algorithm__in=[Application.NO_ALGORITHM, *ID_TOKEN_SIGNING_ALGORITHMS])
                .values_list("client_id", "algorithm")
            )
        except DatabaseError:
            # Before the first migration the table does not exist yet: nothing to check.
            continue
        errors.extend(
            checks.Error(
                f"Le client OpenID Connect {client_id!r} signe ses jetons d'identité en "
                f"{algorithm}, que le portail ne prend pas en charge.",
                hint=UNSUPPORTED_ALGORITHM,
                obj=client_id,
                id="sso.E001",
            )
            for client_id, algorithm in clients
        )
    return errors
