"""``core.queries.CompiledQuery``: compiled once, the same rows as the QuerySet."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from convergence.accounts.models import Assignment, current_school_year
from convergence.core.queries import CompiledQuery


def build(user_pk, year):
    return Assignment.objects.filter(user_id=user_pk, school_year=year).values_list(
        "role", "establishment_id"
    )


def test_rows_equal_the_querysets_for_every_value(demo, teacher, pupil):
    query = CompiledQuery(build, -1, "\x00")
    year = current_school_year()
    for person in (teacher, pupil):
        assert sorted(query.rows(person.pk, year)) == sorted(build(person.pk, year))
    assert query.rows(teacher.pk, "1999-2000") == []


def test_one_statement_per_read(demo, pupil):
    query = CompiledQuery(build, -1, "\x00")
    query.rows(pupil.pk, current_school_year())
    with CaptureQueriesContext(connection) as captured:
        query.rows(pupil.pk, current_school_year())
    assert len(captured) == 1


def test_a_stand_in_missing_from_the_sql_is_refused(demo):
    query = CompiledQuery(lambda user_pk, year: build(user_pk, "2024-2025"), -1, "\x00")
    with pytest.raises(ValueError, match="stand-in"):
        query.rows(1, "2024-2025")
