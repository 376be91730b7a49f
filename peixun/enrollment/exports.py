"""Excel exports of course selection: a class roster and the school's selections (IDs and phones masked)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.masking import mask_national_id, mask_phone

from . import selectors
from .models import Enrollment


def int_param(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 18 else None


def _dt(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def roster_headers() -> list[str]:
    return [
        _("No."),
        _("Name"),
        _("ID number"),
        _("Gender"),
        _("School"),
        _("County"),
        _("Stage"),
        _("Subject"),
        _("Phone"),
        _("Round"),
        _("Confirmed at"),
    ]


def roster_row(n: int, e: Enrollment) -> list:
    t = e.teacher
    return [
        n,
        t.name,
        mask_national_id(t.national_id),
        t.get_gender_display(),
        t.school.name,
        t.school.county.name,
        t.get_stage_display(),
        t.get_subject_display(),
        mask_phone(t.phone),
        e.round,
        _dt(e.decided_at),
    ]


@register_exporter("enrollment.roster")
def roster_export(actor, params) -> Export:
    project_class = selectors.class_get(actor=actor, class_id=int_param(params.get("class")) or 0)
    qs = selectors.roster(actor=actor, project_class=project_class)
    return Export(
        filename=f"{project_class.project.name}-第{project_class.number}期-名单",
        headers=roster_headers(),
        rows=(roster_row(n, e) for n, e in enumerate(qs.iterator(), start=1)),
        total=qs.count(),
        title=_("Class roster"),
    )


@register_exporter("enrollment.review")
def review_export(actor, params) -> Export:
    qs = selectors.review_list(
        actor=actor,
        term=selectors.term_for(int_param(params.get("term"))),
        state=params.get("state", ""),
        round=int_param(params.get("round")),
        query=params.get("q", ""),
    )
    headers = [
        _("Name"),
        _("ID number"),
        _("Project"),
        _("Class"),
        _("Institution"),
        _("Class dates"),
        _("Round"),
        _("State"),
        _("Reason"),
        _("Selected at"),
    ]

    def rows():
        for e in qs.iterator():
            pc = e.project_class
            yield [
                e.teacher.name,
                mask_national_id(e.teacher.national_id),
                pc.project.name,
                pc.number,
                pc.project.institution.name,
                f"{pc.starts_on:%Y-%m-%d} ~ {pc.ends_on:%Y-%m-%d}",
                e.round,
                e.get_state_display(),
                e.reason,
                _dt(e.created_at),
            ]

    return Export(filename=_("Selections"), headers=headers, rows=rows(), total=qs.count(), title=_("Selections"))
