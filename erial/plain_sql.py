"""Hot-path reads in plain SQL that still give back ordinary model objects.

Why: on the payment path, building an ORM query cost about ten times running it (bench/RESULTS.md:
1 ms against 0.1 ms for a wallet with its account, holder and balance). A ``JoinedRow`` is the SELECT
built once from the models' own fields, and turns a row into the same saved instances the ORM's
``select_related`` would, with the relations attached. Only PostgreSQL hands every column back as the
field's Python type (SQLite returns decimals as floats and datetimes as text), so callers use it there
and the ORM elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Model


@dataclass(frozen=True)
class JoinedRow:
    """``SELECT <every concrete field of each model> <from_where>`` and how to cut the row into models."""

    sql: str
    layout: tuple[tuple[type[Model], tuple[str, ...]], ...]

    @classmethod
    def build(cls, parts: Sequence[tuple[type[Model], str]], from_where: str, extra: Sequence[str] = ()) -> JoinedRow:
        """``parts``: (model, table alias) in the order the objects are wanted; ``from_where`` uses the aliases;
        ``extra``: SQL expressions whose values follow the objects, as they come."""
        quote = connection.ops.quote_name
        columns, layout = [], []
        for model, alias in parts:
            fields = model._meta.concrete_fields
            columns += [f"{alias}.{quote(field.column)}" for field in fields]
            layout.append((model, tuple(field.attname for field in fields)))
        return cls(f"SELECT {', '.join([*columns, *extra])} {from_where}", tuple(layout))

    def fetch(self, params: Sequence[Any]) -> list[Any] | None:
        """The objects of the first row (None for a model whose LEFT JOIN found nothing) then the ``extra``
        values, or None if there is no row."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        objects: list[Any] = []
        start = 0
        for model, names in self.layout:
            values = row[start : start + len(names)]
            start += len(names)
            objects.append(model.from_db(connection.alias, names, values) if values[0] is not None else None)
        return [*objects, *row[start:]]
