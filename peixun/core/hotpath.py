"""A hot path's database work in fewer round trips and less CPU: reads compiled once per process and
sent together (``Prepared``, ``run_together``), ids reserved ahead (``next_id``), plain rows inserted
together (``insert_together``). Used by course selection, the rush of the year.

Turning a queryset into SQL costs more CPU than the database spends answering a primary-key
lookup (about 1–3 ms for a query with a few ``select_related`` joins, against ~0.3 ms to run it),
and the selection rush is CPU-bound. ``Prepared`` builds the queryset once with marker values, keeps
the compiled SQL, and on each call swaps in the call's values and builds model instances exactly as
the queryset would (``select_related`` objects, annotations): same SQL, same objects, less work.

    places = Prepared(lambda p: Enrollment.objects.filter(teacher_id=p.teacher_id).select_related("project_class"), teacher_id=int)
    rows = places.bind(teacher_id=42).run()

Only values passed as ``p.<name>`` vary; everything else in the queryset is fixed at the first call.
A value must be used as a query parameter as it is (an ``int`` or ``str`` compared with ``=``), not
transformed (no ``__in`` over it, no ``__startswith``).

On PostgreSQL, ``run_together`` and ``insert_together`` send several statements in one round trip:
Django's psycopg cursor binds parameters on the client and uses the simple query protocol, which runs
them one after another in the session's transaction (a later statement sees what an earlier one did,
and waits for the locks an earlier one took). Elsewhere they run one by one, with the same results.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable
from django.db.models.sql import InsertQuery

# Marker values: improbable as real parameters, and of the right type for the field they stand for.
_INT_MARK = -2_147_000_000  # negative: never an id; in range for every integer column
_STR_MARK = "\ue000prepared:"


def _mark(index: int, name: str, kind: type) -> int | str:
    return _INT_MARK - index if kind is int else f"{_STR_MARK}{name}"


class _Markers:
    def __init__(self, kinds: dict[str, type]):
        self._kinds = kinds

    def __getattr__(self, name: str) -> Any:
        if name not in self._kinds:
            raise AttributeError(f"Prepared: no parameter {name!r} declared")
        return _mark(list(self._kinds).index(name), name, self._kinds[name])


class _Run:
    """What ``ModelIterable`` reads from a queryset, around an already compiled query."""

    def __init__(self, queryset: QuerySet, compiler):
        self.db = queryset.db
        self.model = queryset.model
        self._known_related_objects: dict = {}
        self.query = self
        self._compiler = compiler

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler


class Prepared:
    def __init__(self, build: Callable[[Any], QuerySet], **params: type):
        """``build(p)`` returns the queryset, using ``p.<name>`` for each parameter declared as
        ``name=int`` or ``name=str``."""
        self._build = build
        self._kinds = params
        self._compiled: dict[tuple[str, str], tuple] = {}
        self._lock = threading.Lock()

    def compiled(self, alias: str) -> tuple:
        key = (alias, connections[alias].vendor)
        found = self._compiled.get(key)
        if found is None:
            with self._lock:
                queryset = self._build(_Markers(self._kinds)).using(alias)
                compiler = queryset.query.get_compiler(using=alias)
                sql, params = compiler.as_sql()
                marks = {_mark(i, name, kind): name for i, (name, kind) in enumerate(self._kinds.items())}
                slots = [
                    (i, marks[p])
                    for i, p in enumerate(params)
                    if isinstance(p, (int, str)) and not isinstance(p, bool) and p in marks
                ]
                if {name for _i, name in slots} != set(self._kinds):
                    raise ValueError("Prepared: every declared parameter must appear as a query parameter")
                # The row converters, worked out once too (Django does it for every result, ~0.1 ms).
                converters = compiler.get_converters([col[0] for col in compiler.select[: compiler.col_count]])
                found = self._compiled[key] = (queryset, compiler, sql, tuple(params), slots, converters)
        return found

    def bind(self, **values: Any) -> Bound:
        return Bound(self, values)


class Bound:
    """One statement ready to run: a ``Prepared`` read with its values, or a raw statement (``raw``), and
    what to make of its rows (``then``)."""

    def __init__(self, prepared: Prepared | None, values: dict, then: Callable[[Any], Any] | None = None, sql=None):
        self.prepared = prepared
        self.values = values
        self._then = then
        self._sql = sql  # (sql, params, postgres_only) of a raw statement

    def then(self, function: Callable[[Any], Any]) -> Bound:
        """The same statement; its result is ``function(result)``."""
        previous = self._then
        return Bound(self.prepared, self.values, (lambda r: function(previous(r))) if previous else function, self._sql)

    @property
    def postgres_only(self) -> bool:
        return self._sql is not None and self._sql[2]

    def statement(self, alias: str) -> tuple[str, list]:
        if self.prepared is None:
            return self._sql[0], list(self._sql[1])
        _queryset, _compiler, sql, params, slots, _converters = self.prepared.compiled(alias)
        bound = list(params)
        for index, name in slots:
            bound[index] = self.values[name]
        return sql, bound

    def result(self, alias: str, rows: list) -> Any:
        if self.prepared is None:
            made = rows
        else:
            queryset, compiled, _sql, _params, _slots, converters = self.prepared.compiled(alias)
            compiler = copy.copy(compiled)
            compiler.connection = connections[alias]  # this thread's connection
            compiler.get_converters = lambda _expressions: converters
            if compiler.has_extra_select:
                rows = [row[: compiler.col_count] for row in rows]
            compiler.execute_sql = lambda *args, **kwargs: [rows]  # the rows, fetched already, as one chunk
            made = list(ModelIterable(_Run(queryset, compiler)))
        return self._then(made) if self._then else made

    def run(self, using: str = "default") -> Any:
        return run_together(self, using=using)[0]

    def server_form(self, alias: str, cursor) -> tuple[str, str, list]:
        """(name, body, values) of this statement as a server-side prepared statement: the values that
        vary become $1, $2, … (the rest is written into the body), so the server plans it once per
        session (PostgreSQL)."""
        if self.prepared is None:
            sql, values = self._sql[0], list(self._sql[1])
            return _server_statement(sql, [True] * len(values), [], cursor) + (values,)
        _queryset, _compiler, sql, params, slots, _converters = self.prepared.compiled(alias)
        varying = dict(slots)
        flags = [i in varying for i in range(len(params))]
        constants = [p for i, p in enumerate(params) if i not in varying]
        name, body = _server_statement(sql, flags, constants, cursor, cache_key=(id(self.prepared), alias))
        return name, body, [self.values[varying[i]] for i in range(len(params)) if i in varying]


def raw(sql: str, params: list, *, postgres_only: bool = False) -> Bound:
    """A statement of hand-written SQL that returns rows (``RETURNING`` for a write); its result is the rows.
    ``postgres_only``: skipped elsewhere (its result is None)."""
    return Bound(None, {}, sql=(sql, params, postgres_only))


def next_id(model: type[Model]) -> Bound:
    """Reserve the next id of ``model``'s table from its sequence (PostgreSQL), so that rows referring to
    a new row can be built before it is inserted; None elsewhere (no query: insert, then use its id)."""
    sql = "SELECT nextval(pg_get_serial_sequence(%s, %s))"
    return raw(sql, [model._meta.db_table, model._meta.pk.column], postgres_only=True).then(lambda rows: rows[0][0])


def run_together(*statements: Bound, using: str = "default") -> list:
    """Run ``statements`` in order — on PostgreSQL in one round trip, as prepared statements — and return
    each one's result."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        results: dict[int, Any] = {}
        with connection.cursor() as cursor:
            for s in statements:
                if not s.postgres_only:
                    cursor.execute(*s.statement(using))
                    results[id(s)] = s.result(using, cursor.fetchall())
        return [results.get(id(s)) for s in statements]
    with connection.cursor() as cursor:
        row_sets = _execute_prepared(connection, cursor, [s.server_form(using, cursor) for s in statements])
    return [s.result(using, rows) for s, rows in zip(statements, row_sets, strict=True)]


