"""One row and the rows its foreign keys point to, in one statement written out: what
``select_related(…).only(…).first()`` does, for the two hottest reads of single sign-on (the
refresh token a client presents, the CAS ticket a service validates).

Django compiles a query at every call; for these joins the compiling costs about 0.5 ms and
running it 0.05 to 0.1 ms (measured on SQLite, docs/performance.md), so the statement is built
once per process and database from the models' metadata (table and column names, never
spelled here). Values go through each field's database converters, as the ORM's own reads
do, and instances are built with ``Model.from_db``: the other fields are deferred, as with
``only()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class Shape:
    """What to read: ``fields`` of ``model`` (its primary key first), and for each foreign
    key of ``related`` the fields of the row it points to (that row's primary key first)."""

    model: type[models.Model]
    fields: tuple[str, ...]
    related: tuple[tuple[str, tuple[str, ...]], ...]
    # The base row's column the lookup compares to its one parameter.
    lookup: str
    # A nullable column: rows where it is NULL first, then the latest value (optional).
    nulls_then_latest: str = ""


@dataclass(frozen=True)
class _Column:
    field: models.Field[Any, Any]
    expression: Any
    converters: tuple[Converter, ...]


@dataclass(frozen=True)
class _Statement:
    sql: str
    parts: tuple[tuple[type[models.Model], tuple[_Column, ...]], ...]
    foreign_keys: tuple[str, ...]


_statements: dict[tuple[str, Shape], _Statement] = {}


def _column(field: models.Field[Any, Any]) -> str:
    assert field.column is not None
    return field.column


def _columns(
    model: type[models.Model], names: Sequence[str], alias: str, connection: Any
) -> tuple[_Column, ...]:
    columns = []
    for name in names:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        expression = field.get_col(alias)
        converters = (
            *connection.ops.get_db_converters(expression),
            *expression.get_db_converters(connection),
        )
        columns.append(_Column(field, expression, converters))
    return tuple(columns)


def _statement(using: str, shape: Shape) -> _Statement:
    key = (using, shape)
    found = _statements.get(key)
    if found is not None:
        return found
    connection = connections[using]
    quote = connection.ops.quote_name
    base = quote("b")
    parts = [(shape.model, _columns(shape.model, shape.fields, "b", connection))]
    joins = []
    for number, (foreign_key, names) in enumerate(shape.related):
        field = shape.model._meta.get_field(foreign_key)
        assert isinstance(field, models.ForeignKey | models.OneToOneField)
        related = field.related_model
        assert isinstance(related, type) and issubclass(related, models.Model)
        alias = quote(f"r{number}")
        parts.append((related, _columns(related, names, f"r{number}", connection)))
        joins.append(
            f"LEFT OUTER JOIN {quote(related._meta.db_table)} {alias} ON "
            f"{alias}.{quote(_column(field.target_field))} = {base}.{quote(_column(field))}"
        )
    selected = ", ".join(
        f"{quote(column.expression.alias)}.{quote(_column(column.field))}"
        for _, columns in parts
        for column in columns
    )
    lookup = shape.model._meta.get_field(shape.lookup)
    assert isinstance(lookup, models.Field)
    sql = (
        f"SELECT {selected} FROM {quote(shape.model._meta.db_table)} {base} "  # noqa: S608
        f"{' '.join(joins)} WHERE {base}.{quote(_column(lookup))} = %s"
    )
    if shape.nulls_then_latest:
        ordering = shape.model._meta.get_field(shape.nulls_then_latest)
        assert isinstance(ordering, models.Field)
        column = f"{base}.{quote(_column(ordering))}"
        # Portable NULLS FIRST: a boolean sorts false before true on both databases.
        sql += f" ORDER BY ({column} IS NULL) DESC, {column} DESC"
    sql += " LIMIT 1"
    statement = _Statement(sql, tuple(parts), tuple(name for name, _ in shape.related))
    _statements[key] = statement
    return statement


def first_joined(using: str, shape: Shape, value: Any) -> Any:
    """The first row of ``shape.model`` whose ``shape.lookup`` equals ``value``, with the
    rows of ``shape.related`` attached (``None`` where a foreign key is empty), or None."""
    statement = _statement(using, shape)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    instances: list[models.Model | None] = []
    position = 0
    for model, columns in statement.parts:
        values: dict[str, Any] = {}
        for column in columns:
            value = row[position]
            position += 1
            for converter in column.converters:
                value = converter(value, column.expression, connection)
            values[column.field.attname] = value
        if values[columns[0].field.attname] is None:
            instances.append(None)
            continue
        # from_db takes the values in the order of the model's fields.
        names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
        instances.append(model.from_db(using, names, [values[name] for name in names]))
    base, *related = instances
    for foreign_key, instance in zip(statement.foreign_keys, related, strict=True):
        setattr(base, foreign_key, instance)
    return base
