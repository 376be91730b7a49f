"""Excel exports of the roster lists (scoped to the exporting actor; large ones run as jobs)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.masking import mask_national_id, mask_phone
from peixun.core.scopes import can

from . import selectors


def teacher_filters(params: dict) -> dict:
    return {
        "query": params.get("q", ""),
        "school_id": params.get("school") or None,
        "county_id": params.get("county") or None,
        "stage": params.get("stage", ""),
        "subject": params.get("subject", ""),
        "status": params.get("status", ""),
        "exempt": params.get("exempt", ""),
    }


@register_exporter("roster.teachers")
def teachers(actor, params: dict) -> Export:
    qs = selectors.teacher_list(actor=actor, **teacher_filters(params))
    full = can(actor, "roster.teacher.view_full_id")
    rows = (
        [
            t.national_id if full else mask_national_id(t.national_id),
            t.name,
            t.get_gender_display(),
            t.school.code,
            t.school.name,
            t.school.county.name,
            t.get_stage_display(),
            t.get_subject_display(),
            t.get_title_display(),
            t.get_status_display(),
            t.phone if full else mask_phone(t.phone),
        ]
        for t in qs.iterator(chunk_size=2000)
    )
    headers = [
        _("ID number"),
        _("Name"),
        _("Gender"),
        _("School code"),
        _("School name"),
        _("County"),
        _("Stage taught"),
        _("Subject taught"),
        _("Professional title"),
        _("Employment status"),
        _("Phone"),
    ]
    return Export(filename=_("teachers"), headers=headers, rows=rows, total=qs.count())


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@register_exporter("roster.imports")
def imports(actor, params: dict) -> Export:
    qs = selectors.import_list(actor=actor, query=params.get("q", ""), status=params.get("status", ""))

    def rows():
        for imp in qs.iterator(chunk_size=500):
            counts = imp.counts or {}
            applied = counts.get("applied", {})
            yield [
                _when(imp.created_at),
                imp.original_name,
                str(imp.scope_object or ""),
                str(imp.created_by),
                imp.get_status_display(),
                imp.total_rows,
                counts.get("new", ""),
                counts.get("changed", ""),
                counts.get("unchanged", ""),
                counts.get("missing", ""),
                counts.get("errors", ""),
                applied.get("left", ""),
                _when(imp.applied_at),
            ]

    headers = [
        _("Uploaded at"),
        _("File"),
        _("Scope"),
        _("Uploaded by"),
        _("Status"),
        _("Rows"),
        _("New"),
        _("Changed"),
        _("Unchanged"),
        _("Not in file"),
        _("Errors"),
        _("Marked as left"),
        _("Applied at"),
    ]
    return Export(filename=_("roster-imports"), headers=headers, rows=rows(), total=qs.count())