# Server-side prepared statements (PostgreSQL): planning a query with a few joins costs the server more
# than running it, so the hot path's statements are planned once per session. Names are derived from
# the statement's text; the names a session has are read from pg_prepared_statements once per
# connection (again after an error), so a statement is never prepared twice or used unprepared.
# This needs one server session per connection: no transaction-mode pooler (PgBouncer) in between.
_server_forms: dict[Any, tuple[str, str]] = {}
_prepared_in: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_PLACEHOLDER = re.compile(r"%%|%s")


def _server_statement(sql: str, varying: list[bool], constants: list, cursor, cache_key: Any = None) -> tuple[str, str]:
    key = cache_key if cache_key is not None else sql
    found = _server_forms.get(key)
    if found is None:
        index, slot = 0, 0

        def number(match: re.Match) -> str:
            nonlocal index, slot
            if match.group() == "%%":
                return "%%"
            index += 1
            if varying[index - 1]:
                slot += 1
                return f"${slot}"
            return "%s"

        numbered = _PLACEHOLDER.sub(number, sql)
        body = cursor.mogrify(numbered, constants)  # the constants written in; %% becomes %
        name = "px_" + hashlib.sha1(body.encode()).hexdigest()[:24]
        found = _server_forms[key] = (name, body)
    return found


