"""Roster import from the national teacher information system: upload → validate → preview → apply.

* ``roster_import_create`` stores the upload (refusing files that lack required columns) and
  validates it inline when small, else queues ``tasks.validate_roster_import`` for the worker.
* ``run_validation`` streams the file once: each row is checked (``importing.RowParser``) and
  the good ones are bulk-loaded into ``RosterImportRow`` (COPY on PostgreSQL), problems into
  ``RosterImportError``. Checks that need the database (duplicates within the file — looked for
  only among the IDs the row check met twice —, IDs held by another scope) and the preview
  counts are set-based SQL over the staging rows.
* ``roster_import_apply`` re-validates against the current database and writes everything in
  one transaction: the changed teachers updated (only the columns the file carries) and the new
  ones inserted (one MERGE on PostgreSQL, UPDATE + INSERT elsewhere), optionally marking teachers
  not in the file as left. Rows that did not change are not touched, so applying the same file
  again changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
from array import array
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record
from peixun.core.bulkload import RowWriter, copy_text, load_rows
from peixun.core.context import current_ip
from peixun.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from peixun.core.models import Job
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require
from peixun.core.services import job_create, job_finish, job_progress
from peixun.orgs.models import Region, School

from .importing import (
    MAX_ROWS,
    STAGED_FIELDS,
    FileProblem,
    Half,
    RowParser,
    open_upload,
    second_half,
)
from .models import RosterImport, RosterImportError, RosterImportRow, Teacher

logger = logging.getLogger(__name__)

BATCH_ROWS = 10_000
SEGMENT_ROWS = 50_000  # progress, cancellation and problems are handled between segments
SAMPLE_SIZE = 10
MAX_FILE_BYTES = 300 * 1024 * 1024
ROW_COLUMNS = ("roster_import_id", "line", *STAGED_FIELDS, "school_id", "school_code")
ERROR_COLUMNS = ("roster_import_id", "line", "column", "message")
_NULL = "\\N"


def _staging_line(import_id: int, line: int, values: tuple, school_id: int, code: str) -> str:
    """A good row as one line of COPY text in ``ROW_COLUMNS`` order (PostgreSQL).

    Formatted directly (dates as ISO, the flag as t/f) because psycopg's per-value dumping was a
    third of the per-row cost; text with a tab, newline or backslash is escaped value by value.
    """
    (nid, name, former, gender, born, eth, pol, work, join, src, cat, est, emp, con, edu, title, stage, subject) = (
        values
    )
    iso = _ISO.get
    text = (
        f"{import_id}\t{line}\t{nid}\t{name}\t{former}\t{gender}\t{iso(born) or _iso(born)}\t{eth}\t{pol}\t"
        f"{_NULL if work is None else iso(work) or _iso(work)}\t{_NULL if join is None else iso(join) or _iso(join)}\t"
        f"{src}\t{cat}\t{'t' if est else 'f'}\t{emp}\t{con}\t{edu}\t{title}\t{stage}\t{subject}\t{school_id}\t{code}\n"
    )
    if text.count("\t") == len(ROW_COLUMNS) - 1 and "\\" not in text and "\r" not in text and text.count("\n") == 1:
        return text
    return "\t".join(map(_copy_cell, (import_id, line, *values, school_id, code))) + "\n"


_ISO: dict = {}


def _iso(day) -> str:
    """A date as ISO text, memoised (formatting a date costs more than the rest of its row's line)."""
    if len(_ISO) > 100_000:
        _ISO.clear()
    text = _ISO[day] = day.isoformat()
    return text


def _copy_cell(value) -> str:
    if value is None:
        return _NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return copy_text(value)
    return str(value)


# Compared and written on existing teachers when the file carries them (school_id always).
COMPARED = tuple(f for f in STAGED_FIELDS if f != "national_id")
ACTIVE = Teacher.Status.ACTIVE
S = RosterImport.Status


def inline_bytes() -> int:
    """Files up to this size are validated during the upload request; larger ones by the worker."""
    return int(getattr(settings, "PEIXUN_IMPORT_INLINE_BYTES", 256 * 1024))


def inline_rows() -> int:
    """Imports up to this many rows are applied during the request; larger ones by the worker."""
    return int(getattr(settings, "PEIXUN_IMPORT_INLINE_ROWS", 5000))


class _Cancelled(Exception):
    pass


# --- scope ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportScope:
    """What one import may touch: one school, or every school under a region."""

    school: School | None
    region: Region | None

    @classmethod
    def of(cls, imp: RosterImport) -> ImportScope:
        return cls(school=imp.school, region=imp.region)

    @classmethod
    def for_actor(cls, actor: Actor) -> ImportScope:
        if actor.role == Role.SCHOOL and actor.school is not None:
            return cls(school=actor.school, region=None)
        if actor.role in (Role.COUNTY, Role.CITY, Role.PROVINCE) and actor.region is not None:
            return cls(school=None, region=actor.region)
        raise PermissionDenied(_("Your role may not perform this operation."))

    @property
    def everything(self) -> bool:
        return self.school is None and self.region is not None and self.region.parent_id is None

    @property
    def label(self) -> str:
        return str(self.school or self.region)

    def schools(self):
        if self.school is not None:
            return School.objects.filter(pk=self.school.pk)
        if self.everything:
            return School.objects.all()
        return School.objects.filter(county__path__startswith=self.region.path)

    def teacher_condition(self, alias: str) -> tuple[str, list]:
        """SQL restricting ``alias`` (roster_teacher) to teachers of this scope's schools."""
        if self.school is not None:
            return f"{alias}.school_id = %s", [self.school.pk]
        if self.everything:
            return "1 = 1", []
        sql, params = self.schools().values("pk").query.sql_with_params()
        return f"{alias}.school_id IN ({sql})", list(params)


# --- upload -----------------------------------------------------------------------------------


@transaction.atomic
def roster_import_create(*, actor: Actor, file, filename: str = "") -> RosterImport:
    """Store an uploaded national-system export and start validating it.

    Files without the required columns are refused at once and nothing is kept.
    """
    require(actor, "roster.import")
    scope = ImportScope.for_actor(actor)
    name = os.path.basename(filename or getattr(file, "name", "") or "roster.csv")[:200]
    lower = name.lower()
    if lower.endswith(".xls"):
        raise InvalidInput(_("Old .xls files are not supported: save the file as .xlsx or .csv and upload it again."))
    if not lower.endswith((".csv", ".txt", ".xlsx")):
        raise InvalidInput(_("Only .xlsx and .csv files can be imported."), details={"field": "file"})
    size = getattr(file, "size", None) or 0
    if size == 0:
        raise InvalidInput(_("The file is empty."), details={"field": "file"})
    if size > MAX_FILE_BYTES:
        raise InvalidInput(_("The file is larger than 300 MB; split it by county."), details={"field": "file"})

    digest = hashlib.sha256()
    if hasattr(file, "chunks"):
        for chunk in file.chunks():
            digest.update(chunk)
    if hasattr(file, "seek"):
        file.seek(0)
    imp = RosterImport(
        created_by=actor.user,
        grant=actor.grant,
        school=scope.school,
        region=scope.region,
        original_name=name,
        file_size=size,
        sha256=digest.hexdigest(),
    )
    imp.file.save(f"roster{os.path.splitext(lower)[1]}", file, save=False)
    path = imp.file.path
    try:
        sheet = open_upload(name, path, header_only=True)
        try:
            problems = sheet.parser.problems()
        finally:
            sheet.close()
    except FileProblem as exc:
        _remove_file(imp)
        raise InvalidInput(exc.message, details={"field": "file"}) from None
    if problems:
        _remove_file(imp)
        raise InvalidInput("；".join(problems), details={"field": "file", "problems": problems})
    imp.save()
    imp.job = job_create(
        owner=actor.user,
        kind="roster.import.validate",
        title=_("Check roster file %(name)s") % {"name": name},
        params={"import_id": imp.pk},
    )
    imp.save(update_fields=["job"])
    _supersede_older(imp)
    audit_record(
        actor,
        "roster.import.upload",
        imp,
        summary=name,
        after={"file": name, "size": size, "sha256": imp.sha256, "scope": scope.label},
    )
    if size <= inline_bytes():
        run_validation(imp.pk)
        imp.refresh_from_db()
    else:
        from .tasks import validate_roster_import

        job = imp.job
        transaction.on_commit(lambda: _enqueue(validate_roster_import, job))
    return imp


def _enqueue(task, job: Job) -> None:
    result = task.enqueue(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])


