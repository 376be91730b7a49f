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
