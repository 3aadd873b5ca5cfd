"""Every write to the portal: pinning, unpinning and reordering favourites (each one makes the
cached dashboard of that person obsolete: portal/catalogue.py)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from convergence.accounts.models import User
from convergence.portal.catalogue import favourites_changed
from convergence.portal.models import Favourite, Service


def pin_service(*, acting_user: User, service: Service) -> Favourite:
    """Pin ``service`` at the end of the user's favourites (idempotent, one transaction).

    The caller checks that the service is visible to the user.
    """
    with transaction.atomic():
        existing = Favourite.objects.filter(user=acting_user, service=service).first()
        if existing is not None:
            return existing
        # The cached dashboard follows (portal/receivers.py: every save or delete).
        last = Favourite.objects.filter(user=acting_user).aggregate(last=Max("position"))["last"]
        return Favourite.objects.create(user=acting_user, service=service, position=(last or 0) + 1)


def unpin_service(*, acting_user: User, service: Service) -> None:
    """Remove ``service`` from the user's favourites; nothing happens if it was not pinned."""
    Favourite.objects.filter(user=acting_user, service=service).delete()


def move_favourite(*, acting_user: User, service: Service, offset: int) -> None:
    """Move a favourite ``offset`` places (-1 up, +1 down), keeping positions dense."""
    with transaction.atomic():
        # Only the favourites the user sees move, so "down" never swaps with a hidden one.
        favourites = list(Favourite.objects.of(acting_user).select_for_update(of=("self",)))
        index = next((i for i, fav in enumerate(favourites) if fav.service_id == service.pk), None)
        if index is None:
            return
        target = max(0, min(len(favourites) - 1, index + offset))
        favourites.insert(target, favourites.pop(index))
        _renumber(favourites)
        favourites_changed(acting_user.pk)  # bulk_update sends no signal


def reorder_favourites(*, acting_user: User, service_ids: list[int]) -> None:
    """Put the user's favourites in the given order; unknown ids are ignored and favourites
    left out keep their relative order after the given ones."""
    with transaction.atomic():
        favourites = list(Favourite.objects.select_for_update().filter(user=acting_user))
        rank = {service_id: i for i, service_id in enumerate(service_ids)}
        favourites.sort(key=lambda fav: (rank.get(fav.service_id, len(rank)), fav.position, fav.pk))
        _renumber(favourites)
        favourites_changed(acting_user.pk)


def _renumber(favourites: list[Favourite]) -> None:
    changed = []
    for position, favourite in enumerate(favourites, start=1):
        if favourite.position != position:
            favourite.position = position
            changed.append(favourite)
    Favourite.objects.bulk_update(changed, ["position"])
