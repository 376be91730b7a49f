"""Credit writes: posting to and reversing on the ledger, adjustments, policies, degree offsets, floor training.

Other apps post credits through ``ledger_post`` and take them back through
``ledger_reverse_source``; both are idempotent, so a double click or a retried approval
never posts twice and a second reversal reverses nothing.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record, snapshot
from peixun.core.errors import Conflict, InvalidInput
from peixun.core.models import Job
from peixun.core.scopes import Actor, require
from peixun.core.services import job_create
from peixun.orgs.models import Region
from peixun.roster.models import Teacher

from . import engine, selectors
from .models import (
    Adjustment,
    CreditTotal,
    CycleTotal,
    DegreeOffset,
    FloorParticipant,
    FloorProgramme,
    LedgerEntry,
    Policy,
    ReviewStatus,
    SourceType,
    TeacherStanding,
)
from .policy import PRESETS, Rules, preset_data

# --- ledger ---------------------------------------------------------------------------------


def _bump_total(entry: LedgerEntry, rules: Rules) -> None:
    """Keep the summaries and the teacher's stored standing in step with the ledger, in the posting's transaction.
    The caller has locked the teacher and checked ``rules`` with ``rules_after_lock``.

    The teacher row is locked first (FOR NO KEY UPDATE: ledger inserts still reference it), before
    any summary row: the rebuilds lock their teachers the same way before they replace those rows,
    so a posting and a rebuild take turns instead of deadlocking. The rebuilds lock teachers in id
    order, so a transaction that posts for several teachers does so in id order too.
    """
    _bump(
        CycleTotal,
        {
            "teacher_id": entry.teacher_id,
            "cycle_start": rules.cycle_of(entry.earned_on),
            "cycle_length": rules.length,
            "category": entry.category,
            "source_type": entry.source_type,
        },
        entry.amount,
    )
    key = {
        "teacher_id": entry.teacher_id,
        "cycle": entry.cycle,
        "school_year": entry.school_year,
        "category": entry.category,
        "level": entry.level,
        "source_type": entry.source_type,
    }
    _bump(CreditTotal, key, entry.amount)
    standing_refresh(entry.teacher_id, rules, rules.cycle_of(entry.earned_on))


def rules_after_lock(teacher_id: int, rules: Rules) -> Rules:
    """Lock the teacher row, then return the active policy's rules (``rules`` when still active).

    A posting's caller may have read the rules before a new policy was activated. Read after the
    lock, the policy is right: the activation job rebuilds a teacher's summaries under the same lock,
    so either it runs after this posting commits (and counts it from the ledger) or it ran before,
    and then this posting must add to the new policy's cycles, not to the old ones the job deletes.
    """
    _lock_teacher(teacher_id)
    active = selectors.active_policy()
    if active is not None and active.pk != rules.policy_id:
        return selectors.rules_for(active)
    return rules


def _lock_teacher(teacher_id: int):
    """Lock one teacher row (FOR NO KEY UPDATE) and return its end of probation."""
    return (
        Teacher.objects.select_for_update(no_key=True)
        .filter(pk=teacher_id)
        .values_list("probation_end", flat=True)
        .get()
    )


def standing_refresh(teacher_id: int, rules: Rules, cycle: int) -> TeacherStanding:
    """Recompute one teacher's stored standing in ``cycle`` from the ledger with the engine.

    The teacher row is locked first, so concurrent postings for one teacher recompute in turn
    and the later one reads the earlier one's entries.
    """
    probation_end = _lock_teacher(teacher_id)
    probation = selectors.probation_applies(probation_end, rules, cycle)
    entries = [engine.Entry(*values) for values in selectors._entry_rows(teacher_id, rules, cycle)]
    summary = engine.summarize(rules, entries, cycle=cycle, probation=probation)
    row, _created = TeacherStanding.objects.update_or_create(
        teacher_id=teacher_id,
        cycle_start=cycle,
        cycle_length=rules.length,
        defaults={
            "policy_id": rules.policy_id,
            "policy_version": rules.version,
            "probation": probation,
            "data": summary.to_json(),
        },
    )
    return row


def standings_rebuild(
    rules: Rules,
    *,
    teacher_ids: Iterable[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
    stop_if_superseded: bool = False,
) -> int:
    """Recompute the stored standings of every teacher (or of ``teacher_ids``) from the ledger
    under ``rules``: the engine per teacher and cycle, a few thousand teachers at a time; rows
    go in with COPY on PostgreSQL. Returns the number of rows.

    Each chunk is its own transaction (rows name the policy they were computed under, so a page
    meanwhile uses the new rows and computes the others from the ledger) and locks its teachers
    the way a posting locks its teacher, so a posting meanwhile is not lost. ``progress(done,
    total)`` is called after each chunk (the activation job shows it). With ``stop_if_superseded``
    (the activation job) each chunk first checks, under its locks, that ``rules``' policy is still
    the active one and raises ``PolicySuperseded`` if not: the newer policy's job redoes every row,
    and this one must not overwrite rows that job has already stored.
    """
    whole = teacher_ids is None
    ids = list(Teacher.objects.order_by("pk").values_list("pk", flat=True)) if whole else sorted(set(teacher_ids))
    count = 0
    for i in range(0, len(ids), STANDINGS_CHUNK):
        part = ids[i : i + STANDINGS_CHUNK]
        # A chunk of all teachers is an id range (index range scans); otherwise a list.
        match = {"pk__gte": part[0], "pk__lte": part[-1]} if whole else {"pk__in": part}
        of_teachers = {"teacher_id__gte": part[0], "teacher_id__lte": part[-1]} if whole else {"teacher_id__in": part}
        with transaction.atomic():
            list(Teacher.objects.select_for_update(no_key=True).filter(**match).order_by("pk").values_list("pk"))
            if stop_if_superseded:
                _require_still_active(rules)
            stale = TeacherStanding.objects.filter(**of_teachers)
            stale._raw_delete(stale.db)  # derived rows only; nothing refers to them
            rows = _standing_rows(rules, LedgerEntry.objects.filter(**of_teachers))
            if connection.vendor == "postgresql":
                columns = "teacher_id, cycle_start, cycle_length, policy_id, policy_version, probation, data"
                table = TeacherStanding._meta.db_table
                with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(
                            (r.teacher_id, r.cycle_start, r.cycle_length, r.policy_id, r.policy_version, r.probation)
                            + (_dumps(r.data),)
                        )
            else:
                TeacherStanding.objects.bulk_create(rows, batch_size=2000)
        count += len(rows)
        if progress is not None:
            progress(min(i + STANDINGS_CHUNK, len(ids)), len(ids))
    if whole and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {TeacherStanding._meta.db_table}")
    return count


STANDINGS_CHUNK = 5000


def standings_refresh_teachers(teacher_ids: Iterable[int]) -> int:
    """Re-store these teachers' standings under the active policy after a roster change that alters
    them (the end of probation), in the caller's transaction; set-wise for many teachers."""
    return standings_rebuild(selectors.active_rules(), teacher_ids=teacher_ids)


