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
            rows = _json_wrapped(model_fields, rows)
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


def _json_wrapped(model_fields, rows: Iterable[Sequence]) -> Iterable[Sequence]:
    """Rows with the values of JSON columns wrapped for COPY (psycopg adapts no bare dict or list)."""
    json_columns = [i for i, f in enumerate(model_fields) if f.get_internal_type() == "JSONField"]
    if not json_columns:
        return rows
    from psycopg.types.json import Jsonb

    def wrapped():
        for row in rows:
            row = list(row)
            for i in json_columns:
                if row[i] is not None:
                    row[i] = Jsonb(row[i])
            yield row

    return wrapped()


class RowWriter:
    """Rows streamed into one table until ``close()``: a single COPY on PostgreSQL (the server
    stores rows while the caller prepares the next ones), prepared INSERT batches elsewhere.

    While a COPY is open the connection can run nothing else: ``close()`` it before other
    queries (it can be reopened with ``open()``). ``count`` is the number of rows written.
    """

    def __init__(self, model: type[Model], fields: Sequence[str], *, using: str = "default"):
        self.connection = connections[using]
        qn = self.connection.ops.quote_name
        model_fields = _fields(model, fields)
        self.table = qn(model._meta.db_table)
        self.columns = ", ".join(qn(f.column) for f in model_fields)
        self.preps = [f.get_db_prep_save for f in model_fields]
        self.count = 0
        self._cursor = None
        self._copy_cm = None
        self._copy = None
        self._batch: list[list] = []
        self.write = self._closed

    def _closed(self, row) -> None:
        raise RuntimeError("RowWriter is closed")

    def open(self) -> RowWriter:
        if self._cursor is not None:
            return self
        self._cursor = self.connection.cursor()
        if self.connection.vendor == "postgresql":
            self._copy_cm = self._cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN")
            self._copy = self._copy_cm.__enter__()
            write_row = self._copy.write_row

            def write(row) -> None:
                write_row(row)
                self.count += 1

            self.write = write
        else:
            self.write = self._append
        return self

    def write_text(self, data: str, rows: int) -> None:
        """PostgreSQL only: ``rows`` rows already in COPY's text format (one a line, tab-separated,
        escaped as ``copy_text`` does), for callers that format rows faster than a generic dumper."""
        self._copy.write(data)
        self.count += rows

    def _append(self, row) -> None:
        self._batch.append([prep(value, self.connection) for prep, value in zip(self.preps, row)])
        self.count += 1
        if len(self._batch) >= 2000:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            placeholders = ", ".join(["%s"] * len(self.preps))
            self._cursor.executemany(f"INSERT INTO {self.table} ({self.columns}) VALUES ({placeholders})", self._batch)
            self._batch = []

    def close(self, exc: BaseException | None = None) -> None:
        if self._cursor is None:
            return
        try:
            if self._copy_cm is not None:
                cm, self._copy_cm, self._copy = self._copy_cm, None, None
                cm.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)
            elif exc is None:
                self._flush()
        finally:
            self._batch = []
            cursor, self._cursor = self._cursor, None
            cursor.close()
            self.write = self._closed

    def __enter__(self) -> RowWriter:
        return self.open()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str) -> str:
    """A text value escaped for COPY's text format."""
    return value.translate(_COPY_ESCAPES)


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
