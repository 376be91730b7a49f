"""Credit reads: the active policy, a teacher's standing, standings in a scope, priority scores."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.errors import NotFound
from peixun.core.scopes import Actor, get_visible, require, visible
from peixun.roster.models import Teacher
from peixun.roster.selectors import active_exemption_teacher_ids

from . import engine
from .models import CreditTotal, DegreeOffset, FloorProgramme, LedgerEntry, Policy, TeacherStanding
from .policy import Rules, preset_data

_RULES_CACHE: dict[tuple, Rules] = {}


def rules_for(policy: Policy | None) -> Rules:
    """Parsed rules of ``policy`` (cached per version and edit time); preset A when there is none."""
    if policy is None:
        key: tuple = ("preset", "A")
        if key not in _RULES_CACHE:
            _RULES_CACHE[key] = Rules.from_data(preset_data("A"))
        return _RULES_CACHE[key]
    key = (policy.pk, policy.version, policy.updated_at)
    rules = _RULES_CACHE.get(key)
    if rules is None:
        rules = Rules.from_data(policy.data, version=policy.version, policy_id=policy.pk)
        if len(_RULES_CACHE) > 64:
            _RULES_CACHE.clear()
        _RULES_CACHE[key] = rules
    return rules


def active_policy() -> Policy | None:
    return Policy.objects.filter(status=Policy.Status.ACTIVE).order_by("-version").first()


def active_rules() -> Rules:
    return rules_for(active_policy())


def cycle_totals_definition() -> tuple[int, int] | None:
    """(start year, length) of the cycles ``CycleTotal`` is complete for, or None while the activation
    job rebuilds it for a new cycle definition (reports then sum ``CreditTotal`` instead)."""
    policy = active_policy()
    if policy is not None and not policy.cycle_totals_ready:
        return None
    rules = rules_for(policy)
    return rules.start_year, rules.length


def policy_list(*, actor: Actor) -> QuerySet[Policy]:
    require(actor, "credits.policy.view")
    return visible(actor, Policy.objects.select_related("created_by", "activated_by")).order_by("-version")


def policy_get(*, actor: Actor, policy_id: int) -> Policy:
    require(actor, "credits.policy.view")
    return get_visible(actor, Policy.objects.all(), pk=policy_id)


def teacher_entries(teacher_id: int, rules: Rules, cycle: int) -> list[LedgerEntry]:
    start, end = rules.cycle_bounds(cycle)
    return list(
        LedgerEntry.objects.filter(teacher_id=teacher_id, earned_on__gte=start, earned_on__lte=end).order_by(
            "earned_on", "id"
        )
    )


def is_exempt(teacher_id: int, on: date | None = None) -> bool:
    return active_exemption_teacher_ids(on).filter(teacher_id=teacher_id).exists()


ENTRY_FIELDS = (
    "id",
    "category",
    "amount",
    "earned_on",
    "source_type",
    "source_id",
    "level",
    "reverses_id",
    "project_id",
    "note",
)


def teacher_standing(
    *,
    actor: Actor,
    teacher: Teacher,
    rules: Rules | None = None,
    cycle: int | None = None,
    as_of: date | None = None,
    upcoming: Iterable[tuple[date, Any]] = (),
) -> tuple[engine.Standing, list[engine.Entry]]:
    """One teacher's standing with explanations, and the ledger entries of the cycle behind it.

    One statement reads the scope check, the exemption and the stored standing row
    (``TeacherStanding``: the engine's summary, kept in step with the ledger); the engine
    then adds what depends on the date (``engine.finish``), explanations included. Without a current row (none yet,
    another policy, probation changed) the standing is computed from the cycle's ledger rows.
    ``upcoming`` is an optional iterable of (date, project) for confirmed classes not yet
    credited; the enrollment app supplies it (see ``upcoming_classes``).
    """
    require(actor, "credits.ledger.view")
    rules = rules or active_rules()
    as_of = as_of or timezone.localdate()
    cycle = rules.cycle_of(as_of) if cycle is None else cycle
    row = _standing_row(actor, teacher.pk, rules, cycle, as_of)
    if row is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    exempt, policy_id, version, stored_probation, data = row
    probation = in_probation_cycle(teacher, rules, cycle)
    if isinstance(data, str):
        data = json.loads(data)  # SQLite returns the JSON text
    current = (
        data is not None
        and data.get("v") == engine.Summary.VERSION
        and (policy_id, version) == (rules.policy_id, rules.version)
        and bool(stored_probation) == probation
    )
    if current:
        summary = engine.Summary.from_json(rules, data)
    else:
        entries = [engine.Entry(*values) for values in _entry_rows(teacher.pk, rules, cycle)]
        summary = engine.summarize(rules, entries, cycle=cycle, probation=probation)
    result = engine.finish(
        rules, summary, as_of=as_of, upcoming=engine.upcoming_from_projects(rules, upcoming), exempt=bool(exempt)
    )
    return result, summary.entries


def _entry_rows(teacher_id: int, rules: Rules, cycle: int):
    start, end = rules.cycle_bounds(cycle)
    return LedgerEntry.objects.filter(teacher_id=teacher_id, earned_on__gte=start, earned_on__lte=end).values_list(
        *ENTRY_FIELDS
    )


# Compiled SQL of the actor's teacher scope and of "exempt on a day": a pure function of the
# key, kept so that a teacher's page does not rebuild the same ORM queries on every read.
_SQL_CACHE: dict[tuple, tuple[str, tuple] | None] = {}


def _compiled(key: tuple, build) -> tuple[str, tuple] | None:
    if key not in _SQL_CACHE:
        if len(_SQL_CACHE) > 512:
            _SQL_CACHE.clear()
        qs = build()
        try:
            _SQL_CACHE[key] = None if qs is None else qs.query.sql_with_params()
        except EmptyResultSet:
            _SQL_CACHE[key] = ("SELECT NULL WHERE 1 = 0", ())
    return _SQL_CACHE[key]


def _scope_sql(actor: Actor) -> tuple[str, tuple] | None:
    """SQL of the ids of teachers the actor may see, or None when the actor sees every teacher."""
    key = (
        "scope",
        actor.role,
        actor.region.path if actor.region is not None else None,
        actor.school.pk if actor.school is not None else None,
        actor.institution.pk if actor.institution is not None else None,
        actor.teacher_id,
    )

    def build():
        qs = visible(actor, Teacher.objects.all())
        return qs.values("pk") if qs.query.where or qs.query.is_empty() else None

    return _compiled(key, build)


def _standing_row(actor: Actor, teacher_id: int, rules: Rules, cycle: int, as_of: date):
    """(exempt, policy id, policy version, probation, summary data) of the teacher's stored
    standing in ``cycle``; the last four None without a row; None outside the actor's scope.

    The usual case is one small statement on the stored row; without a row (or outside the
    scope) a second one tells the two apart.
    """
    exempt_sql, exempt_params = _compiled(("exempt", as_of), lambda: active_exemption_teacher_ids(as_of).order_by())
    scope = _scope_sql(actor)
    scope_sql, scope_params = scope or ("", ())
    exempt = f"EXISTS (SELECT 1 FROM ({exempt_sql}) x WHERE x.teacher_id = %s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {exempt}, s.policy_id, s.policy_version, s.probation, s.data"
            f" FROM {TeacherStanding._meta.db_table} s"
            " WHERE s.teacher_id = %s AND s.cycle_start = %s AND s.cycle_length = %s"
            + (f" AND s.teacher_id IN ({scope_sql})" if scope else ""),
            [*exempt_params, teacher_id, teacher_id, cycle, rules.length, *scope_params],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"SELECT {exempt}, NULL, NULL, NULL, NULL FROM {Teacher._meta.db_table} t WHERE t.id = %s"
                + (f" AND t.id IN ({scope_sql})" if scope else ""),
                [*exempt_params, teacher_id, teacher_id, *scope_params],
            )
            row = cursor.fetchone()
    return row


def in_probation_cycle(teacher: Teacher, rules: Rules, cycle: int) -> bool:
    """Does the new-teacher probation requirement apply to this teacher in this cycle?"""
    return probation_applies(teacher.probation_end, rules, cycle)


def probation_applies(probation_end: date | None, rules: Rules, cycle: int) -> bool:
    start, _end = rules.cycle_bounds(cycle)
    return bool(probation_end and probation_end >= start)


def upcoming_classes(teacher: Teacher) -> list[tuple[date, Any]]:
    """Confirmed upcoming classes as (start date, project): the teacher's confirmed enrollments (复核 done)
    in classes that have not finished yet, of projects that were not deleted, earliest first."""
    from peixun.enrollment.models import Enrollment

    rows = (
        Enrollment.objects.roster()
        .filter(teacher=teacher, project_class__ends_on__gte=timezone.localdate())
        .exclude(project_class__project__status__in=("deleted", "withdrawn"))
        .select_related("project_class__project")
        .order_by("project_class__starts_on", "pk")
    )
    return [(e.project_class.starts_on, e.project_class.project) for e in rows]


def _entries_from_totals(rows) -> dict[int, list[engine.Entry]]:
    """CreditTotal rows as one pseudo-entry per row (the engine's sums only need this grain)."""
    by_teacher: dict[int, list[engine.Entry]] = defaultdict(list)
    for i, (teacher_id, school_year, category, level, source_type, amount) in enumerate(rows, start=1):
        by_teacher[teacher_id].append(
            engine.Entry(
                id=i,
                category=category,
                level=level,
                amount=Decimal(amount),
                earned_on=date(school_year, 9, 1),
                source_type=source_type,
            )
        )
    return by_teacher


def standings_for(
    teacher_ids: Iterable[int], *, rules: Rules | None = None, cycle: int | None = None, as_of: date | None = None
) -> dict[int, engine.Standing]:
    """Standings (without explanations) of many teachers, from the per-teacher totals.

    Any cycle definition works: totals are kept per school year, so a draft policy with a
    different cycle is computed from the same rows (what-if).
    """
    rules = rules or active_rules()
    as_of = as_of or timezone.localdate()
    cycle = rules.cycle_of(as_of) if cycle is None else cycle
    ids = list(teacher_ids)
    years = rules.cycle_years(cycle)
    by_teacher: dict[int, list[engine.Entry]] = defaultdict(list)
    exempt = set(active_exemption_teacher_ids(as_of).filter(teacher_id__in=ids).values_list("teacher_id", flat=True))
    chunk = 2000
    for i in range(0, len(ids), chunk):
        part = ids[i : i + chunk]
        rows = (
            CreditTotal.objects.filter(teacher_id__in=part, school_year__gte=years[0], school_year__lte=years[-1])
            .exclude(amount=0)
            .values_list("teacher_id", "school_year", "category", "level", "source_type", "amount")
        )
        for tid, entries in _entries_from_totals(rows).items():
            by_teacher[tid].extend(entries)
    return {
        tid: engine.standing(
            rules, by_teacher.get(tid, []), cycle=cycle, as_of=as_of, exempt=tid in exempt, explain=False
        )
        for tid in ids
    }


def standing_teachers(*, actor: Actor, school_id: int | None = None, county_id: int | None = None) -> QuerySet[Teacher]:
    """Teachers in post whose standings the actor may list."""
    require(actor, "credits.standing.view")
    qs = visible(actor, Teacher.objects.filter(status=Teacher.Status.ACTIVE)).select_related("school", "school__county")
    if school_id:
        qs = qs.filter(school_id=school_id)
    if county_id:
        qs = qs.filter(school__county_id=county_id)
    return qs.order_by("school__code", "name", "pk")


def allocation_priority(teacher_ids: Iterable[int], term=None) -> dict[int, Decimal]:
    """Fair-selection priority: each teacher's credits still missing in the current cycle (larger first).

    Exempt teachers get 0 (the requirement does not apply to them).
    """
    standings = standings_for(teacher_ids)
    return {tid: (Decimal("0") if s.exempt else s.shortfall) for tid, s in standings.items()}


def degree_offset_list(*, actor: Actor, status: str = "") -> QuerySet[DegreeOffset]:
    require(actor, "credits.degree.view")
    qs = visible(actor, DegreeOffset.objects.select_related("teacher", "teacher__school", "reviewed_by"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")


def degree_offset_get(*, actor: Actor, offset_id: int) -> DegreeOffset:
    require(actor, "credits.degree.view")
    return get_visible(actor, DegreeOffset.objects.select_related("teacher", "teacher__school"), pk=offset_id)


def floor_list(*, actor: Actor) -> QuerySet[FloorProgramme]:
    require(actor, "credits.floor.view")
    return visible(actor, FloorProgramme.objects.select_related("county", "county__parent")).order_by("-created_at")


def floor_get(*, actor: Actor, programme_id: int) -> FloorProgramme:
    require(actor, "credits.floor.view")
    return get_visible(actor, FloorProgramme.objects.select_related("county", "county__parent"), pk=programme_id)


def ledger_list(*, actor: Actor, teacher_id: int | None = None) -> QuerySet[LedgerEntry]:
    require(actor, "credits.ledger.view")
    qs = visible(actor, LedgerEntry.objects.select_related("teacher", "project", "actor"))
    if teacher_id:
        qs = qs.filter(teacher_id=teacher_id)
    return qs.order_by("-created_at", "-pk")


def source_used(teacher_id: int, rules: Rules, source_type: str, cycle: int, school_year: int | None = None) -> Decimal:
    """Net credits already posted from one source type in a cycle (or one of its school years)."""
    start, end = rules.cycle_bounds(cycle)
    qs = CreditTotal.objects.filter(
        teacher_id=teacher_id,
        source_type=source_type,
        school_year__gte=start.year,
        school_year__lt=end.year,
    )
    if school_year is not None:
        qs = qs.filter(school_year=school_year)
    return sum((row for row in qs.values_list("amount", flat=True)), Decimal("0"))


def whatif_job(*, actor: Actor, policy: Policy):
    """The actor's latest what-if job for ``policy`` (running or done), or None."""
    from peixun.core.models import Job

    from .tasks import WHATIF_JOB

    require(actor, "credits.policy.manage")
    return Job.objects.filter(owner=actor.user, kind=WHATIF_JOB, params__policy_id=policy.pk).order_by("-pk").first()


def activation_job(*, actor: Actor, policy: Policy):
    """The latest job recomputing the derived rows after ``policy`` was activated, whoever started
    it (every officer who may manage policies watches it: ``core.scopes.visible_jobs``), or None."""
    from peixun.core.models import Job
    from peixun.core.scopes import visible_jobs

    from .tasks import STANDINGS_JOB

    require(actor, "credits.policy.manage")
    jobs = Job.objects.filter(kind=STANDINGS_JOB, subject_type=policy._meta.label_lower, subject_id=policy.pk)
    return visible_jobs(actor, jobs).order_by("-pk").first()


def whatif_outdated(job, policy: Policy) -> bool:
    """Was the draft edited, or another policy activated, since the comparison was started?"""
    active = active_policy()
    return job.params.get("policy_updated") != policy.updated_at.isoformat() or job.params.get("active_id") != (
        active.pk if active is not None else None
    )
