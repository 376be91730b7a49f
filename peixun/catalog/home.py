"""Home-page panels of the catalog: what each role has to do about training projects now."""

from __future__ import annotations

from django.db.models import Count, Q

from peixun.core.roles import BUREAU_ROLES, Role
from peixun.core.scopes import visible
from peixun.terms.windows import current_term

from . import rules, selectors
from .models import ChangeRequest, Project

S = Project.Status


def institution_panel(actor) -> dict | None:
    if actor.role != Role.INSTITUTION or actor.institution is None:
        return None
    term = current_term()
    if term is None:
        return None
    counts = selectors.status_counts(actor=actor, term=term)
    return {
        "template": "catalog/_home_institution.html",
        "order": 20,
        "term": term,
        "quota": rules.quota_usage(term, [actor.institution])[0],
        "counts": [(label, counts.get(value, 0), value) for value, label in S.choices if counts.get(value)],
        "returned": counts.get(S.RETURNED, 0),
        "due": list(selectors.schedule_due(actor=actor, term=term, within_days=14)[:5]),
    }


def bureau_panel(actor) -> dict | None:
    if actor.role not in BUREAU_ROLES or actor.region is None:
        return None
    term = current_term()
    if term is None:
        return None
    mine = visible(actor, Project.objects.filter(term=term, region=actor.region)).aggregate(
        submitted=Count("id", filter=Q(status=S.SUBMITTED)),
        approved=Count("id", filter=Q(status=S.APPROVED)),
        published=Count("id", filter=Q(status__in=(S.PUBLISHED, S.RUNNING))),
    )
    pending = visible(
        actor, ChangeRequest.objects.filter(project__region=actor.region, status=ChangeRequest.Status.PENDING)
    ).count()
    late = selectors.late_schedules(actor=actor, term=term).count()
    return {
        "template": "catalog/_home_bureau.html",
        "order": 20,
        "term": term,
        "pending": pending,
        "late": late,
        **mine,
    }


def expert_panel(actor) -> dict | None:
    if actor.role != Role.EXPERT:
        return None
    term = current_term()
    queue = selectors.sampling_queue(actor=actor, term_id=term.pk if term else None)
    return {
        "template": "catalog/_home_expert.html",
        "order": 20,
        "under_review": queue.count(),
        "unsampled": queue.filter(drawn=0).count(),
    }


def catalog_panel(actor) -> dict | None:
    """Teachers and principals: how many published projects there are (and how many fit the teacher)."""
    if actor.role not in (Role.TEACHER, Role.SCHOOL):
        return None
    term = current_term()
    if term is None:
        return None
    total = selectors.catalog_list(actor=actor, term_id=term.pk).count()
    matching = None
    if actor.teacher_id:
        from peixun.roster.models import Teacher

        teacher = Teacher.objects.select_related("school__county").filter(pk=actor.teacher_id).first()
        if teacher is not None:
            matching = selectors.catalog_list(actor=actor, term_id=term.pk, teacher=teacher).count()
    return {"template": "catalog/_home_catalog.html", "order": 15, "term": term, "total": total, "matching": matching}


PANELS = (institution_panel, bureau_panel, expert_panel, catalog_panel)
