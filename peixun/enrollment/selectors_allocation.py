"""Reads of the fair allocation mode, scoped to the actor: preferences, runs, outcomes and reasons."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import Project, ProjectClass
from peixun.core.errors import NotFound
from peixun.core.scopes import Actor, get_visible, require, visible
from peixun.roster.models import Teacher
from peixun.terms.models import Term

from .models import AllocationResult, AllocationRun, Preference, PreferenceList

Out = AllocationResult.Outcome


def _num(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value:f}".rstrip("0")


def reason_text(r: AllocationResult) -> str:
    """Why this preference got its outcome, in words (shown to teachers, schools and bureaus)."""
    if r.outcome == Out.ALLOCATED:
        return _("Got choice no. %(rank)s.") % {"rank": r.rank}
    if r.outcome == Out.FULL:
        if r.cutoff_score is None:
            return _("Class full: no seats were left for the allocation.")
        facts = {"score": _num(r.score), "cutoff": _num(r.cutoff_score)}
        if r.score < r.cutoff_score:
            return _("Class full: priority score %(score)s is below the cutoff %(cutoff)s.") % facts
        if r.score == r.cutoff_score and r.draft_round <= 1:
            return _(
                "Class full: priority score %(score)s equals the cutoff; your lottery number %(lottery)s "
                "came after the cutoff's %(cutoff_lottery)s."
            ) % {**facts, "lottery": r.lottery, "cutoff_lottery": r.cutoff_lottery}
        return (
            _(
                "Class full: its seats went in an earlier draft round, before your turn for another class "
                "(priority score %(score)s, cutoff %(cutoff)s)."
            )
            % facts
        )
    if r.outcome == Out.SCHOOL_CAP:
        return _(
            "School share cap reached: your school already had %(count)s of the %(limit)s seats one school may hold."
        ) % {"count": r.school_count, "limit": r.school_limit}
    if r.outcome == Out.OVERLAP:
        return _("Its dates overlap another class of yours.")
    if r.outcome == Out.NOT_NEEDED:
        return _("Not needed: you already got the number of classes you asked for.")
    return _("The class was no longer open for selection.")


def fair_terms() -> QuerySet[Term]:
    return Term.objects.filter(selection_mode=Term.SelectionMode.FAIR).prefetch_related("windows").order_by("-code")


def my_preferences(*, actor: Actor, term: Term) -> tuple[PreferenceList | None, list[Preference]]:
    """The acting teacher's list for ``term`` and its preferences in rank order (one query each)."""
    require(actor, "enrollment.preference.edit")
    plist = visible(actor, PreferenceList.objects.filter(term=term, teacher_id=actor.teacher_id)).first()
    if plist is None:
        return None, []
    prefs = list(plist.preferences.select_related("project_class__project__institution").order_by("rank", "id"))
    return plist, prefs


def preference_lists(*, actor: Actor, term: Term) -> QuerySet[PreferenceList]:
    """Submitted preference lists in the actor's scope (schools and bureaus watch the round)."""
    require(actor, "enrollment.allocation.view")
    return (
        visible(actor, PreferenceList.objects.filter(term=term))
        .select_related("teacher", "teacher__school")
        .annotate(n=Count("preferences"))
        .filter(n__gt=0)
        .order_by("teacher__school__code", "teacher__name", "pk")
    )


def run_list(*, actor: Actor, term: Term | None = None) -> QuerySet[AllocationRun]:
    require(actor, "enrollment.allocation.view")
    qs = visible(actor, AllocationRun.objects.select_related("term", "started_by", "job"))
    if term is not None:
        qs = qs.filter(term=term)
    return qs.order_by("-created_at", "-pk")


def run_get(*, actor: Actor, run_id: int) -> AllocationRun:
    require(actor, "enrollment.allocation.view")
    return get_visible(actor, AllocationRun.objects.select_related("term", "started_by", "job"), pk=run_id)


def latest_run(term: Term) -> AllocationRun | None:
    return (
        AllocationRun.objects.filter(term=term, round=1)
        .exclude(status=AllocationRun.Status.FAILED)
        .order_by("-created_at")
        .first()
    )


def results(
    *, actor: Actor, run: AllocationRun, outcome: str = "", school_id: int | None = None, q: str = ""
) -> QuerySet[AllocationResult]:
    """The run's outcomes the actor may see (teachers: their own; schools: their teachers'; ...)."""
    require(actor, "enrollment.allocation.view")
    qs = visible(actor, AllocationResult.objects.filter(run=run)).select_related(
        "teacher", "school", "project_class__project"
    )
    if outcome:
        qs = qs.filter(outcome=outcome)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if q:
        qs = qs.filter(Q(teacher__name__contains=q) | Q(project_class__project__name__contains=q))
    return qs.order_by("position", "rank", "pk")


