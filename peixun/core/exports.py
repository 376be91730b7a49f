"""Excel exports with Chinese headers, written row by row so memory stays flat."""

from __future__ import annotations

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
        sheet.append(["" if value is None else value for value in row])
        count += 1
    workbook.save(target)
    return count


def xlsx_response(filename: str, headers: Sequence[str], rows: Iterable[Sequence], *, title: str = "Sheet1"):
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    write_xlsx(spool, headers, rows, title=title)
    spool.seek(0)
    name = f"{filename}-{stamp}.xlsx"
    response = FileResponse(spool, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


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


def export_or_job(request, name: str, params: dict):
    """Stream the export now if it is small; otherwise start a job and show its progress page."""
    from django.shortcuts import redirect

    from .audit import audit_record
    from .services import job_create
    from .tasks import run_export

    actor = request.actor
    export = EXPORTERS[name](actor, params)
    if export.total <= INLINE_EXPORT_LIMIT:
        audit_record(
            actor,
            "core.export",
            summary=f"{export.filename}: {export.total}",
            after={"exporter": name, "params": params},
        )
        return xlsx_response(export.filename, export.headers, export.rows, title=export.title)
    job = job_create(
        owner=actor.user,
        kind="export",
        title=f"{export.filename}（{export.total}）",
        params={"exporter": name, "params": params, "grant_id": actor.grant.pk},
        total=export.total,
    )
    run_export.enqueue(job_id=job.pk)
    return redirect("core:job_detail", pk=job.pk)
