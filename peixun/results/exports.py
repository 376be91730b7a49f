"""Excel exports of results (scoped to the exporting actor, national IDs masked)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.masking import mask_national_id

from . import selectors


def int_param(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def _hours(value) -> str:
    return "" if value is None else str(value)


def _passed(value) -> str:
    return "" if value is None else (_("Passed") if value else _("Did not pass"))


@register_exporter("results.sheet")
def sheet(actor, params: dict) -> Export:
    """One class's results: every rostered trainee with 学时, pass/fail, remarks and credits posted."""
    record = selectors.sheet_get(actor=actor, sheet_id=int_param(params.get("sheet")) or 0)
    project_class = record.project_class
    project = project_class.project
    rows = list(selectors.sheet_results(record))
    headers = [
        _("Project code"),
        _("Project"),
        _("Class"),
        _("Name"),
        _("National ID"),
        _("School"),
        _("Offline hours attended"),
        _("Online hours attended"),
        _("Result"),
        _("Remarks"),
        _("Credits"),
        _("Status"),
    ]

    def values():
        for r in rows:
            yield [
                project.code,
                project.name,
                project_class.number,
                r.teacher.name,
                mask_national_id(r.teacher.national_id),
                r.teacher.school.name,
                _hours(r.hours_offline),
                _hours(r.hours_online),
                _passed(r.passed),
                r.remarks,
                str(r.credits) if record.status == record.Status.APPROVED else "",
                record.get_status_display(),
            ]

    return Export(
        filename=f"成绩-{project.code}-{project_class.number}",
        headers=headers,
        rows=values(),
        total=len(rows),
        title=_("Results"),
    )


@register_exporter("results.classes")
def classes(actor, params: dict) -> Export:
    """The list of classes with the state of their results."""
    qs = selectors.class_list(
        actor=actor,
        term_id=int_param(params.get("term")),
        institution_id=int_param(params.get("institution")),
        status=params.get("status", ""),
        query=params.get("q", ""),
        due=params.get("due") == "1",
    )
    headers = [
        _("Term"),
        _("Project code"),
        _("Project"),
        _("Institution"),
        _("Class"),
        _("Dates"),
        _("Trainees"),
        _("Passed"),
        _("Status"),
        _("Approved at"),
    ]

    def values():
        for c in qs.iterator(chunk_size=500):
            sheet_ = getattr(c, "result_sheet", None)
            yield [
                c.project.term.name,
                c.project.code,
                c.project.name,
                c.project.institution.name,
                c.number,
                f"{c.starts_on.isoformat()}—{c.ends_on.isoformat()}",
                c.trainees,
                c.passed,
                sheet_.get_status_display() if sheet_ else _("Not started"),
                timezone.localtime(sheet_.approved_at).strftime("%Y-%m-%d %H:%M")
                if sheet_ and sheet_.approved_at and sheet_.status == sheet_.Status.APPROVED
                else "",
            ]

    return Export(filename="培训成绩", headers=headers, rows=values(), total=qs.count(), title=_("Results"))
