"""Excel (xlsx) and CSV exports with Chinese headers, written row by row so memory stays flat.

Every list export takes ``?format=csv`` besides the default xlsx (``export_or_job``)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from django.http import FileResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_xlsx(target, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1") -> int:
    """Write ``rows`` to ``target`` (a path or binary file) and return the row count."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=str(header))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    count = 0
    for row in rows:
        sheet.append(xlsx_row(sheet, row))
        count += 1
    workbook.save(target)
    return count


def xlsx_row(sheet, values: Iterable) -> list:
    """``values`` ready for ``sheet.append``: None as an empty cell, and text that begins with "=" kept as
    text — openpyxl stores such a string as a formula, which the spreadsheet would run when the file is
    opened (formula injection through a name or a remark someone typed)."""
    return ["" if value is None else _text_cell(sheet, value) if _formula_like(value) else value for value in values]


def _formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _text_cell(sheet, value: str):
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


CSV_TYPE = "text/csv; charset=utf-8"
FORMATS = {"xlsx": XLSX_TYPE, "csv": CSV_TYPE}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_format(value) -> str:
    """``xlsx`` (the default) or ``csv``."""
    return value if value in FORMATS else "xlsx"


def _csv_value(value):
    if value is None:
        return ""
    # A text cell a spreadsheet would run as a formula is written as text (numbers and "-" stay as they are).
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and value != "-":
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def write_csv(target, headers: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write ``rows`` as CSV to the binary file ``target`` and return the row count. UTF-8 with a
    byte-order mark, so Excel and WPS read the Chinese text correctly."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text)
        writer.writerow([str(header) for header in headers])
        count = 0
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
        text.flush()
    finally:
        text.detach()  # leave ``target`` open for the caller
    return count


def write_export(target, headers: Sequence[str], rows: Iterable[Sequence], *, fmt: str, title: str = "Sheet1") -> int:
    if fmt == "csv":
        return write_csv(target, headers, rows)
    return write_xlsx(target, headers, rows, title=title)


def file_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1", fmt: str = "xlsx"
):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_export(spool, headers, rows, fmt=fmt, title=title)
    spool.seek(0)
    name = f"{filename}-{stamp}.{fmt}"
    response = FileResponse(spool, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1"):
    return file_response(filename, headers, rows, title=title)


# --- large exports as background jobs -------------------------------------------------------
#
# A list view describes its export once, as an exporter: a function (actor, params) ->
# Export. Small exports stream straight back; large ones run as a background job that
# writes the file, shows progress and offers a download link when done.

from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@dataclass
class Export:
    filename: str
    headers: Sequence[str]
    rows: Iterable[Sequence]
    total: int
    title: str = "Sheet1"


Exporter = Callable[..., Export]
EXPORTERS: dict[str, Exporter] = {}
INLINE_EXPORT_LIMIT = 5000


def register_exporter(name: str) -> Callable[[Exporter], Exporter]:
    def decorator(fn: Exporter) -> Exporter:
        EXPORTERS[name] = fn
        return fn

    return decorator


def export_job(actor, name: str, params: dict, *, fmt: str = "xlsx", export: Export | None = None):
    """Start the export ``name`` as a background job (the worker writes the file; the job page and
    ``/api/core/jobs/{id}`` show its progress). The exporter runs now first: a filter outside the
    actor's scope fails here, not in the worker."""
    from django.db import transaction

    from .services import job_create
    from .tasks import run_export

    export = export or EXPORTERS[name](actor, params)
    job = job_create(
        owner=actor.user,
        kind="export",
        title=f"{export.filename}（{export.total}）",
        params={"exporter": name, "params": params, "grant_id": actor.grant.pk, "format": export_format(fmt)},
        total=export.total,
    )
    transaction.on_commit(lambda: run_export.enqueue(job_id=job.pk))
    return job


def export_or_job(request, name: str, params: dict, *, fmt: str | None = None):
    """Stream the export now if it is small; otherwise start a job and show its progress page.
    ``fmt``: xlsx or csv (default: the request's ``format`` parameter, else xlsx)."""
    from django.shortcuts import redirect

    from .audit import audit_record

    actor = request.actor
    fmt = export_format(fmt or request.GET.get("format", ""))
    export = EXPORTERS[name](actor, params)
    if export.total <= INLINE_EXPORT_LIMIT:
        audit_record(
            actor,
            "core.export",
            summary=f"{export.filename}: {export.total}",
            after={"exporter": name, "params": params, "format": fmt},
        )
        return file_response(export.filename, export.headers, export.rows, title=export.title, fmt=fmt)
    job = export_job(actor, name, params, fmt=fmt, export=export)
    return redirect("core:job_detail", pk=job.pk)
