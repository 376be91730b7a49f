"""Loading many rows fast: COPY on PostgreSQL, one prepared INSERT run many times elsewhere.

For imports and the scale seed. Rows are value sequences in the order of ``fields``
(attribute names such as ``school_id``); they are streamed, never held as model instances.
No signals, no ``save()``; defaults are not applied, so pass every NOT NULL column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connections
from django.db.models import Model


def _fields(model: type[Model], names: Sequence[str]):
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name] for name in names]


def load_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence], *, using: str = "default") -> int:
    """Insert ``rows`` into ``model``'s table and return how many were written."""
    connection = connections[using]
    qn = connection.ops.quote_name
    model_fields = _fields(model, fields)
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(f.column) for f in model_fields)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
                    count += 1
            return count
        placeholders = ", ".join(["%s"] * len(model_fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        preps = [f.get_db_prep_save for f in model_fields]
        batch: list[list] = []
        for row in rows:
            batch.append([prep(value, connection) for prep, value in zip(preps, row)])
            if len(batch) >= 2000:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def reset_sequence(model: type[Model], *, using: str = "default") -> None:
    """After loading rows with explicit ids, move the id sequence past them (PostgreSQL)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    sql = connection.ops.sequence_reset_sql(_NoStyle(), [model])
    with connection.cursor() as cursor:
        for statement in sql:
            cursor.execute(statement)


class _NoStyle:
    def __getattr__(self, name):
        return lambda text: text
