"""Excel exports of course selection: a class roster, the school's selections and an allocation run's
outcomes (IDs and phones masked)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.masking import mask_national_id, mask_phone
from peixun.core.scopes import require

from . import selectors
from . import selectors_allocation as sel_allocation
from .models import AllocationResult, Enrollment


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


def allocation_headers() -> list[str]:
    return [
        _("Name"),
        _("ID number"),
        _("School"),
        _("County"),
        _("Choice"),
        _("Project"),
        _("Class"),
        _("Institution"),
        _("Class dates"),
        _("Priority score"),
        _("Lottery number"),
        _("Place in the priority order"),
        _("Draft round"),
        _("Outcome"),
        _("Reason"),
        _("Cutoff score"),
        _("Cutoff lottery number"),
        _("Seats the school held"),
        _("Seats one school may hold"),
        _("Classes the teacher got"),
    ]


def allocation_row(r, outcome_labels: dict[str, str]) -> list:
    """One preference's outcome: the page's columns (teacher, school, choice, class, score, lottery,
    outcome, reason) and the facts behind the reason. Nothing in it names the run, so the same
    inputs and seed export the same rows."""
    pc = r.project_class
    return [
        r.teacher.name,
        mask_national_id(r.teacher.national_id),
        r.school.name,
        r.school.county.name,
        r.rank,
        pc.project.name,
        pc.number,
        pc.project.institution.name,
        f"{pc.starts_on:%Y-%m-%d} ~ {pc.ends_on:%Y-%m-%d}",
        r.score,
        r.lottery,
        r.position + 1,
        r.draft_round or None,
        outcome_labels.get(r.outcome, r.outcome),
        r.reason,
        r.cutoff_score,
        r.cutoff_lottery,
        r.school_count,
        r.school_limit,
        r.teacher_got,
    ]


@register_exporter("enrollment.allocation")
def allocation_export(actor, params) -> Export:
    """A run's outcomes in the actor's scope (a county: its schools' teachers; a school: its own),
    filtered like the run's page (``outcome``, ``school``, ``q``)."""
    require(actor, "enrollment.allocation.export")
    run = sel_allocation.run_get(actor=actor, run_id=int_param(params.get("run")) or 0)
    qs = sel_allocation.result_lines(actor=actor, run=run, **sel_allocation.result_filters(params))
    labels = {value: str(label) for value, label in AllocationResult.Outcome.choices}  # translated once
    return Export(
        filename=_("allocation-outcomes") + f"-{run.term.name}-{run.pk}",
        headers=allocation_headers(),
        rows=(allocation_row(r, labels) for r in qs.iterator(chunk_size=2000)),
        total=qs.count(),
        title=_("Allocation outcomes"),
    )