def _standing_rows(rules: Rules, ledger) -> list[TeacherStanding]:
    """The stored standings of the teachers of these ledger rows, every cycle they have entries in."""
    by_key: dict[tuple[int, int], list[engine.Entry]] = defaultdict(list)
    probation_ends = {}
    for teacher_id, probation_end, *values in ledger.order_by().values_list(
        "teacher_id", "teacher__probation_end", *selectors.ENTRY_FIELDS
    ):
        entry = engine.Entry(*values)
        by_key[(teacher_id, rules.cycle_of(entry.earned_on))].append(entry)
        probation_ends[teacher_id] = probation_end
    rows = []
    for (teacher_id, cycle), entries in sorted(by_key.items()):
        probation = selectors.probation_applies(probation_ends[teacher_id], rules, cycle)
        summary = engine.summarize(rules, entries, cycle=cycle, probation=probation)
        rows.append(
            TeacherStanding(
                teacher_id=teacher_id,
                cycle_start=cycle,
                cycle_length=rules.length,
                policy_id=rules.policy_id,
                policy_version=rules.version,
                probation=probation,
                data=summary.to_json(),
            )
        )
    return rows


def _dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _bump(model, key: dict, amount: Decimal) -> None:
    if model.objects.filter(**key).update(amount=F("amount") + amount):
        return
    try:
        with transaction.atomic():
            model.objects.create(amount=amount, **key)
    except IntegrityError:  # created concurrently
        model.objects.filter(**key).update(amount=F("amount") + amount)


def _live(source_type: str, source_id: int):
    return LedgerEntry.objects.filter(
        source_type=source_type, source_id=source_id, reverses__isnull=True, reversed_by__isnull=True
    )


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(_("The credit amount is not a number."), details={"field": "amount"}) from None
    if not amount.is_finite() or abs(amount) >= Decimal("100000"):
        raise InvalidInput(_("The credit amount is out of range."), details={"field": "amount"})
    return amount


def _check_date(day: date) -> None:
    if not (2000 <= day.year <= 2100):
        raise InvalidInput(_("The date is out of range."), details={"field": "earned_on"})


@transaction.atomic
def ledger_post(
    *,
    actor: Actor | None,
    teacher: Teacher,
    category: str,
    amount,
    source_type: str,
    source_id: int,
    earned_on: date,
    level: str = "",
    part: str = "",
    project=None,
    note: str = "",
    rules: Rules | None = None,
) -> LedgerEntry:
    """Post credits from one source record to a teacher's ledger, once.

    Posting the same (source, teacher, part) again returns the live entry unchanged when
    it is identical, and refuses when it differs (reverse first, then post again). The
    unique constraint on (source, teacher, part, generation) backs this up under
    concurrency. ``project`` (a catalog project) lets a deleted project's credits be found.
    """
    if actor is not None:
        require(actor, "credits.ledger.post")
    if source_type not in SourceType.values:
        raise InvalidInput(_("Unknown credit source."), details={"field": "source_type"})
    if not category or len(category) > 20 or len(level or "") > 20 or len(part) > 20:
        raise InvalidInput(_("Choose the credit category."), details={"field": "category"})
    _check_date(earned_on)
    amount = _amount(amount)
    key = {"source_type": source_type, "source_id": source_id, "teacher_id": teacher.pk, "part": part}
    live = LedgerEntry.objects.filter(**key, reverses__isnull=True, reversed_by__isnull=True).first()
    if live is not None:
        if live.category == category and live.level == level and live.amount == amount:
            return live
        raise Conflict(
            _("Credits from this record are already on the ledger; reverse them before posting again."),
            code="already_posted",
        )
    rules = rules_after_lock(teacher.pk, rules or selectors.active_rules())
    generation = LedgerEntry.objects.filter(**key, reverses__isnull=True).count()
    entry = LedgerEntry(
        teacher_id=teacher.pk,
        cycle=rules.cycle_of(earned_on),
        school_year=rules.school_year_of(earned_on),
        category=category,
        level=level or "",
        amount=amount,
        earned_on=earned_on,
        source_type=source_type,
        source_id=source_id,
        part=part,
        generation=generation,
        project=project,
        policy_id=rules.policy_id,
        actor=actor.user if actor is not None else None,
        note=(note or "")[:300],
    )
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        # The same posting committed concurrently: the first one wins, this one is a no-op.
        live = LedgerEntry.objects.filter(**key, reverses__isnull=True, reversed_by__isnull=True).first()
        if live is not None and live.category == category and live.amount == amount:
            return live
        raise Conflict(
            _("Credits from this record are already on the ledger; reverse them before posting again."),
            code="already_posted",
        ) from None
    _bump_total(entry, rules)
    audit_record(
        actor,
        "credits.ledger.post",
        entry,
        summary=f"{teacher.name} {category} {amount}",
        after={"source": f"{source_type}:{source_id}", "category": category, "level": level, "amount": amount},
    )
    return entry


