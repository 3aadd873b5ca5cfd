"""The contexts of a person's dashboard: each child of a parent, each establishment of a person
who works in several.

A parent of two children in two schools, or a teacher in two établissements, sees one section
per context with the services of that context's own assignments, and one common section with
the rest. Contexts are read at every view, like the audience (``portal.models.audience_of``):
one indexed query more for a parent (their children's assignments this school year), none for
anyone else, so a new assignment or guardianship shows at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convergence.accounts.models import Assignment, Role, current_school_year
from convergence.core.queries import CompiledQuery

if TYPE_CHECKING:
    from convergence.accounts.models import User
    from convergence.portal.models import Audience


@dataclass(frozen=True)
class Context:
    """One section of a dashboard: a child at their school, or one establishment."""

    key: str
    establishment_id: int
    # The person's own (role, establishment, department) triples that belong here.
    audience: Audience
    child_id: int | None = None
    child_first_name: str = ""
    division: str = ""


# A parent's children's assignments this school year: compiled once (core.queries).
_CHILDREN = CompiledQuery(
    lambda parent_pk, year: (
        Assignment.objects.filter(
            user__guardians__parent_id=parent_pk, school_year=year, role=Role.ELEVE
        )
        .order_by("user__first_name", "user_id", "establishment_id")
        .values_list("user_id", "user__first_name", "establishment_id", "division")
    ),
    -7_654_321,
    "\x00year\x00",
)


def contexts_of(user: User, audience: Audience) -> list[Context]:
    """``user``'s contexts, children first (by first name), then establishments (by id).

    A parent's triple at a child's school belongs to that child's context; every other
    triple to its establishment's.
    """
    contexts: list[Context] = []
    parent_at = {establishment for role, establishment, _ in audience if role == Role.PARENT}
    if parent_at:
        for child_id, first_name, establishment_id, division in _CHILDREN.rows(
            user.pk, current_school_year()
        ):
            contexts.append(
                Context(
                    key=f"enfant-{child_id}-{establishment_id}",
                    establishment_id=establishment_id,
                    audience=tuple(
                        triple
                        for triple in audience
                        if triple[0] == Role.PARENT and triple[1] == establishment_id
                    ),
                    child_id=child_id,
                    child_first_name=first_name,
                    division=division,
                )
            )
    covered = {context.establishment_id for context in contexts}
    by_establishment: dict[int, list[tuple[str, int | None, int | None]]] = {}
    for triple in audience:
        role, establishment_id, _department = triple
        if establishment_id is None or (role == Role.PARENT and establishment_id in covered):
            continue
        by_establishment.setdefault(establishment_id, []).append(triple)
    contexts.extend(
        Context(key=f"etablissement-{pk}", establishment_id=pk, audience=tuple(triples))
        for pk, triples in sorted(by_establishment.items())
    )
    return contexts


def is_grouped(contexts: list[Context]) -> bool:
    """Sections are worth showing for a parent (each child is named) or for a person in
    several establishments; anyone else keeps one list."""
    return any(context.child_id is not None for context in contexts) or len(contexts) > 1