def _remove_file(imp: RosterImport) -> None:
    try:
        imp.file.delete(save=False)
    except OSError:
        logger.warning("could not remove %s", imp.file.name)


def _supersede_older(imp: RosterImport) -> None:
    """Older previews of the same scope are cancelled: only the newest upload may be applied."""
    older = RosterImport.objects.filter(
        school=imp.school, region=imp.region, status__in=[S.PREVIEW, S.INVALID]
    ).exclude(pk=imp.pk)
    for old in older.select_for_update():
        old.status = S.CANCELLED
        old.message = _("Superseded by a newer upload.")
        old.save(update_fields=["status", "message"])
        _clear_staging(old.pk)


def _clear_staging(import_id: int) -> None:
    """Remove an import's staging rows: on PostgreSQL by emptying the table when they are the
    only ones in it (no dead rows left for the next import to scan or a vacuum to clean)."""
    if connection.vendor == "postgresql" and _truncate_staging_if_only(import_id):
        return
    RosterImportRow.objects.filter(roster_import_id=import_id)._raw_delete(connection.alias)


def _truncate_staging_if_only(import_id: int) -> bool:
    """TRUNCATE the staging table if it holds no other import's rows. The table is locked first
    without waiting (another import writing or reading staging: give up, delete instead), so no
    other import's rows can appear before the commit; two index probes tell whether there are any."""
    from django.db.utils import OperationalError

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {ROW_TABLE} IN ACCESS EXCLUSIVE MODE NOWAIT")
            cursor.execute(
                f"""SELECT EXISTS (SELECT 1 FROM {ROW_TABLE} WHERE roster_import_id < %s)
                    OR EXISTS (SELECT 1 FROM {ROW_TABLE} WHERE roster_import_id > %s)""",
                [import_id, import_id],
            )
            if cursor.fetchone()[0]:
                return False
            cursor.execute(f"TRUNCATE {ROW_TABLE}")
    except OperationalError:  # the lock is taken (LockNotAvailable)
        return False
    return True


# --- validation -----------------------------------------------------------------------------


def run_validation(import_id: int) -> None:
    """Validate an uploaded file (the worker's task, or inline for small files). Never raises."""
    imp = RosterImport.objects.select_related("school", "region", "job").filter(pk=import_id).first()
    if imp is None or imp.status != S.VALIDATING:
        return
    job = imp.job
    try:
        if connection.in_atomic_block:  # inline, inside the upload's transaction: contain failures
            with transaction.atomic():
                _validate(imp, job)
        else:  # the worker: autocommit, so progress and batches are visible as they happen
            _validate(imp, job)
    except _Cancelled:
        _clear_staging(imp.pk)
        if job is not None:
            job_finish(job, ok=False, message=_("Cancelled."))
    except Exception:  # noqa: BLE001 - recorded on the import; the traceback goes to the log
        logger.exception("roster import %s failed during validation", import_id)
        _clear_staging(imp.pk)
        message = _("The file could not be checked because of an internal error; nothing was changed.")
        RosterImport.objects.filter(pk=imp.pk).update(status=S.FAILED, message=message)
        if job is not None:
            job_finish(job, ok=False, message=message)


def _school_map(scope: ImportScope) -> dict[str, tuple[int, bool, bool, str]]:
    """code -> (id, active, inside the import's scope, name) for every school."""
    inside = set(scope.schools().values_list("pk", flat=True)) if not scope.everything else None
    return {
        code: (pk, active, inside is None or pk in inside, name)
        for pk, code, active, name in School.objects.values_list("pk", "code", "is_active", "name").iterator(
            chunk_size=5000
        )
    }


def _is_cancelled(import_id: int) -> bool:
    return RosterImport.objects.filter(pk=import_id, status=S.CANCELLED).exists()