def _reverse(entries: Iterable[LedgerEntry], *, actor: Actor | None, reason: str) -> list[LedgerEntry]:
    """Post the reversals; callers pass the entries in teacher order (each locks its teacher, as the
    chunks of the activation job do in that order)."""
    created = []
    rules = selectors.active_rules()
    for original in entries:
        reversal = LedgerEntry(
            teacher_id=original.teacher_id,
            cycle=original.cycle,
            school_year=original.school_year,
            category=original.category,
            level=original.level,
            amount=-original.amount,
            earned_on=original.earned_on,
            source_type=original.source_type,
            source_id=original.source_id,
            part=original.part,
            generation=original.generation,
            project_id=original.project_id,
            policy_id=original.policy_id,
            reverses=original,
            actor=actor.user if actor is not None else None,
            note=(reason or "")[:300],
        )
        rules = rules_after_lock(original.teacher_id, rules)
        try:
            with transaction.atomic():
                reversal.save()
        except IntegrityError:
            continue  # reversed concurrently: nothing more to do for this entry
        _bump_total(reversal, rules)
        created.append(reversal)
    return created


@transaction.atomic
def ledger_reverse_source(
    *, actor: Actor | None, source_type: str, source_id: int, reason: str, teacher: Teacher | None = None
) -> list[LedgerEntry]:
    """Reverse exactly the live entries of one source record (optionally one teacher's). Idempotent."""
    if actor is not None:
        require(actor, "credits.ledger.post")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the reversal."), details={"field": "reason"})
    live = _live(source_type, source_id)
    if teacher is not None:
        live = live.filter(teacher_id=teacher.pk)
    created = _reverse(list(live.order_by("teacher_id", "id")), actor=actor, reason=reason)
    if created:
        audit_record(
            actor,
            "credits.ledger.reverse",
            object_type="credits.ledgerentry",
            object_id=f"{source_type}:{source_id}",
            summary=reason,
            after={"reversed": [r.reverses_id for r in created]},
        )
    return created


@transaction.atomic
def ledger_reverse_project(*, actor: Actor | None, project, reason: str) -> list[LedgerEntry]:
    """Reverse every live entry a (deleted) project produced."""
    live = LedgerEntry.objects.filter(project_id=project.pk, reverses__isnull=True, reversed_by__isnull=True)
    created = _reverse(list(live.order_by("teacher_id", "id")), actor=actor, reason=reason)
    if created:
        audit_record(
            actor,
            "credits.ledger.reverse_project",
            project,
            summary=f"{project.name}: {reason}"[:500],
            after={"reversed": [r.reverses_id for r in created]},
        )
    return created


def ledger_insert_bulk(entries: list[LedgerEntry]) -> None:
    """Seeding only (demo data): insert many new entries and rebuild their totals."""
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    credit_totals_rebuild(teacher_ids={e.teacher_id for e in entries})


def credit_totals_rebuild(teacher_ids: Iterable[int] | None = None) -> int:
    """Recompute CreditTotal from the ledger (the source of truth) for some or all teachers."""
    from django.db.models import Sum

    with transaction.atomic():
        qs = LedgerEntry.objects.all()
        totals = CreditTotal.objects.all()
        if teacher_ids is not None:
            ids = list(teacher_ids)
            qs = qs.filter(teacher_id__in=ids)
            totals = totals.filter(teacher_id__in=ids)
        totals.delete()
        rows = qs.values("teacher_id", "cycle", "school_year", "category", "level", "source_type").annotate(
            total=Sum("amount")
        )
        objs = [
            CreditTotal(
                teacher_id=r["teacher_id"],
                cycle=r["cycle"],
                school_year=r["school_year"],
                category=r["category"],
                level=r["level"],
                source_type=r["source_type"],
                amount=r["total"],
            )
            for r in rows.order_by()
        ]
        CreditTotal.objects.bulk_create(objs, batch_size=5000)
        rules = selectors.active_rules()
        cycle_totals_rebuild(rules, teacher_ids=ids if teacher_ids is not None else None)
        standings_rebuild(rules, teacher_ids=ids if teacher_ids is not None else None)
        return len(objs)


def _cycle_sql(rules: Rules) -> tuple[str, int]:
    """SQL of the first school year of the cycle (under ``rules``) that ``school_year`` falls in, and the length."""
    start, length = int(rules.start_year), int(rules.length)
    return f"({start} + ((school_year - {start} + {100 * length}) / {length} - 100) * {length})", length


