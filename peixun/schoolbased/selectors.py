from django.db.models import Count, Q, QuerySet

from peixun.core.scopes import Actor, get_visible, require, visible

from .models import ActivityRecord, Evidence, SchoolPlan


def plan_list(*, actor: Actor, status: str = "", school_year: int | None = None) -> QuerySet[SchoolPlan]:
    require(actor, "schoolbased.view")
    qs = visible(actor, SchoolPlan.objects.select_related("school", "school__county")).annotate(
        record_count=Count("records"), approved_count=Count("records", filter=Q(records__status="approved"))
    )
    if status:
        qs = qs.filter(status=status)
    if school_year:
        qs = qs.filter(school_year=school_year)
    return qs.order_by("-school_year", "school__code")


def plan_get(*, actor: Actor, plan_id: int) -> SchoolPlan:
    require(actor, "schoolbased.view")
    return get_visible(actor, SchoolPlan.objects.select_related("school", "school__county"), pk=plan_id)


def record_list(
    *, actor: Actor, plan: SchoolPlan | None = None, teacher_id: int | None = None
) -> QuerySet[ActivityRecord]:
    qs = visible(actor, ActivityRecord.objects.select_related("teacher", "plan")).annotate(
        evidence_count=Count("evidence")
    )
    if plan is not None:
        qs = qs.filter(plan=plan)
    if teacher_id:
        qs = qs.filter(teacher_id=teacher_id)
    return qs.order_by("-held_on", "-pk")


def record_get(*, actor: Actor, record_id: int) -> ActivityRecord:
    return get_visible(actor, ActivityRecord.objects.select_related("teacher", "plan", "plan__school"), pk=record_id)


def evidence_get(*, actor: Actor, evidence_id: int) -> Evidence:
    return get_visible(actor, Evidence.objects.select_related("record"), pk=evidence_id)
