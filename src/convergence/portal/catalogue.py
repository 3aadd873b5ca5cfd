"""The dashboard's catalogue, computed once and kept in the cache until something it shows
changes.

* **Visible services** depend only on the person's audience (their roles, establishments and
  departments this school year, read in one indexed query at each view) and on the
  catalogue. They are cached per audience, so every pupil of a school shares one entry, under
  the catalogue's version, which any change of a service or of an audience rule replaces.
  A new assignment changes the audience at once: the catalogue is never stale after a change.
* **Favourites**: the person's pinned service ids, cached under a version of their own that
  the portal's favourite actions (and any save or delete of a favourite) replace.
* **The rendered "Mes favoris" and "Mes services"**: cached per (visible services,
  favourites), with the CSRF placeholder in its forms (``core.fragments``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from convergence.accounts.models import current_school_year
from convergence.core import fragments
from convergence.portal.models import Favourite, Service, audience_of

if TYPE_CHECKING:
    from convergence.accounts.models import User

logger = logging.getLogger(__name__)

CATALOGUE_VERSION = "portal-catalogue"
ENTRY_SECONDS = 600


def _favourites_version(user_pk: int) -> str:
    return f"portal-favourites:{user_pk}"


def _bump_now_and_at_commit(name: str) -> None:
    # Now, so that this connection reads its own change at once; again at commit, because
    # another request may have cached, under the first new version, what it read before the
    # commit (a request caching under an old version is read by nobody).
    fragments.bump(name)
    transaction.on_commit(lambda: fragments.bump(name))


def catalogue_changed() -> None:
    """A service or an audience rule changed: every cached catalogue is obsolete."""
    _bump_now_and_at_commit(CATALOGUE_VERSION)


def favourites_changed(user_pk: int) -> None:
    """``user_pk``'s favourites changed: their cached list and dashboard are obsolete."""
    _bump_now_and_at_commit(_favourites_version(user_pk))


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Catalogue:
    """What one person's dashboard shows: visible services and pinned ones, in order."""

    services: list[int]
    favourites: list[int]
    version: str

    @classmethod
    def of(cls, user: User) -> Catalogue:
        """Two round trips to the cache and one indexed query (the person's audience) when
        the catalogue is cached; computed and stored otherwise."""
        catalogue_version, favourites_version = fragments.versions(
            CATALOGUE_VERSION, _favourites_version(user.pk)
        )
        audience = audience_of(user)
        visible_key = (
            f"portal:visible:{catalogue_version}:{current_school_year()}:{_digest(audience)}"
        )
        favourites_key = f"portal:favourites:{user.pk}:{favourites_version}"
        try:
            found: dict[str, Any] = cache.get_many([visible_key, favourites_key])
        except Exception:  # the cache backend's own errors: compute without it
            found = {}
        missing: dict[str, list[int]] = {}
        services = found.get(visible_key)
        if services is None:
            services = missing[visible_key] = list(
                Service.objects.for_audience(audience).values_list("pk", flat=True)
            )
        pinned = found.get(favourites_key)
        if pinned is None:
            pinned = missing[favourites_key] = list(
                Favourite.objects.filter(user=user)
                .order_by("position", "pk")
                .values_list("service_id", flat=True)
            )
        if missing:
            try:
                cache.set_many(missing, ENTRY_SECONDS)
            except Exception:
                logger.warning("Cache unreachable: the catalogue was not stored.")
        visible = set(services)
        return cls(services, [pk for pk in pinned if pk in visible], catalogue_version)


def render_favourites_and_catalogue(request: HttpRequest, user: User) -> SafeString:
    """ "Mes favoris" and "Mes services" as the dashboard shows them without a search,
    rendered once per (catalogue, favourites) and filled with this request's CSRF token."""
    catalogue = Catalogue.of(user)
    key = fragments.key(
        "favourites-and-catalogue",
        catalogue.version,
        catalogue.services,
        catalogue.favourites,
    )

    def render() -> str:
        by_pk = Service.objects.in_bulk(catalogue.services)
        return render_to_string(
            "portal/_favourites_and_catalogue.html",
            {
                **fragments.csrf_placeholder_context(),
                "query": "",
                "favourites": [_Pinned(by_pk[pk]) for pk in catalogue.favourites if pk in by_pk],
                "pinned": set(catalogue.favourites),
                "services": [by_pk[pk] for pk in catalogue.services if pk in by_pk],
            },
        )

    return fragments.fill_csrf(fragments.cached(key, render), request)


@dataclass(frozen=True)
class _Pinned:
    """What the favourites template reads of a favourite: its service."""

    service: Service