def _insert_cycle_totals(cursor, rules: Rules, where: str, params: list) -> None:
    cycle, length = _cycle_sql(rules)
    cursor.execute(
        f"""INSERT INTO {CycleTotal._meta.db_table} (teacher_id, cycle_start, cycle_length, category, source_type, amount)
        SELECT teacher_id, {cycle}, {length}, category, source_type, SUM(amount) FROM {CreditTotal._meta.db_table}
        {where} GROUP BY teacher_id, {cycle}, category, source_type""",
        params,
    )


def _of_definition(rules: Rules) -> str:
    """SQL condition: a CycleTotal row is a cycle of ``rules``' definition. Two definitions that cut the
    school years differently share no (cycle_start, cycle_length), so rows of both can coexist."""
    start, length = int(rules.start_year), int(rules.length)
    offset = f"(cycle_start - {start})"  # a multiple of the length (integer division, no % in SQL text)
    return f"(cycle_length = {length} AND {offset} = ({offset} / {length}) * {length})"


def cycle_totals_rebuild(rules: Rules, teacher_ids: list[int] | None = None) -> None:
    """Rebuild CycleTotal for ``rules``' cycle definition from CreditTotal in one transaction (setup
    commands, repairs, seeding; the activation job uses ``cycle_totals_rebuild_in_chunks``). Rebuilt
    for every teacher, the active policy's summary is then marked ready (if ``rules`` are its)."""
    cycle_table = CycleTotal._meta.db_table
    where, params = "", []
    if teacher_ids is not None:
        ids = [int(i) for i in teacher_ids]
        if not ids:
            return
        where = f"WHERE teacher_id IN ({', '.join(['%s'] * len(ids))})"
        params = ids
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {cycle_table} {where}", params)
        _insert_cycle_totals(cursor, rules, where, params)
        if teacher_ids is None:
            _cycle_totals_mark_ready(rules)


def cycle_totals_rebuild_in_chunks(
    rules: Rules, teacher_ids: list[int], *, progress: Callable[[int], None] | None = None
) -> None:
    """The activation job's rebuild of CycleTotal for ``rules``' (the active policy's) cycle definition.

    A few thousand teachers at a time, each chunk its own transaction holding its teachers' locks
    the way a posting does: a posting before the chunk is in the CreditTotal rows the chunk sums,
    one after it bumps the rebuilt rows. A chunk replaces only its teachers' rows of the new
    definition, so rows of the old one stay whole for a report that started before the activation.
    Reports do not read CycleTotal for the new definition until the last step, one transaction,
    marks the policy's summary ready and drops the other definitions' rows; so no page ever sees a
    mix. Raises ``PolicySuperseded`` when another policy is activated meanwhile (its job redoes this).
    ``teacher_ids`` are every teacher's, ascending; ``progress(done)`` is called after each chunk.
    """
    cycle_table = CycleTotal._meta.db_table
    mine = _of_definition(rules)
    for i in range(0, len(teacher_ids), STANDINGS_CHUNK):
        part = teacher_ids[i : i + STANDINGS_CHUNK]
        with transaction.atomic(), connection.cursor() as cursor:
            list(
                Teacher.objects.select_for_update(no_key=True)
                .filter(pk__gte=part[0], pk__lte=part[-1])
                .order_by("pk")
                .values_list("pk")
            )
            _require_still_active(rules)
            where, params = "WHERE teacher_id >= %s AND teacher_id <= %s", [part[0], part[-1]]
            cursor.execute(f"DELETE FROM {cycle_table} {where} AND {mine}", params)
            _insert_cycle_totals(cursor, rules, where, params)
        if progress is not None:
            progress(min(i + STANDINGS_CHUNK, len(teacher_ids)))
    with transaction.atomic(), connection.cursor() as cursor:
        if not _cycle_totals_mark_ready(rules):
            raise PolicySuperseded
        cursor.execute(f"DELETE FROM {cycle_table} WHERE NOT {mine}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {cycle_table}")


def _cycle_totals_mark_ready(rules: Rules) -> bool:
    """Mark the summary of ``rules``' policy complete, if that policy is still the active one."""
    if rules.policy_id is None:  # no policy activated yet: preset A, kept by every posting
        return not Policy.objects.filter(status=Policy.Status.ACTIVE).exists()
    return bool(Policy.objects.filter(pk=rules.policy_id, status=Policy.Status.ACTIVE).update(cycle_totals_ready=True))


class PolicySuperseded(Exception):
    """Another policy was activated while a job rebuilt the derived rows under the previous one."""


def _require_still_active(rules: Rules) -> None:
    active = (
        Policy.objects.filter(status=Policy.Status.ACTIVE).order_by("-version").values_list("pk", flat=True).first()
    )
    if active != rules.policy_id:
        raise PolicySuperseded