class _RowChecker:
    """Checks rows of one import and streams the good ones into staging, the problems into errors.

    Good rows go through one COPY per segment of the file, so the database stores them while
    the next rows are checked; problems are kept apart (at most BATCH_ROWS at a time) and
    written between segments, when ``on_segment(rows)`` reports progress and may cancel.

    Each good row's ID is noted as it passes, by its hash (``seen``: one integer a row, ~60
    bytes), and an ID whose hash was seen before in ``repeated``: only those can be duplicates,
    so the duplicate check (``_duplicate_errors``) looks at them alone instead of grouping every
    staged row. (Two IDs with the same hash cost that check a look at one more ID, nothing else.)
    """

    def __init__(self, import_id: int, parser: RowParser, schools: dict, scope: ImportScope):
        self.import_id = import_id
        self.parser = parser
        self.schools = schools
        self.scope = scope
        self.seen: set[int] = set()
        self.repeated: set[str] | None = set()

    def noted(self) -> tuple[bytes, set[str] | None]:
        """What this process noted, to be sent to the other one (hashes packed as 64-bit integers)."""
        return array("q", self.seen).tobytes(), self.repeated

    def merge(self, noted: tuple[bytes, set[str] | None]) -> None:
        """Take in what the other process noted over its part of the file (its ``noted()``). The
        same hash in both parts: that ID (whichever it is) may be in both, so the duplicate check
        groups the whole file (``repeated`` None), as it does when there are many to look up."""
        seen, repeated = noted
        hashes = array("q")
        hashes.frombytes(seen)
        if self.repeated is None or repeated is None or not self.seen.isdisjoint(hashes):
            self.repeated = None
        else:
            self.repeated |= repeated
        self.seen = set()

    def run(self, rows_in, on_segment, *, before_line: int | None = None) -> tuple[int, int]:  # noqa: C901
        """Check ``(line, cells)`` rows (those before ``before_line``); returns (rows, rows staged)."""
        parser, schools, scope, pk = self.parser, self.schools, self.scope, self.import_id
        code_column = parser.column["school_code"]
        own_school = scope.school
        parse = parser.parse
        stop = before_line if before_line is not None else MAX_ROWS * 100
        rows = 0
        bad: list[tuple] = []
        staging = RowWriter(RosterImportRow, ROW_COLUMNS).open()
        stage = staging.write
        as_text = connection.vendor == "postgresql"
        lines: list[str] = []
        seen = self.seen
        repeated = self.repeated if self.repeated is not None else set()

        def flush() -> None:
            if lines:
                staging.write_text("".join(lines), len(lines))
                lines.clear()
            staging.close()
            if bad:
                load_rows(RosterImportError, ERROR_COLUMNS, bad)
                bad.clear()

        try:
            for line, cells in rows_in:
                if line >= stop:
                    break
                rows += 1
                if rows > MAX_ROWS:
                    raise _TooManyRows
                parsed, errors = parse(cells)
                code = parsed.school_code if parsed is not None else None
                if code is None:
                    index = parser.index.get("school_code")
                    code = cells[index].strip() if index is not None and index < len(cells) and cells[index] else ""
                school = schools.get(code) if code else None
                if code and school is None:
                    errors.append((code_column, f"学校代码“{code}”不存在，请先由教育局在平台中添加该学校"))
                elif school is not None and not school[1]:
                    errors.append((code_column, f"学校“{school[3]}”（{code}）已停用"))
                elif school is not None and not school[2]:
                    if own_school is not None:
                        errors.append(
                            (code_column, f"只能导入本校（{own_school.name}）的教师，该行学校为“{school[3]}”（{code}）")
                        )
                    else:
                        errors.append((code_column, f"学校“{school[3]}”（{code}）不在{scope.label}的管理范围内"))
                if errors:
                    for column, message in errors:
                        bad.append((pk, line, column[:40], message[:300]))
                else:
                    key = hash(parsed.values[0])
                    if key in seen:
                        repeated.add(parsed.values[0])
                    else:
                        seen.add(key)
                    if as_text:
                        lines.append(_staging_line(pk, line, parsed.values, school[0], code))
                        if len(lines) >= 1000:
                            staging.write_text("".join(lines), len(lines))
                            lines.clear()
                    else:
                        stage((pk, line, *parsed.values, school[0], code))
                if rows % SEGMENT_ROWS == 0 or len(bad) >= BATCH_ROWS:
                    flush()
                    on_segment(rows)
                    stage = staging.open().write
            flush()
        except (FileProblem, _TooManyRows):
            flush()  # what was read is stored, so clearing it later removes all of it
            raise
        except BaseException as exc:
            staging.close(exc)
            raise
        return rows, staging.count


def _segment_done(import_id: int, job: Job | None, estimated: int, share: int, rows: int) -> None:
    """Between segments: progress (``share`` processes each check about 1/share of the file) and
    cancellation."""
    if job is not None:
        progress = rows if share == 1 else min(rows * share, estimated)
        job_progress(job, progress=progress, total=max(estimated, progress))
    if _is_cancelled(import_id):
        raise _Cancelled