def _execute_prepared(connection, cursor, forms: list[tuple[str, str, list]]) -> list[list]:
    """Run the (name, body, values) statements in one round trip, preparing those the session lacks;
    return each one's rows."""
    session = connection.connection
    known = _prepared_in.get(session)
    if known is None:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        known = _prepared_in[session] = {row[0] for row in cursor.fetchall()}
    pieces, returns, fresh = [], [], []
    for name, body, values in forms:
        if name not in known and name not in fresh:
            pieces.append(f"PREPARE {name} AS {body}")
            returns.append(False)
            fresh.append(name)
        arguments = "(" + ", ".join(["%s"] * len(values)) + ")" if values else ""
        pieces.append(cursor.mogrify(f"EXECUTE {name}{arguments}", values))
        returns.append(True)
    try:
        cursor.execute("; ".join(pieces))  # no parameters: sent as it is, several statements at once
    except Exception:
        _prepared_in.pop(session, None)  # which of them ran is unknown: read the names again next time
        raise
    known.update(fresh)
    row_sets = []
    for i, has_rows in enumerate(returns):
        if i:
            cursor.nextset()
        if has_rows:
            row_sets.append(cursor.fetchall())
    return row_sets


def insert_together(*objs: Model, using: str = "default") -> None:
    """Insert the unsaved ``objs`` and set their ids: on PostgreSQL one INSERT per row, all sent in one
    round trip; elsewhere one after another. Rows may refer to each other's ids only when those are set
    before (``next_id``). No ``save()`` override or signal runs, as in ``bulk_create``."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        for obj in objs:
            type(obj)._base_manager.using(using).bulk_create([obj])
        return
    statements = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_together")
        sql, fields, compiler = _insert_form(type(obj), obj.pk is None, using)
        values = [compiler.pre_save_val(f, obj) for f in fields]
        if any(hasattr(v, "resolve_expression") for v in values):  # an expression: let Django compile it
            query = InsertQuery(type(obj))
            query.insert_values(fields, [obj])
            ((sql, params),) = _returning_pk(query.get_compiler(using=using)).as_sql()
        else:
            params = [f.get_db_prep_save(v, connection=connection) for f, v in zip(fields, values, strict=True)]
        statements.append(raw(sql, list(params)))
    with connection.cursor() as cursor:
        row_sets = _execute_prepared(connection, cursor, [s.server_form(using, cursor) for s in statements])
    for obj, rows in zip(objs, row_sets, strict=True):
        obj.pk = rows[0][0]
        obj._state.adding = False
        obj._state.db = using


# (model, without its pk?, alias) -> the INSERT of one row with placeholders, its fields, a compiler to
# prepare values with: compiling an INSERT costs more than binding its values (~0.15 ms a row).
_insert_forms: dict[tuple, tuple[str, list, Any]] = {}


def _insert_form(model: type[Model], without_pk: bool, alias: str) -> tuple[str, list, Any]:
    key = (model, without_pk, alias)
    found = _insert_forms.get(key)
    if found is None:
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if not f.generated]
        if without_pk:
            fields = [f for f in fields if f is not meta.auto_field]
        query = InsertQuery(model)
        query.insert_values(fields, [model()])  # a row of defaults, only for the statement's shape
        compiler = _returning_pk(query.get_compiler(using=alias))
        ((sql, _values),) = compiler.as_sql()
        found = _insert_forms[key] = (sql, fields, compiler)
    return found


def _returning_pk(compiler):
    compiler.returning_fields = [compiler.query.model._meta.pk]
    return compiler