def policy_derived_rebuild(*, progress: Callable[[int, int], None] | None = None) -> tuple[int, bool]:
    """The activation job's work under the policy active when it runs: first, if that policy's
    per-cycle summary is not ready (another cycle definition), rebuild it
    (``cycle_totals_rebuild_in_chunks``); then every stored standing. Returns (standings stored,
    whether the summary was rebuilt). ``progress(done, total)`` counts teachers over both steps.
    Raises ``PolicySuperseded`` when another policy is activated meanwhile."""
    policy = selectors.active_policy()
    rules = selectors.rules_for(policy)
    rebuild = policy is not None and not policy.cycle_totals_ready
    done_before = 0
    if rebuild:
        ids = list(Teacher.objects.order_by("pk").values_list("pk", flat=True))
        cycle_totals_rebuild_in_chunks(
            rules, ids, progress=(lambda done: progress(done, 2 * len(ids))) if progress else None
        )
        done_before = len(ids)
    count = standings_rebuild(
        rules,
        stop_if_superseded=True,
        progress=(lambda done, total: progress(done_before + done, done_before + total)) if progress else None,
    )
    return count, rebuild


@transaction.atomic
def adjustment_create(
    *,
    actor: Actor,
    teacher: Teacher,
    category: str,
    amount,
    reason: str,
    level: str = "",
    earned_on: date | None = None,
) -> Adjustment:
    """A manual adjustment by an authorised officer: logged, audited, posted as its own source."""
    require(actor, "credits.adjust", teacher)
    amount = _amount(amount)
    if amount == 0:
        raise InvalidInput(_("An adjustment cannot be zero."), details={"field": "amount"})
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for the adjustment."), details={"field": "reason"})
    if len(reason) > 300 or len(level or "") > 20:
        raise InvalidInput(_("The reason is too long (at most 300 characters)."), details={"field": "reason"})
    if earned_on is not None:
        _check_date(earned_on)
    rules = selectors.active_rules()
    if rules.category(category) is None:
        raise InvalidInput(_("The active policy has no such category."), details={"field": "category"})
    earned_on = earned_on or timezone.localdate()
    adjustment = Adjustment.objects.create(
        teacher=teacher,
        category=category,
        level=level or "",
        amount=amount,
        earned_on=earned_on,
        reason=reason,
        created_by=actor.user,
    )
    ledger_post(
        actor=actor,
        teacher=teacher,
        category=category,
        level=level,
        amount=amount,
        source_type=SourceType.ADJUSTMENT,
        source_id=adjustment.pk,
        earned_on=earned_on,
        note=reason,
        rules=rules,
    )
    audit_record(
        actor, "credits.adjust", adjustment, summary=f"{teacher.name} {amount}: {reason}", after=snapshot(adjustment)
    )
    return adjustment


# --- policies -------------------------------------------------------------------------------


def _next_version(province: Region) -> int:
    return (Policy.objects.filter(province=province).aggregate(v=Max("version"))["v"] or 0) + 1


def _province() -> Region:
    province = Region.objects.filter(level=Region.Level.PROVINCE).order_by("pk").first()
    if province is None:
        raise Conflict(_("Create the province first."))
    return province


@transaction.atomic
def policy_create_draft(
    *, actor: Actor | None, name: str, preset: str = "", based_on: Policy | None = None, province: Region | None = None
) -> Policy:
    """A new draft, copied from a preset or from an existing policy."""
    if actor is not None:
        require(actor, "credits.policy.manage")
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the policy a name."), details={"field": "name"})
    if based_on is not None:
        data, preset_name = copy.deepcopy(based_on.data), based_on.preset
    elif preset in PRESETS:
        data, preset_name = preset_data(preset), preset
    else:
        raise InvalidInput(_("Choose a preset or a policy to start from."), details={"field": "preset"})
    Rules.from_data(data)
    province = province or (based_on.province if based_on is not None else _province())
    policy = Policy.objects.create(
        province=province,
        version=_next_version(province),
        name=name,
        preset=preset_name,
        data=data,
        created_by=actor.user if actor is not None else None,
    )
    audit_record(actor, "credits.policy.create", policy, summary=str(policy), after={"preset": preset_name})
    return policy


@transaction.atomic
def policy_update_draft(*, actor: Actor, policy: Policy, data: dict, name: str | None = None, note: str = "") -> Policy:
    require(actor, "credits.policy.manage")
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != Policy.Status.DRAFT:
        raise Conflict(_("Only a draft policy can be edited; copy it to a new draft."))
    Rules.from_data(data)  # raises a Chinese InvalidInput when the data is wrong
    before = {"data": policy.data, "name": policy.name}
    policy.data = data
    if name is not None and name.strip():
        policy.name = name.strip()
    policy.note = (note or policy.note)[:300]
    policy.save()
    audit_record(
        actor,
        "credits.policy.update",
        policy,
        summary=str(policy),
        before=before,
        after={"data": data, "name": policy.name},
    )
    return policy


@transaction.atomic
def policy_activate(*, actor: Actor | None, policy: Policy) -> Policy:
    """Make a draft the active policy (the previous one is retired). The ledger is not touched:
    standings are recomputed from it under the new rules."""
    if actor is not None:
        require(actor, "credits.policy.manage")
    policy = Policy.objects.select_for_update().get(pk=policy.pk)
    if policy.status != Policy.Status.DRAFT:
        raise Conflict(_("Only a draft policy can be activated."))
    Rules.from_data(policy.data)
    previous = Policy.objects.select_for_update().filter(province=policy.province, status=Policy.Status.ACTIVE).first()
    if previous is not None:
        previous.status = Policy.Status.RETIRED
        previous.save(update_fields=["status", "updated_at"])
    old_rules = selectors.rules_for(previous)
    new_rules = Rules.from_data(policy.data, version=policy.version, policy_id=policy.pk)
    # The per-cycle summary carries over when the cycles are cut the same way; otherwise it is
    # rebuilt in the recomputation job (reports read the per-school-year totals until then).
    same_cycles = (old_rules.start_year, old_rules.length) == (new_rules.start_year, new_rules.length)
    policy.cycle_totals_ready = same_cycles and (previous is None or previous.cycle_totals_ready)
    policy.status = Policy.Status.ACTIVE
    policy.activated_at = timezone.now()
    policy.activated_by = actor.user if actor is not None else None
    policy.save()
    job = _recompute_standings(actor, policy, new_rules)
    audit_record(
        actor,
        "credits.policy.activate",
        policy,
        summary=str(policy),
        before={"active": previous.pk if previous else None, "version": previous.version if previous else None},
        after={"active": policy.pk, "version": policy.version, "job": job.pk if job else None},
    )
    return policy


