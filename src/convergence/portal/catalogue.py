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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from convergence.accounts.models import current_school_year
from convergence.core import fragments
from convergence.core.models import Establishment
from convergence.portal import service_states
from convergence.portal.contexts import Context, contexts_of, is_grouped
from convergence.portal.models import Audience, Favourite, Service, audience_of
from convergence.portal.service_states import TileState

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
class Section:
    """One context of the dashboard (``portal.contexts``) and the services of its own."""

    context: Context
    services: list[int]


@dataclass(frozen=True)
class Catalogue:
    """What one person's dashboard shows: visible services and pinned ones, in order, and,
    for a parent or a person in several establishments, the sections they fall into."""

    services: list[int]
    favourites: list[int]
    version: str
    sections: list[Section] = field(default_factory=list)
    common: list[int] = field(default_factory=list)

    @classmethod
    def for_request(cls, request: HttpRequest) -> Catalogue:
        """The signed-in person's catalogue, computed once per request: the dashboard and
        what it shows beside the tiles (the status notices) read the same."""
        found = getattr(request, "_portal_catalogue", None)
        if isinstance(found, Catalogue):
            return found
        catalogue = cls.of(request.user)  # type: ignore[arg-type]
        request._portal_catalogue = catalogue  # type: ignore[attr-defined]
        return catalogue

    @classmethod
    def of(cls, user: User) -> Catalogue:
        """Two round trips to the cache and one indexed query (the person's audience; a
        parent's children's assignments are a second) when the catalogue is cached; computed
        and stored otherwise."""
        catalogue_version, favourites_version = fragments.versions(
            CATALOGUE_VERSION, _favourites_version(user.pk)
        )
        audience = audience_of(user)
        contexts = contexts_of(user, audience)
        grouped = is_grouped(contexts)
        year = current_school_year()

        def visible_key(of: Audience) -> str:
            return f"portal:visible:{catalogue_version}:{year}:{_digest(of)}"

        audiences = {visible_key(audience): audience}
        if grouped:
            # The services of everyone (the empty audience) and of each context.
            audiences[visible_key(())] = ()
            audiences.update(
                (visible_key(context.audience), context.audience) for context in contexts
            )
        favourites_key = f"portal:favourites:{user.pk}:{favourites_version}"
        try:
            found: dict[str, Any] = cache.get_many([*audiences, favourites_key])
        except Exception:  # the cache backend's own errors: compute without it
            found = {}
        missing: dict[str, list[int]] = {}
        for key, of in audiences.items():
            if found.get(key) is None:
                found[key] = missing[key] = list(
                    Service.objects.for_audience(of).values_list("pk", flat=True)
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
        services: list[int] = found[visible_key(audience)]
        visible = set(services)
        favourites = [pk for pk in pinned if pk in visible]
        if not grouped:
            return cls(services, favourites, catalogue_version)
        per_context = [set(found[visible_key(context.audience)]) for context in contexts]
        # Common: the services of everyone, and with several contexts those they all share.
        common_ids = set(found[visible_key(())])
        if len(contexts) > 1:
            common_ids |= set.intersection(*per_context)
        sections = [
            Section(context, [pk for pk in services if pk in ids and pk not in common_ids])
            for context, ids in zip(contexts, per_context, strict=True)
        ]
        common = [pk for pk in services if pk in common_ids]
        return cls(services, favourites, catalogue_version, sections, common)

    def template_context(
        self, services: dict[int, Service], states: dict[str, TileState] | None = None
    ) -> dict[str, Any]:
        """What ``portal/_favourites_and_catalogue.html`` reads, from the services by id;
        ``states``: the tiles' states, when the caller already read them (with the version
        keying what it caches)."""
        shown = [services[pk] for pk in self.services if pk in services]
        if states is None:
            _version, states = service_states.current()
        return {
            "tile_states": states,
            "query": "",
            "favourites": [_Pinned(services[pk]) for pk in self.favourites if pk in services],
            "pinned": set(self.favourites),
            "services": shown,
            "sections": _section_views(self, services),
            "common": [services[pk] for pk in self.common if pk in services],
        }


@dataclass(frozen=True)
class SectionView:
    """A section as the template shows it: its anchor, title, place and services."""

    key: str
    title: str
    place: str
    child_id: int | None
    child_first_name: str
    services: list[Service]


def _section_views(catalogue: Catalogue, services: dict[int, Service]) -> list[SectionView]:
    if not catalogue.sections:
        return []
    establishments = Establishment.objects.in_bulk(
        {section.context.establishment_id for section in catalogue.sections}
    )
    views = []
    for section in catalogue.sections:
        context = section.context
        establishment = establishments.get(context.establishment_id)
        school, city = (establishment.name, establishment.city) if establishment else ("", "")
        if context.child_id is not None:
            # "Léa — 4e B", at "Collège Victor Hugo, Besançon".
            title = " — ".join(filter(None, (context.child_first_name, context.division)))
            place = ", ".join(filter(None, (school, city)))
        else:
            title, place = school, city
        views.append(
            SectionView(
                key=context.key,
                title=title,
                place=place,
                child_id=context.child_id,
                child_first_name=context.child_first_name,
                services=[services[pk] for pk in section.services if pk in services],
            )
        )
    return views


def render_favourites_and_catalogue(request: HttpRequest, user: User) -> SafeString:
    """ "Mes favoris" and "Mes services" as the dashboard shows them without a search,
    rendered once per (catalogue, sections, favourites) and filled with this request's CSRF
    token."""
    catalogue = Catalogue.for_request(request) if request.user == user else Catalogue.of(user)
    # One read: the cached fragment shows the states its key names.
    states_version, states = service_states.current()
    key = fragments.key(
        "favourites-and-catalogue",
        catalogue.version,
        states_version,
        catalogue.services,
        catalogue.favourites,
        [(section.context, section.services) for section in catalogue.sections],
    )

    def render() -> str:
        return render_to_string(
            "portal/_favourites_and_catalogue.html",
            {
                **fragments.csrf_placeholder_context(),
                **catalogue.template_context(Service.objects.in_bulk(catalogue.services), states),
            },
        )

    return fragments.fill_csrf(fragments.cached(key, render), request)


@dataclass(frozen=True)
class _Pinned:
    """What the favourites template reads of a favourite: its service."""

    service: Service
