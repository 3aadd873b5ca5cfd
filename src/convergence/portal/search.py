"""The portal's part of the one search (``core.search``): the services a person sees, found
by their name, keywords (declared in the blueprint: "mail" for *Messagerie*), description or
category, forgiving accents, case and plurals."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.core import search
from convergence.portal.catalogue import Catalogue
from convergence.portal.models import Service


def find_services(services: Iterable[Service], asked: list[str]) -> list[Service]:
    """The services whose words match every asked word: those matched by their name first,
    then by name and keywords, then by anything; the catalogue's order within each."""
    ranked: list[tuple[int, int, Service]] = []
    for position, service in enumerate(services):
        name, keywords, rest = service.search_terms()
        if search.matches(asked, name):
            rank = 0
        elif search.matches(asked, name + keywords):
            rank = 1
        elif search.matches(asked, name + keywords + rest):
            rank = 2
        else:
            continue
        ranked.append((rank, position, service))
    return [service for _rank, _position, service in sorted(ranked, key=lambda r: r[:2])]


def visible_services(request: HttpRequest, asked: list[str]) -> list[Service]:
    """The services the signed-in person sees that match the ``asked`` words
    (``core.search.query_terms``); none when signed out."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not asked:
        return []
    catalogue = Catalogue.of(user)
    by_pk = Service.objects.in_bulk(catalogue.services)
    return find_services((by_pk[pk] for pk in catalogue.services if pk in by_pk), asked)


def _find(request: HttpRequest, asked: list[str]) -> list[search.Result]:
    return [
        search.Result(
            title=service.name,
            url=service.url,
            description=service.description,
            icon=service.icon,
            external=True,
        )
        for service in visible_services(request, asked)
    ]


def register() -> None:
    """Called from ``PortalConfig.ready``."""
    search.register(search.Provider(key="services", title=_("Mes services"), find=_find, order=10))