def _recompute_standings(actor: Actor | None, policy: Policy, rules: Rules) -> Job | None:
    """The per-cycle summary (if the cycle definition changed) and the stored standings under the
    new policy: a background job for an officer (province-wide it takes minutes; meanwhile reports
    read the per-school-year totals and pages compute from the ledger until a teacher's row is
    redone), at once for setup commands (no actor)."""
    from .tasks import STANDINGS_JOB, run_standings_rebuild

    if actor is None:
        if not policy.cycle_totals_ready:
            cycle_totals_rebuild(rules)  # derived data only: the ledger is not touched
            policy.cycle_totals_ready = True
        standings_rebuild(rules)
        return None
    teachers = Teacher.objects.count()
    job = job_create(
        owner=actor.user,
        kind=STANDINGS_JOB,
        title=_("Recompute standings under %(policy)s") % {"policy": policy},
        params={"policy_id": policy.pk},
        total=teachers if policy.cycle_totals_ready else 2 * teachers,
        subject=policy,
    )
    transaction.on_commit(lambda: run_standings_rebuild.enqueue(job_id=job.pk))
    return job


@transaction.atomic
def whatif_start(*, actor: Actor, policy: Policy) -> Job:
    """Start comparing ``policy`` with the active one on the real data (a background job; the
    what-if page shows its progress, then its result)."""
    from .tasks import WHATIF_JOB, run_whatif

    require(actor, "credits.policy.manage")
    active = selectors.active_policy()
    job = job_create(
        owner=actor.user,
        kind=WHATIF_JOB,
        title=_("What-if: %(policy)s against the active policy") % {"policy": policy},
        params={
            "grant_id": actor.grant.pk,
            "policy_id": policy.pk,
            "policy_updated": policy.updated_at.isoformat(),
            "active_id": active.pk if active is not None else None,
        },
        total=2,
    )
    audit_record(actor, "credits.policy.whatif", policy, summary=str(policy), after={"job": job.pk})
    transaction.on_commit(lambda: run_whatif.enqueue(job_id=job.pk))
    return job


# --- degree offsets ---------------------------------------------------------------------------


def _degree_check(teacher: Teacher, degree: str, obtained_on: date, rules: Rules, today: date) -> Decimal:
    """The credits this degree would offset now, or a Chinese reason why it cannot."""
    cap = rules.sources.get(SourceType.DEGREE)
    if cap is None or degree not in rules.degree_credits:
        raise Conflict(_("The active credit policy has no degree offsets."), code="degree_not_in_policy")
    if obtained_on > today:
        raise InvalidInput(_("The date obtained cannot be in the future."), details={"field": "obtained_on"})
    cycle = rules.cycle_of(today)
    start, end = rules.cycle_bounds(cycle)
    if not (start <= obtained_on <= end):
        raise Conflict(
            _(
                "Only a degree obtained within the current training cycle (%(start)s to %(end)s) can offset credits; "
                "this one was obtained on %(date)s."
            )
            % {"start": start, "end": end, "date": obtained_on},
            code="degree_outside_cycle",
            details={"field": "obtained_on"},
        )
    if teacher.probation_end and obtained_on <= teacher.probation_end:
        raise Conflict(
            _(
                "A degree obtained during the probation period (until %(end)s) cannot offset credits; "
                "only one obtained after taking up the post formally can."
            )
            % {"end": teacher.probation_end},
            code="degree_in_probation",
            details={"field": "obtained_on"},
        )
    used = selectors.source_used(teacher.pk, rules, SourceType.DEGREE, cycle)
    remaining = (cap.cap_per_cycle - used) if cap.cap_per_cycle is not None else rules.degree_credits[degree]
    if remaining <= 0:
        raise Conflict(
            _("Degree offsets in this cycle have reached the limit of %(cap)s credits (all degrees together share it).")
            % {"cap": cap.cap_per_cycle},
            code="degree_cap_reached",
        )
    return min(rules.degree_credits[degree], remaining)


@transaction.atomic
def degree_offset_apply(
    *, actor: Actor, degree: str, institution_name: str, obtained_on: date, certificate
) -> DegreeOffset:
    require(actor, "credits.degree.apply")
    teacher = Teacher.objects.get(pk=actor.teacher_id)
    if degree not in DegreeOffset.Degree.values:
        raise InvalidInput(_("Choose the degree."), details={"field": "degree"})
    institution_name = (institution_name or "").strip()
    if not institution_name:
        raise InvalidInput(_("Enter the awarding institution."), details={"field": "institution_name"})
    if not certificate:
        raise InvalidInput(_("Upload a scan or photo of the certificate."), details={"field": "certificate"})
    _degree_check(teacher, degree, obtained_on, selectors.active_rules(), timezone.localdate())
    if teacher.degree_offsets.filter(status=ReviewStatus.PENDING).exists():
        raise Conflict(_("You already have an application waiting for review."))
    offset = DegreeOffset.objects.create(
        teacher=teacher,
        degree=degree,
        institution_name=institution_name,
        obtained_on=obtained_on,
        certificate=certificate,
    )
    audit_record(actor, "credits.degree.apply", offset, summary=f"{teacher.name} {offset.get_degree_display()}")
    return offset