def result_filters(params) -> dict:
    """The outcome list's filters from a query (``?outcome=&school=&q=``): the run's page and its
    export read them alike, so the export holds the rows the page lists."""
    outcome = str(params.get("outcome") or "")
    school = str(params.get("school") or "").strip()
    return {
        "outcome": outcome if outcome in Out.values else "",
        "school_id": int(school) if school.isdigit() and len(school) < 12 else None,
        "q": str(params.get("q") or "").strip()[:50],
    }


def result_lines(*, actor: Actor, run: AllocationRun, **filters) -> QuerySet[AllocationResult]:
    """``results`` with what the export adds: county, institution and how many classes the teacher got."""
    got = (
        AllocationResult.objects.filter(run=OuterRef("run"), teacher=OuterRef("teacher"), outcome=Out.ALLOCATED)
        .order_by()
        .values("teacher")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        results(actor=actor, run=run, **filters)
        .select_related("school__county", "project_class__project__institution")
        .only(  # the columns the export writes (a province-wide run has a million rows)
            *(f.name for f in AllocationResult._meta.concrete_fields),
            "teacher__name",
            "teacher__national_id",
            "school__name",
            "school__county__name",
            "project_class__number",
            "project_class__starts_on",
            "project_class__ends_on",
            "project_class__project__name",
            "project_class__project__institution__name",
        )
        .annotate(teacher_got=Coalesce(Subquery(got), 0))
    )


def my_results(*, actor: Actor, run: AllocationRun) -> list[AllocationResult]:
    return list(results(actor=actor, run=run).filter(teacher_id=actor.teacher_id))


@dataclass
class ClassSummary:
    project_class: ProjectClass
    preferred: int
    allocated: int
    first_choice: int
    cutoff_score: Decimal | None
    capped: int


def class_summaries(*, actor: Actor, run: AllocationRun) -> list[ClassSummary]:
    """Per class of the run (in the actor's scope): demand, seats given and the cutoff score."""
    qs = results(actor=actor, run=run)
    rows = (
        qs.order_by()
        .values("project_class_id")
        .annotate(
            preferred=Count("id"),
            allocated=Count("id", filter=Q(outcome=Out.ALLOCATED)),
            first_choice=Count("id", filter=Q(outcome=Out.ALLOCATED, rank=1)),
            cutoff=Min("score", filter=Q(outcome=Out.ALLOCATED)),
            capped=Count("id", filter=Q(outcome=Out.SCHOOL_CAP)),
            full=Count("id", filter=Q(outcome=Out.FULL)),
        )
    )
    rows = list(rows)
    classes = ProjectClass.objects.select_related("project", "project__institution").in_bulk(
        [r["project_class_id"] for r in rows]
    )
    out = [
        ClassSummary(
            project_class=classes[r["project_class_id"]],
            preferred=r["preferred"],
            allocated=r["allocated"],
            first_choice=r["first_choice"],
            cutoff_score=r["cutoff"] if r["full"] else None,
            capped=r["capped"],
        )
        for r in rows
    ]
    return sorted(out, key=lambda s: (-s.preferred, s.project_class.pk))


def teacher_of(actor: Actor) -> Teacher:
    teacher = Teacher.objects.select_related("school__county").filter(pk=actor.teacher_id).first()
    if teacher is None:
        raise NotFound(_("Your account is not linked to a teacher record."))
    return teacher


def candidate_classes(
    *, actor: Actor, term: Term, teacher: Teacher, q: str = "", exclude: list[int] | None = None
) -> QuerySet[ProjectClass]:
    """Classes of the term the teacher may rank: published, matching them, not started (eligibility is
    checked again when one is added)."""
    from peixun.catalog.selectors import teacher_match_q

    qs = visible(
        actor,
        ProjectClass.objects.filter(
            project__term=term,
            project__status=Project.Status.PUBLISHED,
            project__in=Project.objects.filter(teacher_match_q(teacher)),
            starts_on__gt=timezone.localdate(),
        ),
    ).select_related("project", "project__institution")
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    if q:
        qs = qs.filter(
            Q(project__name__contains=q) | Q(project__institution__name__contains=q) | Q(project__code__contains=q)
        )
    return qs.order_by("starts_on", "project__code", "number", "pk")


def submission_counts(*, actor: Actor, term: Term) -> dict:
    """How many teachers in the actor's scope have ranked classes, and how many preferences in all."""
    require(actor, "enrollment.allocation.view")
    lists = visible(actor, PreferenceList.objects.filter(term=term, preferences__isnull=False)).distinct()
    prefs = visible(actor, Preference.objects.filter(preference_list__term=term))
    return {"teachers": lists.count(), "preferences": prefs.count()}