def _check_in_two(checker: _RowChecker, sheet, half: Half, on_segment) -> tuple[int, int]:
    """Check a large CSV file in two processes: a forked child takes the second half (from
    ``half.line``, with its own database connection) while this one takes the first. Each
    stages its good rows and records its problems; the set-based checks run after both."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_check_half, args=(checker, half, send, os.getpid()), daemon=True)
    child.start()
    send.close()
    try:
        rows, staged = checker.run(sheet.rows, on_segment, before_line=half.line)
        try:
            kind, payload = receive.recv()
        except EOFError:
            kind, payload = "error", f"ended without an answer (exit code {child.exitcode})"
    except BaseException:
        child.kill()  # it ignores SIGTERM (below); nothing it staged survives the clean-up
        raise
    finally:
        child.join()
        receive.close()
    if kind == "ok":
        child_rows, child_staged, noted = payload
        checker.merge(noted)
        return rows + child_rows, staged + child_staged
    if kind == "file":
        raise FileProblem(payload)
    if kind == "too_many":
        raise _TooManyRows
    if kind == "cancelled":
        raise _Cancelled
    raise RuntimeError(f"checking the second half of the file failed: {payload}")


def _check_half(checker: _RowChecker, half: Half, send, parent: int) -> None:
    """The child of ``_check_in_two``. It must not use or close the parent's database connections
    (it shares their sockets): they are set aside unclosed (psycopg does not end a connection
    from another process when it is garbage-collected), and Django opens a new one. Stopping is
    the parent's call: the worker's shutdown signals are ignored (the parent finishes its task
    gracefully, or kills this one), and it stops by itself if the parent is gone."""
    import signal

    from django.db import connections

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    inherited = []
    for conn in connections.all(initialized_only=True):
        inherited.append(conn.connection)
        conn.connection = None

    def on_segment(rows: int) -> None:
        if os.getppid() != parent:
            raise _Cancelled
        _segment_done(checker.import_id, None, 0, 0, rows)

    try:
        rows, staged = checker.run(half.rows(), on_segment)
        result = ("ok", (rows, staged, checker.noted()))  # the same hashes: forked, same hash seed
    except FileProblem as exc:
        result = ("file", exc.message)
    except _TooManyRows:
        result = ("too_many", None)
    except _Cancelled:
        result = ("cancelled", None)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the import
        logger.exception("roster import %s: checking the second half failed", checker.import_id)
        result = ("error", repr(exc)[:500])
    try:
        connections.close_all()
    finally:
        send.send(result)
        send.close()


class _TooManyRows(Exception):
    pass


def parallel_min_rows() -> int:
    """CSV files of at least this many lines are checked by two processes (PostgreSQL worker)."""
    return int(getattr(settings, "PEIXUN_IMPORT_PARALLEL_ROWS", 100_000))


def _validate(imp: RosterImport, job: Job | None) -> None:
    _clear_staging(imp.pk)
    RosterImportError.objects.filter(roster_import_id=imp.pk)._raw_delete(connection.alias)
    scope = ImportScope.of(imp)
    if job is not None:
        job_progress(job, progress=0, message=_("Reading the file…"))
    try:
        sheet = open_upload(imp.original_name, imp.file.path)
    except FileProblem as exc:
        _finish_file_problem(imp, job, exc.message)
        return
    parser: RowParser = sheet.parser
    pk = imp.pk
    try:
        problems = parser.problems()
        if problems:
            _finish_file_problem(imp, job, "；".join(problems), line=sheet.header_line)
            return
        notices = []
        if parser.unknown:
            notices.append(
                _("Ignored %(count)s columns the platform does not use: %(names)s")
                % {"count": len(parser.unknown), "names": "、".join(parser.unknown)}
            )
        if sheet.header_line > 1:
            notices.append(
                _("The header is on line %(line)s; the lines above it were skipped.") % {"line": sheet.header_line}
            )
        checker = _RowChecker(pk, parser, _school_map(scope), scope)
        estimated = sheet.estimated_rows
        if job is not None:
            job_progress(job, progress=0, total=estimated, message=_("Checking every row…"))
        half = None
        if (
            connection.vendor == "postgresql"
            and not connection.in_atomic_block
            and parallel_min_rows() <= estimated <= MAX_ROWS
        ):
            half = second_half(sheet)
        try:
            if half is None:
                rows, staged = checker.run(sheet.rows, partial(_segment_done, pk, job, estimated, 1))
            else:
                rows, staged = _check_in_two(checker, sheet, half, partial(_segment_done, pk, job, estimated, 2))
        except _TooManyRows:
            _finish_file_problem(
                imp, job, _("The file has more than %(max)s data rows; split it by county.") % {"max": MAX_ROWS}
            )
            return
        except FileProblem as exc:
            _finish_file_problem(imp, job, exc.message, line=None)
            return
    finally:
        sheet.close()

    if rows == 0:
        _finish_file_problem(imp, job, _("The file has no data rows under the header."), line=sheet.header_line)
        return
    if job is not None:
        job_progress(job, progress=rows, total=rows, message=_("Comparing with the roster…"))
    if connection.vendor == "postgresql":  # fresh statistics, so the set-based checks get good plans
        with transaction.atomic(), connection.cursor() as cursor:
            # What these plans need (the rows of this import, that IDs are unique, how many schools)
            # shows in a sample of 3,000 rows as well as in the default 30,000, which would read
            # most pages of a large import again (0.4 s at 600,000 rows; this takes 0.04 s).
            cursor.execute("SET LOCAL default_statistics_target = 10")
            cursor.execute(f"ANALYZE {ROW_TABLE} (roster_import_id, line, national_id, school_id)")
            cursor.execute("RESET default_statistics_target")
    repeated = checker.repeated
    checker.seen = set()
    duplicates = _record_errors(_duplicate_errors(pk, parser.column["national_id"], repeated))
    _record_errors(_foreign_id_errors(pk, scope, parser.column["national_id"]))
    if _is_cancelled(pk):
        raise _Cancelled

    imp.total_rows = rows
    imp.staged_rows = staged
    imp.encoding = sheet.encoding
    imp.columns = parser.present_fields
    imp.notices = notices
    imp.counts, imp.samples = preview(imp, scope, ids_unique=not duplicates)
    imp.status = S.INVALID if imp.counts["errors"] else S.PREVIEW
    _save_result(imp, job)


def _save_result(imp: RosterImport, job: Job | None) -> None:
    with transaction.atomic():
        current = RosterImport.objects.select_for_update().get(pk=imp.pk)
        if current.status == S.CANCELLED:
            raise _Cancelled
        imp.save(
            update_fields=[
                "total_rows",
                "staged_rows",
                "encoding",
                "columns",
                "notices",
                "counts",
                "samples",
                "status",
                "message",
            ]
        )
    if job is not None:
        counts = imp.counts
        if imp.status == S.PREVIEW:
            message = _("Checked %(rows)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.") % {
                "rows": imp.total_rows,
                **counts,
            }
        else:
            message = _("Checked %(rows)s rows: %(errors)s problems found; fix the file and upload it again.") % {
                "rows": imp.total_rows,
                **counts,
            }
        job_finish(
            job,
            ok=True,
            message=message,
            result={
                "link": reverse("roster:import_detail", args=[imp.pk]),
                "link_label": _("Open the preview"),
                "status": imp.status,
            },
        )


def _finish_file_problem(imp: RosterImport, job: Job | None, message: str, line: int | None = 1) -> None:
    _clear_staging(imp.pk)
    RosterImportError.objects.filter(roster_import_id=imp.pk)._raw_delete(connection.alias)
    RosterImportError.objects.create(roster_import_id=imp.pk, line=line or 0, column="", message=message[:300])
    imp.counts = {"errors": 1, "new": 0, "changed": 0, "unchanged": 0, "missing": 0}
    imp.samples = {}
    imp.staged_rows = 0
    imp.status = S.INVALID
    imp.message = message[:500]
    _save_result(imp, job)


def _record_errors(errors: Iterable[tuple]) -> int:
    batch: list[tuple] = []
    count = 0
    for row in errors:
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            count += load_rows(RosterImportError, ERROR_COLUMNS, batch)
            batch = []
    if batch:
        count += load_rows(RosterImportError, ERROR_COLUMNS, batch)
    return count


def _stream(sql: str, params: list) -> Iterator[tuple]:
    """Rows of a query fetched in chunks (a server-side cursor on PostgreSQL), so memory stays flat."""
    cursor = connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            yield from rows
    finally:
        cursor.close()


ROW_TABLE = RosterImportRow._meta.db_table
TEACHER_TABLE = Teacher._meta.db_table
SCHOOL_TABLE = School._meta.db_table
ERROR_TABLE = RosterImportError._meta.db_table


DUPLICATE_LOOKUP_IDS = 500


def _duplicate_errors(import_id: int, column: str, repeated: Collection[str] | None) -> Iterator[tuple]:
    """Staged rows whose ID an earlier staged row of the file has (the first one stays good).

    ``repeated``: the IDs the row check may have met more than once (``_RowChecker``), None when
    it cannot tell which. Only those can be duplicates, so a file without any needs no query,
    and a few are looked up alone rather than grouping every staged row of the file.
    """
    if repeated is not None and not repeated:
        return
    only, ids = "", []
    if repeated is not None and len(repeated) <= DUPLICATE_LOOKUP_IDS:
        ids = sorted(repeated)
        only = f" AND national_id IN ({', '.join(['%s'] * len(ids))})"
    sql = f"""
        SELECT r.line, d.first_line FROM {ROW_TABLE} r
        JOIN (SELECT national_id, MIN(line) AS first_line FROM {ROW_TABLE}
              WHERE roster_import_id = %s{only} GROUP BY national_id HAVING COUNT(*) > 1) d
          ON d.national_id = r.national_id
        WHERE r.roster_import_id = %s{only.replace("national_id", "r.national_id")} AND r.line > d.first_line
        ORDER BY r.line"""
    for line, first in _stream(sql, [import_id, *ids, import_id, *ids]):
        yield (import_id, line, column[:40], f"身份证件号与第{first}行重复")


def _foreign_id_errors(import_id: int, scope: ImportScope, column: str) -> Iterator[tuple]:
    """Rows whose ID belongs to a teacher in post at a school outside the import's scope."""
    if scope.everything:
        return
    condition, params = scope.teacher_condition("t")
    sql = f"""
        SELECT r.line, s.name FROM {ROW_TABLE} r
        JOIN {TEACHER_TABLE} t ON t.national_id = r.national_id
        JOIN {SCHOOL_TABLE} s ON s.id = t.school_id
        WHERE r.roster_import_id = %s AND t.status = %s AND NOT ({condition}) ORDER BY r.line"""
    for line, school_name in _stream(sql, [import_id, ACTIVE, *params]):
        yield (
            import_id,
            line,
            column[:40],
            f"该教师目前在“{school_name}”的名册中（不在本次导入范围内）；需原学校先将其标记为离校，或由上级教育局导入",
        )