@transaction.atomic
def degree_offset_review(*, actor: Actor, offset: DegreeOffset, approve: bool, note: str = "") -> DegreeOffset:
    """County review. Approval posts the offset (capped so all degrees of a cycle share the cap)."""
    require(actor, "credits.degree.review", offset)
    offset = DegreeOffset.objects.select_for_update().select_related("teacher").get(pk=offset.pk)
    if offset.status != ReviewStatus.PENDING:
        raise Conflict(_("This application has already been decided."))
    note = (note or "").strip()
    today = timezone.localdate()
    if approve:
        rules = selectors.active_rules()
        credits = _degree_check(offset.teacher, offset.degree, offset.obtained_on, rules, today)
        offset.status = ReviewStatus.APPROVED
        offset.credits = credits
        full = rules.degree_credits[offset.degree]
        if credits < full:
            note = _("%(full)s credits by the policy; %(credits)s left under the cycle's cap.") % {
                "full": full,
                "credits": credits,
            } + (" " + note if note else "")
        ledger_post(
            actor=actor,
            teacher=offset.teacher,
            category=rules.sources[SourceType.DEGREE].category,
            level=offset.degree,
            amount=credits,
            source_type=SourceType.DEGREE,
            source_id=offset.pk,
            earned_on=today,
            note=f"{offset.get_degree_display()} {offset.institution_name}",
            rules=rules,
        )
    else:
        if not note:
            raise InvalidInput(_("Give the reason for refusing."), details={"field": "note"})
        offset.status = ReviewStatus.REFUSED
    offset.decision_note = note[:300]
    offset.reviewed_by = actor.user
    offset.reviewed_at = timezone.now()
    offset.save()
    audit_record(
        actor,
        "credits.degree.approve" if approve else "credits.degree.refuse",
        offset,
        summary=f"{offset.teacher.name}: {offset.decision_note}"[:500],
        after={"status": offset.status, "credits": offset.credits},
    )
    return offset


# --- floor training -------------------------------------------------------------------------


def _floor_cap(rules: Rules):
    cap = rules.sources.get(SourceType.FLOOR)
    if cap is None:
        raise Conflict(_("The active credit policy has no floor training."), code="floor_not_in_policy")
    return cap


def county_forecast(county: Region, rules: Rules | None = None) -> dict:
    """The engine's forecast for a county: teachers in post, how many are projected short, average gap."""
    rules = rules or selectors.active_rules()
    ids = list(Teacher.objects.filter(school__county=county, status=Teacher.Status.ACTIVE).values_list("pk", flat=True))
    standings = selectors.standings_for(ids, rules=rules)
    counted = [s for s in standings.values() if not s.exempt]
    short = [s for s in counted if not s.projected_compliant]
    missing = [s.shortfall for s in counted if s.shortfall > 0]
    return {
        "teachers": len(counted),
        "projected_short": len(short),
        "share_short": round(len(short) * 100 / len(counted), 1) if counted else 0,
        "average_missing": str((sum(missing, Decimal(0)) / len(missing)).quantize(Decimal("0.1"))) if missing else "0",
        "cycle": rules.cycle_of(timezone.localdate()),
        "computed_at": timezone.now().isoformat(timespec="minutes"),
    }


@transaction.atomic
def floor_propose(
    *, actor: Actor, name: str, school_year: int, reason: str, credits_per_teacher, hours=0, format: str = "online"
) -> FloorProgramme:
    require(actor, "credits.floor.propose")
    county = Region.objects.get(pk=actor.county_id) if actor.county_id else None
    if county is None:
        raise Conflict(_("Only a county bureau can propose floor training."))
    rules = selectors.active_rules()
    cap = _floor_cap(rules)
    credits = _amount(credits_per_teacher)
    if credits <= 0:
        raise InvalidInput(_("Credits per teacher must be more than zero."), details={"field": "credits_per_teacher"})
    if cap.cap_per_year is not None and credits > cap.cap_per_year:
        raise InvalidInput(
            _("Floor training gives at most %(cap)s credits per teacher a year.") % {"cap": cap.cap_per_year},
            details={"field": "credits_per_teacher"},
        )
    name, reason = (name or "").strip(), (reason or "").strip()
    if not name:
        raise InvalidInput(_("Give the programme a name."), details={"field": "name"})
    if not reason:
        raise InvalidInput(_("Explain the predicted shortfall."), details={"field": "reason"})
    programme = FloorProgramme.objects.create(
        county=county,
        name=name,
        school_year=int(school_year),
        reason=reason,
        forecast=county_forecast(county, rules),
        credits_per_teacher=credits,
        hours=Decimal(str(hours or 0)),
        format=format,
        created_by=actor.user,
    )
    audit_record(actor, "credits.floor.propose", programme, summary=name, after=snapshot(programme))
    return programme


