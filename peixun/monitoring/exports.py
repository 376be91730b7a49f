"""Excel exports of the monitoring lists (scoped to the exporting actor, IDs masked)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from peixun.core.exports import Export, register_exporter
from peixun.core.masking import mask_national_id
from peixun.terms.models import Term

from . import selectors


def int_param(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() else None


def spot_check_filters(params) -> dict:
    return {
        "term_id": int_param(params.get("term")),
        "institution_id": int_param(params.get("institution")),
        "class_id": int_param(params.get("class")),
        "status": params.get("status", ""),
        "rating": params.get("rating", ""),
        "method": params.get("method", ""),
        "query": params.get("q", ""),
    }


def misconduct_filters(params) -> dict:
    return {
        "term_id": int_param(params.get("term")),
        "institution_id": int_param(params.get("institution")),
        "kind": params.get("kind", ""),
        "pending": params.get("pending") == "1",
        "query": params.get("q", ""),
    }


def scorecard_term(params) -> Term | None:
    """The term asked for, else the current one."""
    from peixun.terms.windows import current_term

    term_id = int_param(params.get("term"))
    if term_id:
        return Term.objects.filter(pk=term_id).first()
    return current_term()


def _dt(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _d(value) -> str:
    return value.isoformat() if value else ""


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@register_exporter("monitoring.spotchecks")
def spot_checks(actor, params: dict) -> Export:
    qs = selectors.spot_check_list(actor=actor, **spot_check_filters(params))
    today = timezone.localdate()
    rows = (
        [
            _d(s.checked_on),
            s.project_class.project.institution.name,
            s.project_class.project.code,
            s.project_class.project.name,
            s.project_class.number,
            f"{_d(s.project_class.starts_on)} ~ {_d(s.project_class.ends_on)}",
            s.get_method_display(),
            s.get_rating_display(),
            s.findings,
            _("Yes") if s.follow_up_required else _("No"),
            _d(s.follow_up_due),
            s.get_status_display() + (f"（{_('Overdue')}）" if s.is_overdue(today) else ""),
            s.response,
            _dt(s.responded_at),
            _dt(s.closed_at),
            s.close_note,
            str(s.recorded_by),
        ]
        for s in qs.iterator(chunk_size=2000)
    )
    headers = [
        _("Date checked"),
        _("Institution"),
        _("Project code"),
        _("Project"),
        _("Class number"),
        _("Class dates"),
        _("Method"),
        _("Rating"),
        _("Findings"),
        _("Follow-up required"),
        _("Follow-up due"),
        _("Status"),
        _("Institution's answer"),
        _("Answered at"),
        _("Closed at"),
        _("Closing note"),
        _("Recorded by"),
    ]
    return Export(filename=_("spot-checks"), headers=headers, rows=rows, total=qs.count())


@register_exporter("monitoring.misconduct")
def misconduct(actor, params: dict) -> Export:
    qs = selectors.misconduct_list(actor=actor, **misconduct_filters(params))
    rows = (
        [
            _dt(r.reported_at),
            r.project_class.project.institution.name,
            r.project_class.project.code,
            r.project_class.project.name,
            r.project_class.number,
            r.teacher.name,
            mask_national_id(r.teacher.national_id),
            r.school.name,
            r.school.county.name,
            r.get_kind_display(),
            f"{_d(r.starts_on)} ~ {_d(r.ends_on)}",
            r.description,
            _dt(r.school_ack_at),
            r.school_ack_note,
            _dt(r.county_ack_at),
            r.county_ack_note,
        ]
        for r in qs.iterator(chunk_size=2000)
    )
    headers = [
        _("Reported at"),
        _("Institution"),
        _("Project code"),
        _("Project"),
        _("Class number"),
        _("Trainee"),
        _("ID number"),
        _("School"),
        _("County"),
        _("Kind"),
        _("Dates"),
        _("Description"),
        _("Acknowledged by the school"),
        _("School's note"),
        _("Acknowledged by the county bureau"),
        _("County bureau's note"),
    ]
    return Export(filename=_("misconduct-reports"), headers=headers, rows=rows, total=qs.count())


SCORECARD_HEADERS = [
    ("code", gettext_lazy("Institution code")),
    ("name", gettext_lazy("Institution")),
    ("type", gettext_lazy("Institution type")),
    ("applied", gettext_lazy("Projects applied")),
    ("approved", gettext_lazy("Projects approved")),
    ("published", gettext_lazy("Projects published")),
    ("changes", gettext_lazy("Changes after publication")),
    ("classes", gettext_lazy("Classes")),
    ("late_schedules", gettext_lazy("Late schedules")),
    ("spot_checks", gettext_lazy("Spot checks")),
    ("average_rating", gettext_lazy("Average rating")),
    ("failed_checks", gettext_lazy("Rated Fail")),
    ("misconduct_reports", gettext_lazy("Misconduct reports filed")),
    ("lecturer_checks", gettext_lazy("Lecturers sampled")),
    ("lecturers_confirmed", gettext_lazy("Lecturers confirmed")),
    ("lecturers_not_confirmed", gettext_lazy("Lecturers not confirmed")),
    ("enrolment_rate", gettext_lazy("Enrolment rate")),
    ("pass_rate", gettext_lazy("Pass rate")),
]


def scorecard_row_values(row: selectors.ScorecardRow) -> list:
    inst = row.institution
    return [
        inst.code,
        inst.name,
        inst.get_type_display(),
        row.applied,
        row.approved,
        row.published,
        row.changes,
        row.classes,
        row.late_schedules,
        row.spot_checks,
        "—" if row.average_rating is None else round(row.average_rating, 2),
        row.failed_checks,
        row.misconduct_reports,
        row.lecturer_checks,
        row.lecturers_confirmed,
        row.lecturers_not_confirmed,
        percent(row.enrolment_rate),
        percent(row.pass_rate),
    ]


@register_exporter("monitoring.scorecard")
def scorecard(actor, params: dict) -> Export:
    term = scorecard_term(params)
    rows = (
        selectors.scorecard(
            actor=actor,
            term=term,
            institution_type=params.get("type", ""),
            query=params.get("q", ""),
            sort=params.get("sort", "name"),
        )
        if term
        else []
    )
    headers = [str(label) for _key, label in SCORECARD_HEADERS]
    name = _("institution-scorecard") + (f"-{term.code}" if term else "")
    return Export(
        filename=name,
        headers=headers,
        rows=(scorecard_row_values(r) for r in rows),
        total=len(rows),
        title=term.name if term else "Sheet1",
    )