def _school_gone(scope: ImportScope) -> tuple[str, list]:
    """SQL true for a staged row ``r`` (joined with its school ``s``) whose school has since been
    removed, deactivated or moved out of scope."""
    if scope.everything:
        condition, params = "1 = 1", []
    else:
        sql, params = scope.schools().values("pk").query.sql_with_params()
        condition, params = f"s.id IN ({sql})", list(params)
    return f"(s.id IS NULL OR s.is_active = %s OR NOT ({condition}))", [False, *params]


def _staging_check(import_id: int, scope: ImportScope) -> tuple[int, int]:
    """(staged rows, of which with a school now gone) in one pass over the import's staging rows."""
    gone, params = _school_gone(scope)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT COUNT(*), COUNT(*) FILTER (WHERE {gone}) FROM {ROW_TABLE} r
                LEFT JOIN {SCHOOL_TABLE} s ON s.id = r.school_id WHERE r.roster_import_id = %s""",
            [*params, import_id],
        )
        staged, gone_rows = cursor.fetchone()
    return staged, gone_rows


def _school_errors(import_id: int, scope: ImportScope, column: str) -> Iterator[tuple]:
    """Staged rows whose school has since been removed, deactivated or moved out of scope (apply time)."""
    gone, params = _school_gone(scope)
    sql = f"""
        SELECT r.line, r.school_code FROM {ROW_TABLE} r
        LEFT JOIN {SCHOOL_TABLE} s ON s.id = r.school_id
        WHERE r.roster_import_id = %s AND {gone} ORDER BY r.line"""
    for line, code in _stream(sql, [import_id, *params]):
        yield (import_id, line, column[:40], f"学校代码“{code}”对应的学校已不存在、已停用或不在管理范围内")


def _differs(imp: RosterImport, r: str = "r", t: str = "t") -> str:
    fields = [f for f in COMPARED if f in imp.columns] + ["school_id"]
    parts = [f"{r}.{f} IS DISTINCT FROM {t}.{f}" for f in fields]
    parts.append(f"{t}.status <> '{ACTIVE}'")
    return "(" + " OR ".join(parts) + ")"


def preview(
    imp: RosterImport, scope: ImportScope, *, ids_unique: bool = False
) -> tuple[dict[str, int], dict[str, list]]:
    """The preview's counts and a few rows of each kind (for changed rows, old → new per field).

    One pass over the staging rows joined with the roster counts each kind (new / changed /
    unchanged; none into an empty roster); samples are read only for the kinds there are, and without sorting, so they cost
    a few rows each. Teachers in post in scope missing from the file: when the staged IDs are
    ``ids_unique`` (no duplicate within the file), the same pass counts those it matches, and
    the rest is a count of the scope's teachers; else one anti-join. Their samples are read only
    when there are any.
    """
    fields = [f for f in COMPARED if f in imp.columns] + ["school_id"]
    differs = _differs(imp)
    samples: dict[str, list] = {"new": [], "changed": [], "unchanged": []}
    base = (
        f"FROM {ROW_TABLE} r LEFT JOIN {TEACHER_TABLE} t ON t.national_id = r.national_id WHERE r.roster_import_id = %s"
    )
    condition, params = scope.teacher_condition("t")
    in_post = f"t.status = %s AND {condition}"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TEACHER_TABLE})")
        if cursor.fetchone()[0]:
            cursor.execute(
                f"""SELECT COUNT(*), COUNT(t.id), COALESCE(SUM(CASE WHEN t.id IS NOT NULL AND {differs}
                           THEN 1 ELSE 0 END), 0), COUNT(*) FILTER (WHERE {in_post}) {base}""",
                [ACTIVE, *params, imp.pk],
            )
            total, matched, changed, matched_in_post = cursor.fetchone()
        else:  # an empty roster (a first import): every staged row is new, no pass needed to say so
            total, matched, changed, matched_in_post = imp.staged_rows, 0, 0, 0
        counts = {"new": total - matched, "changed": int(changed), "unchanged": matched - int(changed)}
        # A few rows of each kind there is: no ORDER BY, so the scan stops at the first rows it
        # finds (in file order, as the staging rows were written) instead of sorting them all.
        sample = partial(_sample_rows, cursor, total)
        if counts["new"]:
            rows = sample(
                f"SELECT r.line, r.national_id, r.name, r.school_id, r.stage, r.subject, r.title {base}"
                f" AND t.id IS NULL LIMIT {SAMPLE_SIZE}",
                [imp.pk],
                counts["new"],
            )
            samples["new"] = [
                {
                    "line": line,
                    "national_id": nid,
                    "name": name,
                    "school_id": school_id,
                    "stage": stage,
                    "subject": subject,
                    "title": title,
                }
                for line, nid, name, school_id, stage, subject, title in rows
            ]
        if counts["changed"]:
            r_cols = ", ".join(f"r.{f}" for f in fields)
            t_cols = ", ".join(f"t.{f}" for f in fields)
            rows = sample(
                f"SELECT r.line, r.national_id, r.name, t.id, t.status, {r_cols}, {t_cols} {base}"
                f" AND t.id IS NOT NULL AND {differs} LIMIT {SAMPLE_SIZE}",
                [imp.pk],
                counts["changed"],
            )
            for row in rows:
                line, nid, name, teacher_id, status = row[:5]
                new_values = row[5 : 5 + len(fields)]
                old_values = row[5 + len(fields) :]
                diffs = [
                    [f, _jsonable(old), _jsonable(new)]
                    for f, new, old in zip(fields, new_values, old_values)
                    if _normal(old) != _normal(new)
                ]
                if status != ACTIVE:
                    diffs.append(["status", status, ACTIVE])
                samples["changed"].append(
                    {"line": line, "national_id": nid, "name": name, "teacher_id": teacher_id, "diffs": diffs}
                )
        if counts["unchanged"]:
            rows = sample(
                f"SELECT r.line, r.national_id, r.name, t.id, t.school_id {base}"
                f" AND t.id IS NOT NULL AND NOT {differs} LIMIT {SAMPLE_SIZE}",
                [imp.pk],
                counts["unchanged"],
            )
            samples["unchanged"] = [
                {"line": line, "national_id": nid, "name": name, "teacher_id": tid, "school_id": sid}
                for line, nid, name, tid, sid in rows
            ]
        for rows in samples.values():
            rows.sort(key=lambda row: row["line"])
        if ids_unique:  # each teacher was matched by one row at most
            cursor.execute(f"SELECT COUNT(*) FROM {TEACHER_TABLE} t WHERE {in_post}", [ACTIVE, *params])
            missing = cursor.fetchone()[0] - matched_in_post
        else:
            cursor.execute(
                f"""SELECT COUNT(*) FROM {TEACHER_TABLE} t WHERE {in_post}
                    AND NOT EXISTS (SELECT 1 FROM {ROW_TABLE} r WHERE r.roster_import_id = %s
                                    AND r.national_id = t.national_id)""",
                [ACTIVE, *params, imp.pk],
            )
            (missing,) = cursor.fetchone()
        samples["missing"] = []
        if missing:
            cursor.execute(
                f"""SELECT t.id, t.national_id, t.name, t.school_id FROM {TEACHER_TABLE} t
                    WHERE {in_post}
                    AND NOT EXISTS (SELECT 1 FROM {ROW_TABLE} r WHERE r.roster_import_id = %s
                                    AND r.national_id = t.national_id)
                    ORDER BY t.national_id LIMIT {SAMPLE_SIZE}""",
                [ACTIVE, *params, imp.pk],
            )
            samples["missing"] = [
                {"teacher_id": tid, "national_id": nid, "name": name, "school_id": sid}
                for tid, nid, name, sid in cursor.fetchall()
            ]
    counts["missing"] = missing
    counts["errors"] = RosterImportError.objects.filter(roster_import_id=imp.pk).count()
    return counts, samples


def _sample_rows(cursor, total: int, sql: str, params: list, kind_count: int) -> list[tuple]:
    """Run a LIMITed sample query. When the kind is common, PostgreSQL is told to walk the staging
    rows and look each one up in the roster's ID index (it stops after a few dozen rows) rather
    than hash the whole roster first; a rare kind keeps the hash join (one pass either way)."""
    if connection.vendor != "postgresql" or kind_count * 100 < total:
        cursor.execute(sql, params)
        return cursor.fetchall()
    with transaction.atomic():  # SET LOCAL needs a transaction (the worker runs in autocommit)
        cursor.execute("SET LOCAL enable_hashjoin = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.execute("SET LOCAL enable_hashjoin = on")
        cursor.execute("SET LOCAL enable_mergejoin = on")
    return rows


def _jsonable(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _normal(value):
    """Compare values the way the database did (SQLite returns dates as text, booleans as ints)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