@transaction.atomic
def floor_file(*, actor: Actor, programme: FloorProgramme) -> FloorProgramme:
    """File the programme with the city (备案)."""
    require(actor, "credits.floor.propose", programme)
    programme = FloorProgramme.objects.select_for_update().get(pk=programme.pk)
    if programme.status not in (FloorProgramme.Status.DRAFT, FloorProgramme.Status.RETURNED):
        raise Conflict(_("Only a draft or returned programme can be filed."))
    programme.status = FloorProgramme.Status.FILED
    programme.filed_at = timezone.now()
    programme.save(update_fields=["status", "filed_at"])
    audit_record(actor, "credits.floor.file", programme, summary=programme.name)
    return programme


@transaction.atomic
def floor_decide(*, actor: Actor, programme: FloorProgramme, accept: bool, feedback: str = "") -> FloorProgramme:
    """The city accepts the filing (the programme may run) or returns it with feedback."""
    require(actor, "credits.floor.decide", programme)
    programme = FloorProgramme.objects.select_for_update().get(pk=programme.pk)
    if programme.status != FloorProgramme.Status.FILED:
        raise Conflict(_("Only a filed programme can be decided."))
    feedback = (feedback or "").strip()
    if not accept and not feedback:
        raise InvalidInput(_("Give feedback when returning a programme."), details={"field": "feedback"})
    programme.status = FloorProgramme.Status.ACCEPTED if accept else FloorProgramme.Status.RETURNED
    programme.feedback = feedback[:300]
    programme.decided_at = timezone.now()
    programme.decided_by = actor.user
    programme.save(update_fields=["status", "feedback", "decided_at", "decided_by"])
    audit_record(
        actor,
        "credits.floor.accept" if accept else "credits.floor.return",
        programme,
        summary=feedback or programme.name,
    )
    return programme


@transaction.atomic
def floor_add_participants(*, actor: Actor, programme: FloorProgramme, teacher_ids: Iterable[int]) -> int:
    require(actor, "credits.floor.propose", programme)
    if programme.status == FloorProgramme.Status.CLOSED:
        raise Conflict(_("The programme is closed."))
    ids = set(
        Teacher.objects.filter(pk__in=list(teacher_ids), school__county=programme.county).values_list("pk", flat=True)
    )
    existing = set(programme.participants.values_list("teacher_id", flat=True))
    new = [FloorParticipant(programme=programme, teacher_id=tid) for tid in sorted(ids - existing)]
    FloorParticipant.objects.bulk_create(new)
    audit_record(actor, "credits.floor.participants", programme, summary=f"+{len(new)}")
    return len(new)


@transaction.atomic
def floor_complete(
    *, actor: Actor, programme: FloorProgramme, teacher_ids: Iterable[int], completed_on: date | None = None
) -> list[FloorParticipant]:
    """Record completion and post credits, each capped by the per-year and per-cycle limits."""
    require(actor, "credits.floor.propose", programme)
    programme = FloorProgramme.objects.select_for_update().get(pk=programme.pk)
    if programme.status != FloorProgramme.Status.ACCEPTED:
        raise Conflict(_("Credits are posted only for a programme the city has accepted."))
    rules = selectors.active_rules()
    cap = _floor_cap(rules)
    completed_on = completed_on or timezone.localdate()
    if rules.school_year_of(completed_on) != programme.school_year:
        raise InvalidInput(
            _("The completion date must fall in the programme's school year."), details={"field": "completed_on"}
        )
    done = []
    participants = (
        programme.participants.select_for_update()
        .select_related("teacher")
        .filter(teacher_id__in=list(teacher_ids), completed_on__isnull=True)
    )
    cycle = rules.cycle_of(completed_on)
    for participant in participants:
        credits = programme.credits_per_teacher
        notes = []
        if cap.cap_per_year is not None:
            left = cap.cap_per_year - selectors.source_used(
                participant.teacher_id, rules, SourceType.FLOOR, cycle, programme.school_year
            )
            if left < credits:
                notes.append(_("limited by %(cap)s a year") % {"cap": cap.cap_per_year})
            credits = min(credits, max(Decimal(0), left))
        if cap.cap_per_cycle is not None:
            left = cap.cap_per_cycle - selectors.source_used(participant.teacher_id, rules, SourceType.FLOOR, cycle)
            if left < credits:
                notes.append(_("limited by %(cap)s a cycle") % {"cap": cap.cap_per_cycle})
            credits = min(credits, max(Decimal(0), left))
        participant.completed_on = completed_on
        participant.credits = credits
        participant.note = "；".join(str(n) for n in notes)[:200]
        participant.save(update_fields=["completed_on", "credits", "note"])
        if credits > 0:
            ledger_post(
                actor=actor,
                teacher=participant.teacher,
                category=cap.category,
                level="floor",
                amount=credits,
                source_type=SourceType.FLOOR,
                source_id=participant.pk,
                earned_on=completed_on,
                note=programme.name,
                rules=rules,
            )
        done.append(participant)
    audit_record(actor, "credits.floor.complete", programme, summary=f"{programme.name}: {len(done)}")
    return done


@transaction.atomic
def floor_close(*, actor: Actor, programme: FloorProgramme) -> FloorProgramme:
    require(actor, "credits.floor.propose", programme)
    programme = FloorProgramme.objects.select_for_update().get(pk=programme.pk)
    if programme.status != FloorProgramme.Status.ACCEPTED:
        raise Conflict(_("Only a running programme can be closed."))
    programme.status = FloorProgramme.Status.CLOSED
    programme.save(update_fields=["status"])
    audit_record(actor, "credits.floor.close", programme, summary=programme.name)
    return programme