# --- apply --------------------------------------------------------------------------------------


def _lock_roster() -> None:
    """Serialise roster imports (two imports must not insert the same new teacher at once).

    SQLite already serialises writers (IMMEDIATE transactions)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [7_310_001])


def rebuild_min_rows() -> int:
    """A PostgreSQL apply adding at least this many teachers (and more than the roster holds)
    rebuilds the roster's indexes after the insert instead of maintaining them row by row."""
    return int(getattr(settings, "PEIXUN_IMPORT_REBUILD_ROWS", 50_000))


def _rebuild_worthwhile(cursor, new: int) -> bool:
    if new < rebuild_min_rows():
        return False
    cursor.execute(f"SELECT COUNT(*) FROM {TEACHER_TABLE}")
    return new >= cursor.fetchone()[0]


@contextmanager
def _secondary_indexes_dropped(cursor):
    """Drop the roster's secondary indexes and its unique and foreign-key constraints, then
    re-create each exactly as it was (same name and definition) after the body (PostgreSQL).

    For a first import: building an index over 600,000 rows by one sort, and checking a
    foreign key by one join, is several times cheaper than updating five indexes and queueing
    a foreign-key check per inserted row. Every constraint is re-created, so it is checked
    over all rows before the transaction can commit; nothing is skipped, and a failure rolls
    the whole apply back (DDL is transactional). The table is locked for the apply, which an
    import into an empty roster can afford.
    """
    cursor.execute(
        """SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
           WHERE c.conrelid = %s::regclass AND c.contype IN ('u', 'f') ORDER BY c.contype DESC, c.conname""",
        [TEACHER_TABLE],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
           WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS (
               SELECT 1 FROM pg_constraint c WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid)
           ORDER BY 1""",
        [TEACHER_TABLE],
    )
    indexes = cursor.fetchall()
    qn = connection.ops.quote_name
    # ALTER TABLE refuses a table with queued foreign-key checks (from rows this transaction
    # changed before): run them now, then go back to deferring (Django's constraints are all
    # INITIALLY DEFERRED).
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if constraints:
        drops = ", ".join(f"DROP CONSTRAINT {qn(name)}" for name, _ in constraints)
        cursor.execute(f"ALTER TABLE {TEACHER_TABLE} {drops}")
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _name, definition in indexes:
        cursor.execute(definition)
    for name, definition in constraints:
        cursor.execute(f"ALTER TABLE {TEACHER_TABLE} ADD CONSTRAINT {qn(name)} {definition}")
    cursor.execute("RESET maintenance_work_mem")


INSERT_COLUMNS = (*STAGED_FIELDS, "school_id")


def _update_then_insert(cursor, imp: RosterImport, fields: list[str], now, *, backstop: bool) -> tuple[int, int]:
    """(new, changed): the changed teachers updated (only ``fields``), then the staged rows whose
    ID is not in the roster inserted. ``backstop``: the unique index on the ID is there (not
    dropped for a rebuild, which checks uniqueness instead)."""
    assignments = ", ".join(f"{f} = r.{f}" for f in fields)
    cursor.execute(
        f"""UPDATE {TEACHER_TABLE} AS t SET {assignments}, status = %s, updated_at = %s
            FROM {ROW_TABLE} AS r
            WHERE r.roster_import_id = %s AND t.national_id = r.national_id AND {_differs(imp)}""",
        [ACTIVE, now, imp.pk],
    )
    changed = cursor.rowcount
    # ON CONFLICT is the backstop (the roster lock already serialises imports).
    on_conflict = "ON CONFLICT (national_id) DO NOTHING" if backstop else ""
    cursor.execute(
        f"""INSERT INTO {TEACHER_TABLE} ({", ".join(INSERT_COLUMNS)}, status, phone, post, remarks,
                created_at, updated_at)
            SELECT {", ".join(f"r.{c}" for c in INSERT_COLUMNS)}, %s, '', %s, '', %s, %s
            FROM {ROW_TABLE} r WHERE r.roster_import_id = %s
            AND NOT EXISTS (SELECT 1 FROM {TEACHER_TABLE} t WHERE t.national_id = r.national_id)
            {on_conflict}""",
        [ACTIVE, Teacher.Post.TEACHER, now, now, imp.pk],
    )
    return cursor.rowcount, changed


_COUNTERS = "SELECT n_tup_ins, n_tup_upd FROM pg_stat_xact_all_tables WHERE relid = %s::regclass"


def _counts_tracked(cursor) -> bool:
    """Whether PostgreSQL keeps the row counters ``_merge`` reads (``track_counts``, on by default)."""
    cursor.execute("SELECT current_setting('track_counts')::boolean")
    return cursor.fetchone()[0]


def _merge(cursor, imp: RosterImport, fields: list[str], now) -> tuple[int, int]:
    """(new, changed), as ``_update_then_insert`` does it, in one MERGE (PostgreSQL): one join of
    the staged rows with the roster instead of one for the update and one for the insert. Its
    figures are this transaction's own row counters for the roster, before and after (other
    sessions' writes do not show in them). A teacher added elsewhere with one of the file's IDs
    while the MERGE runs makes it fail on the unique index, and the whole apply with it."""
    assignments = ", ".join(f"{f} = r.{f}" for f in fields)
    cursor.execute(_COUNTERS, [TEACHER_TABLE])
    inserted, updated = cursor.fetchone()
    cursor.execute(
        f"""MERGE INTO {TEACHER_TABLE} AS t
            USING (SELECT {", ".join(INSERT_COLUMNS)} FROM {ROW_TABLE} WHERE roster_import_id = %s) AS r
            ON t.national_id = r.national_id
            WHEN MATCHED AND {_differs(imp)} THEN UPDATE SET {assignments}, status = %s, updated_at = %s
            WHEN NOT MATCHED THEN INSERT ({", ".join(INSERT_COLUMNS)}, status, phone, post, remarks,
                created_at, updated_at)
              VALUES ({", ".join(f"r.{c}" for c in INSERT_COLUMNS)}, %s, '', %s, '', %s, %s)""",
        [imp.pk, ACTIVE, now, ACTIVE, Teacher.Post.TEACHER, now, now],
    )
    written = cursor.rowcount
    cursor.execute(_COUNTERS, [TEACHER_TABLE])
    now_inserted, now_updated = cursor.fetchone()
    added, changed = now_inserted - inserted, now_updated - updated
    if added + changed != written:  # cannot happen while the counters are kept; never guess
        raise RuntimeError(f"roster MERGE wrote {written} rows, counters say {added} + {changed}")
    return added, changed


@transaction.atomic
def roster_import_apply(*, actor: Actor, roster_import: RosterImport, mark_leavers: bool | None = None) -> RosterImport:
    """Re-validate against the current roster and apply the whole file, or nothing.

    Returns the import: APPLIED with the applied counts, or INVALID when the re-validation
    found problems (recorded as the import's errors; the roster is unchanged).
    """
    require(actor, "roster.import", roster_import)
    imp = (
        RosterImport.objects.select_for_update(of=("self",)).select_related("school", "region").get(pk=roster_import.pk)
    )
    if imp.status not in (S.PREVIEW, S.APPLYING):
        raise Conflict(
            _("This import cannot be applied now (status: %(status)s).") % {"status": imp.get_status_display()}
        )
    if mark_leavers is not None:
        imp.mark_leavers = mark_leavers
    _lock_roster()
    scope = ImportScope.of(imp)
    staged, school_gone = _staging_check(imp.pk, scope)
    if staged != imp.staged_rows:
        raise Conflict(_("The checked data of this import is incomplete; upload the file again."))

    # Re-validate: the roster and the schools may have changed since the preview.
    id_column = "身份证件号"
    code_column = "学校代码"
    found = _record_errors(_school_errors(imp.pk, scope, code_column)) if school_gone else 0
    found += _record_errors(_foreign_id_errors(imp.pk, scope, id_column))
    if found:
        imp.status = S.INVALID
        imp.counts = {**imp.counts, "errors": RosterImportError.objects.filter(roster_import_id=imp.pk).count()}
        imp.message = _("The roster changed since the preview: %(count)s rows can no longer be imported.") % {
            "count": found
        }
        imp.save(update_fields=["status", "counts", "message", "mark_leavers"])
        audit_record(actor, "roster.import.revalidate", imp, summary=imp.message)
        return imp

    now = timezone.now()
    fields = [f for f in COMPARED if f in imp.columns] + ["school_id"]
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        rebuild = postgres and _rebuild_worthwhile(cursor, imp.counts.get("new", 0))
        # On PostgreSQL the joins of the staged rows with the roster must not be nested loops: on
        # a nearly empty roster that is a sequential scan per row over the pages this very
        # statement fills (quadratic); a hash join reads the roster once.
        if postgres:
            cursor.execute("SET LOCAL enable_nestloop = off")
        with _secondary_indexes_dropped(cursor) if rebuild else nullcontext():
            if postgres and _counts_tracked(cursor):
                added, changed = _merge(cursor, imp, fields, now)
            else:
                added, changed = _update_then_insert(cursor, imp, fields, now, backstop=not rebuild)
        if postgres:
            cursor.execute("RESET enable_nestloop")
        left = 0
        if imp.mark_leavers:
            condition, params = scope.teacher_condition(TEACHER_TABLE)
            cursor.execute(
                f"""UPDATE {TEACHER_TABLE} SET status = %s, updated_at = %s
                    WHERE status = %s AND {condition}
                    AND NOT EXISTS (SELECT 1 FROM {ROW_TABLE} r WHERE r.roster_import_id = %s
                                    AND r.national_id = {TEACHER_TABLE}.national_id)""",
                [Teacher.Status.LEFT, now, ACTIVE, *params, imp.pk],
            )
            left = cursor.rowcount
    applied = {
        "new": added,
        "changed": changed,
        "unchanged": imp.staged_rows - added - changed,
        "left": left,
    }
    imp.counts = {**imp.counts, "applied": applied}
    imp.status = S.APPLIED
    imp.applied_at = now
    imp.applied_by = actor.user
    imp.message = ""
    imp.save(update_fields=["counts", "status", "applied_at", "applied_by", "message", "mark_leavers"])
    audit_record(
        actor,
        "roster.import.apply",
        imp,
        summary=_("%(file)s: %(new)s added, %(changed)s changed, %(unchanged)s unchanged, %(left)s marked as left")
        % {"file": imp.original_name, **applied},
        after={
            **applied,
            "file": imp.original_name,
            "sha256": imp.sha256,
            "rows": imp.total_rows,
            "mark_leavers": imp.mark_leavers,
            "scope": scope.label,
        },
    )
    _clear_staging(imp.pk)
    return imp


@transaction.atomic
def roster_import_apply_later(*, actor: Actor, roster_import: RosterImport, mark_leavers: bool = False) -> RosterImport:
    """Hand a large import to the worker: the status becomes APPLYING and a job shows it."""
    require(actor, "roster.import", roster_import)
    imp = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
    if imp.status != S.PREVIEW:
        raise Conflict(
            _("This import cannot be applied now (status: %(status)s).") % {"status": imp.get_status_display()}
        )
    imp.status = S.APPLYING
    imp.mark_leavers = mark_leavers
    imp.apply_job = job_create(
        owner=actor.user,
        kind="roster.import.apply",
        title=_("Import roster file %(name)s") % {"name": imp.original_name},
        params={"import_id": imp.pk, "grant_id": actor.grant.pk if actor.grant else None, "ip": current_ip.get()},
        total=imp.staged_rows,
    )
    imp.save(update_fields=["status", "mark_leavers", "apply_job"])
    from .tasks import apply_roster_import

    job = imp.apply_job
    transaction.on_commit(lambda: _enqueue(apply_roster_import, job))
    return imp


def roster_import_confirm(*, actor: Actor, roster_import: RosterImport, mark_leavers: bool = False) -> RosterImport:
    """Apply now when small, or hand to the worker when large (what pages and the API call)."""
    if roster_import.staged_rows <= inline_rows():
        return roster_import_apply(actor=actor, roster_import=roster_import, mark_leavers=mark_leavers)
    return roster_import_apply_later(actor=actor, roster_import=roster_import, mark_leavers=mark_leavers)


def run_apply(import_id: int) -> None:
    """The worker's half of ``roster_import_apply_later``."""
    from peixun.accounts.models import RoleGrant

    imp = RosterImport.objects.select_related("apply_job").filter(pk=import_id).first()
    if imp is None or imp.status != S.APPLYING:
        return
    job = imp.apply_job
    params = job.params if job is not None else {}
    grant = RoleGrant.objects.select_related("user", "region", "school", "institution").filter(
        pk=params.get("grant_id"), is_active=True, user__is_active=True
    )
    grant = grant.first()
    token = current_ip.set(params.get("ip"))
    try:
        if grant is None:
            raise PermissionDenied(_("The account that confirmed this import is no longer active."))
        if job is not None:
            job_progress(job, progress=0, total=imp.staged_rows, message=_("Writing to the roster…"))
        result = roster_import_apply(actor=Actor.from_grant(grant), roster_import=imp)
    except DomainError as exc:
        RosterImport.objects.filter(pk=imp.pk, status=S.APPLYING).update(status=S.PREVIEW, message=exc.message[:500])
        if job is not None:
            job_finish(job, ok=False, message=exc.message)
        return
    except Exception:  # noqa: BLE001 - the transaction rolled back; the import can be retried
        logger.exception("roster import %s failed while applying", import_id)
        message = _("The import failed because of an internal error; the roster was not changed. Try again.")
        RosterImport.objects.filter(pk=imp.pk, status=S.APPLYING).update(status=S.PREVIEW, message=message)
        if job is not None:
            job_finish(job, ok=False, message=message)
        return
    finally:
        current_ip.reset(token)
    if job is not None:
        if result.status == S.APPLIED:
            applied = result.counts["applied"]
            message = _(
                "Imported: %(new)s added, %(changed)s changed, %(unchanged)s unchanged, %(left)s marked as left."
            )
            job_finish(
                job,
                ok=True,
                message=message % applied,
                result={"link": reverse("roster:import_detail", args=[imp.pk]), "link_label": _("Open the result")},
            )
        else:
            job_finish(job, ok=False, message=result.message)


# --- cancel ---------------------------------------------------------------------------------------


@transaction.atomic
def roster_import_cancel(*, actor: Actor, roster_import: RosterImport) -> RosterImport:
    require(actor, "roster.import", roster_import)
    imp = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
    if imp.status not in (S.VALIDATING, S.PREVIEW, S.INVALID, S.FAILED):
        raise Conflict(
            _("This import cannot be cancelled now (status: %(status)s).") % {"status": imp.get_status_display()}
        )
    imp.status = S.CANCELLED
    imp.message = _("Cancelled by %(user)s.") % {"user": actor.user}
    imp.save(update_fields=["status", "message"])
    _clear_staging(imp.pk)
    audit_record(actor, "roster.import.cancel", imp, summary=imp.original_name)
    return imp
