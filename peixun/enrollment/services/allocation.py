"""Fair allocation mode: ranked preferences (teachers), allocation runs (province), verification.

In a term whose ``selection_mode`` is ``fair``, round 1 is not first-come-first-served: during
the round-1 selection window teachers rank the classes they want (eligibility is checked when a
class is added); after the window closes the province starts an allocation run, a background
job that assigns the seats with ``peixun.enrollment.allocation.allocate`` from a recorded seed
and turns each allocated preference into a SELECTED enrollment through the seat functions (the
principal then reviews it as usual). The run records its inputs, so ``allocation_verify`` can
recompute it and compare, without writing anything.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from peixun.accounts.models import RoleGrant
from peixun.catalog.models import Project, ProjectClass
from peixun.core.audit import audit_record
from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.models import Job, Notification
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require
from peixun.core.services import job_create, job_progress, notify
from peixun.roster.models import Teacher
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import describe, get_window, require_open

from .. import allocation as algo
from ..models import AllocationResult, AllocationRun, Enrollment, EnrollmentEvent, Preference, PreferenceList
from ..seats import take_seats

logger = logging.getLogger(__name__)

MAX_PREFERENCES = 10
MAX_SEED = 2**63 - 1
SCORE_PLACES = Decimal("0.01")
JOB_KIND = "enrollment.allocation"
OPEN_STATUSES = (Project.Status.PUBLISHED,)


# --- preferences (teacher) ---------------------------------------------------------------------


def _teacher(actor: Actor) -> Teacher:
    teacher = Teacher.objects.select_related("school").filter(pk=actor.teacher_id).first()
    if teacher is None:
        raise NotFound(_("Your account is not linked to a teacher record."))
    return teacher


def require_fair(term: Term) -> None:
    if term.selection_mode != Term.SelectionMode.FAIR:
        raise Conflict(
            _("%(term)s uses first-come-first-served selection; there are no preferences to rank.")
            % {"term": term.name},
            code="not_fair_mode",
        )


def _locked_list(term: Term, teacher: Teacher) -> PreferenceList:
    plist, _created = PreferenceList.objects.get_or_create(term=term, teacher=teacher)
    return PreferenceList.objects.select_for_update().get(pk=plist.pk)


def _renumber(plist: PreferenceList, class_ids: list[int]) -> None:
    prefs = {p.project_class_id: p for p in plist.preferences.all()}
    for rank, cid in enumerate(class_ids, start=1):
        prefs[cid].rank = rank
    Preference.objects.bulk_update(prefs.values(), ["rank"])
    plist.save(update_fields=["updated_at"])


def _check_eligibility(teacher: Teacher, project_class: ProjectClass, now) -> None:
    from peixun.enrollment.services.eligibility import check_eligibility

    check_eligibility(teacher=teacher, project_class=project_class, round=1, now=now)


@transaction.atomic
def preference_add(*, actor: Actor, project_class: ProjectClass, now=None) -> Preference:
    """Add a class at the end of the teacher's ranking (adding it again returns the same row)."""
    require(actor, "enrollment.preference.edit")
    teacher = _teacher(actor)
    project_class = ProjectClass.objects.select_related("project", "project__term").get(pk=project_class.pk)
    term = project_class.project.term
    require_fair(term)
    require_open(term, WindowKind.SELECT_R1, now)
    plist = _locked_list(term, teacher)
    existing = plist.preferences.filter(project_class=project_class).first()
    if existing is not None:
        return existing
    count = plist.preferences.count()
    if count >= MAX_PREFERENCES:
        raise Conflict(
            _("You can rank at most %(n)s classes. Remove one before adding another.") % {"n": MAX_PREFERENCES},
            code="too_many_preferences",
        )
    _check_eligibility(teacher, project_class, now)
    pref = Preference.objects.create(preference_list=plist, project_class=project_class, rank=count + 1)
    plist.save(update_fields=["updated_at"])
    audit_record(actor, "enrollment.preference.add", pref, summary=str(project_class), after={"rank": pref.rank})
    return pref


def _own_list(actor: Actor, term: Term, now) -> PreferenceList:
    require(actor, "enrollment.preference.edit")
    teacher = _teacher(actor)
    require_fair(term)
    require_open(term, WindowKind.SELECT_R1, now)
    return _locked_list(term, teacher)


@transaction.atomic
def preference_remove(*, actor: Actor, term: Term, project_class_id: int, now=None) -> PreferenceList:
    plist = _own_list(actor, term, now)
    order = list(plist.preferences.order_by("rank", "id").values_list("project_class_id", flat=True))
    if project_class_id not in order:
        raise NotFound(_("This class is not among your preferences."))
    plist.preferences.filter(project_class_id=project_class_id).delete()
    order.remove(project_class_id)
    _renumber(plist, order)
    audit_record(actor, "enrollment.preference.remove", plist, summary=str(project_class_id))
    return plist


@transaction.atomic
def preference_reorder(*, actor: Actor, term: Term, class_ids: list[int], now=None) -> PreferenceList:
    """Rank the teacher's preferences in the order given (the same classes, each once)."""
    plist = _own_list(actor, term, now)
    current = list(plist.preferences.order_by("rank", "id").values_list("project_class_id", flat=True))
    if len(class_ids) != len(set(class_ids)) or set(class_ids) != set(current):
        raise InvalidInput(_("List each of your preferred classes exactly once."), details={"field": "class_ids"})
    _renumber(plist, list(class_ids))
    audit_record(actor, "enrollment.preference.reorder", plist, before=current, after=list(class_ids))
    return plist


@transaction.atomic
def preference_move(*, actor: Actor, term: Term, project_class_id: int, up: bool, now=None) -> PreferenceList:
    """Move one preference a place up or down (the phone page's arrows)."""
    plist = _own_list(actor, term, now)
    order = list(plist.preferences.order_by("rank", "id").values_list("project_class_id", flat=True))
    if project_class_id not in order:
        raise NotFound(_("This class is not among your preferences."))
    i = order.index(project_class_id)
    j = i - 1 if up else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        _renumber(plist, order)
        audit_record(actor, "enrollment.preference.reorder", plist, after=order)
    return plist


@transaction.atomic
def preference_set_wanted(*, actor: Actor, term: Term, wanted: int, now=None) -> PreferenceList:
    """How many classes the teacher wants from the allocation (1 to the term's per-teacher limit)."""
    plist = _own_list(actor, term, now)
    if not isinstance(wanted, int) or isinstance(wanted, bool) or not 1 <= wanted <= term.per_teacher_limit:
        raise InvalidInput(
            _("You may ask for 1 to %(n)s classes.") % {"n": term.per_teacher_limit}, details={"field": "wanted"}
        )
    before = plist.wanted
    plist.wanted = wanted
    plist.save(update_fields=["wanted", "updated_at"])
    audit_record(actor, "enrollment.preference.wanted", plist, before={"wanted": before}, after={"wanted": wanted})
    return plist


# --- allocation runs (province) ----------------------------------------------------------------


def score_function(path: str | None = None):
    """The configured priority score (``settings.ENROLLMENT_PRIORITY_SCORE``)."""
    return import_string(path or settings.ENROLLMENT_PRIORITY_SCORE)


@transaction.atomic
def allocation_start(*, actor: Actor, term: Term, seed: int | None = None, now=None) -> AllocationRun:
    """Start the allocation of a fair-mode term's round-1 seats (after the selection window)."""
    require(actor, "enrollment.allocation.run")
    term = Term.objects.select_for_update().get(pk=term.pk)
    if term.selection_mode != Term.SelectionMode.FAIR:
        raise Conflict(
            _("%(term)s uses first-come-first-served selection; there is nothing to allocate.") % {"term": term.name},
            code="not_fair_mode",
        )
    window = get_window(term, WindowKind.SELECT_R1)
    now = now or timezone.now()
    if window is None or now < window.ends_at:
        raise Conflict(
            _("The allocation runs after round 1 selection closes (%(dates)s).")
            % {"dates": describe(window) if window else "-"},
            code="window_open",
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED):
        raise InvalidInput(_("The seed is a whole number from 0 to 2^63-1."), details={"field": "seed"})
    live = AllocationRun.objects.filter(term=term, round=1).exclude(status=AllocationRun.Status.FAILED).first()
    if live is not None:
        raise Conflict(
            _("Round 1 of %(term)s has already been allocated (run %(run)s).") % {"term": term.name, "run": live.pk}
            if live.status == AllocationRun.Status.DONE
            else _("An allocation run for %(term)s is already under way (run %(run)s).")
            % {"term": term.name, "run": live.pk},
            code="already_allocated",
        )
    path = settings.ENROLLMENT_PRIORITY_SCORE
    score_function(path)  # fail now, not in the worker, if the setting is wrong
    seed = secrets.randbelow(MAX_SEED) if seed is None else seed
    job = job_create(
        owner=actor.user,
        kind=JOB_KIND,
        title=_("Allocate round 1 seats of %(term)s") % {"term": term.name},
        params={"grant_id": actor.grant.pk if actor.grant else None},
    )
    run = AllocationRun.objects.create(
        term=term, seed=seed, score=path, school_share_cap=term.school_share_cap, job=job, started_by=actor.user
    )
    job.params["run_id"] = run.pk
    job.subject_type, job.subject_id = run._meta.label_lower, run.pk  # other province officers watch it
    job.save(update_fields=["params", "subject_type", "subject_id"])
    audit_record(
        actor,
        "enrollment.allocation.start",
        run,
        summary=term.name,
        after={"seed": str(seed), "score": path, "school_share_cap": term.school_share_cap},
    )
    from ..tasks_allocation import run_allocation

    transaction.on_commit(lambda: _enqueue(run_allocation, job))
    return run


def _enqueue(task, job: Job) -> None:
    result = task.enqueue(job_id=job.pk)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])


@dataclass
class Inputs:
    slots: list[algo.Slot]
    applicants: list[algo.Applicant]
    schools: dict[int, int] = field(default_factory=dict)  # teacher -> school
    users: dict[int, int | None] = field(default_factory=dict)  # teacher -> user id
    names: dict[int, str] = field(default_factory=dict)  # teacher -> name (the audit records)
    class_names: dict[int, str] = field(default_factory=dict)  # preferred class -> "project 第n期"


def gather_inputs(term: Term, *, share_cap: int | None, score_path: str, lock: bool = False) -> Inputs:
    """Read a term's preferences, classes and scores as the algorithm's inputs.

    With ``lock`` the preferred classes are locked (in id order) for the rest of the transaction,
    so the seats the run sees are the seats it takes.
    """
    lists = list(
        PreferenceList.objects.filter(term=term, teacher__status=Teacher.Status.ACTIVE)
        .select_related("teacher")
        .prefetch_related("preferences")
        .order_by("teacher_id")
    )
    class_ids = sorted({p.project_class_id for pl in lists for p in pl.preferences.all()})
    classes_qs = ProjectClass.objects.filter(pk__in=class_ids).select_related("project").order_by("pk")
    if lock:
        classes_qs = classes_qs.select_for_update(of=("self",))
    classes = {c.pk: c for c in classes_qs}
    open_ids = [cid for cid, c in classes.items() if c.project.term_id == term.pk and c.project.status in OPEN_STATUSES]
    holding = Enrollment.objects.holding_seats().filter(project_class_id__in=open_ids)
    school_taken: dict[int, dict[int, int]] = {}
    for cid, sid, n in holding.values_list("project_class_id", "teacher__school_id").annotate(n=Count("id")):
        school_taken.setdefault(cid, {})[sid] = n
    slots = []
    for cid in open_ids:
        c = classes[cid]
        slots.append(
            algo.Slot(
                class_id=cid,
                seats=max(0, c.capacity - c.seats_taken),
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                school_limit=algo.school_limit_for(c.capacity, share_cap),
                school_taken=school_taken.get(cid, {}),
            )
        )
    teacher_ids = [pl.teacher_id for pl in lists]
    # What the teachers already hold this term: it counts against their limit and blocks overlaps.
    held: dict[int, list[tuple]] = {}
    for tid, start, end in (
        Enrollment.objects.active()
        .filter(teacher_id__in=teacher_ids, project_class__project__term=term)
        .values_list("teacher_id", "project_class__starts_on", "project_class__ends_on")
        .order_by("teacher_id", "project_class__starts_on")
    ):
        held.setdefault(tid, []).append((start, end))
    raw = score_function(score_path)(teacher_ids, term) if teacher_ids else {}
    applicants = []
    for pl in lists:
        choices = tuple(p.project_class_id for p in sorted(pl.preferences.all(), key=lambda p: (p.rank, p.pk)))
        if not choices:
            continue
        busy = tuple(held.get(pl.teacher_id, ()))
        wanted = max(0, min(pl.wanted, term.per_teacher_limit - len(busy)))
        score = Decimal(raw.get(pl.teacher_id, 0) or 0).quantize(SCORE_PLACES)
        applicants.append(
            algo.Applicant(
                teacher_id=pl.teacher_id,
                school_id=pl.teacher.school_id,
                score=score,
                choices=choices,
                wanted=wanted,
                busy=busy,
            )
        )
    return Inputs(
        slots=slots,
        applicants=applicants,
        schools={pl.teacher_id: pl.teacher.school_id for pl in lists},
        users={pl.teacher_id: pl.teacher.user_id for pl in lists},
        names={pl.teacher_id: pl.teacher.name for pl in lists},
        class_names={cid: f"{c.project.name} 第{c.number}期" for cid, c in classes.items()},
    )


def allocation_execute(run_id: int) -> AllocationRun:
    """Run a queued allocation (the background job's body): all of it in one transaction."""
    updated = AllocationRun.objects.filter(pk=run_id, status=AllocationRun.Status.QUEUED).update(
        status=AllocationRun.Status.RUNNING
    )
    run = AllocationRun.objects.select_related("term", "job").get(pk=run_id)
    if not updated:
        raise Conflict(_("This allocation run has already been handled."))
    if run.job_id:
        job_progress(run.job, progress=0, total=0, message=_("Allocating seats…"))
    try:
        with transaction.atomic():
            _execute(run)
    except Exception as exc:
        AllocationRun.objects.filter(pk=run.pk).update(
            status=AllocationRun.Status.FAILED, message=str(exc)[:500], finished_at=timezone.now()
        )
        raise
    run.refresh_from_db()
    return run


def _execute(run: AllocationRun) -> None:
    from peixun.core.tasks import actor_for_job

    term = run.term
    inputs = gather_inputs(term, share_cap=run.school_share_cap, score_path=run.score, lock=True)
    result = algo.allocate(inputs.slots, inputs.applicants, run.seed)
    data = algo.inputs_to_json(inputs.slots, inputs.applicants)

    allocated = result.allocated()
    per_class: dict[int, int] = {}
    for d in allocated:
        per_class[d.class_id] = per_class.get(d.class_id, 0) + 1
    for class_id, n in sorted(per_class.items()):  # one conditional UPDATE per class, in id order
        if not take_seats(class_id, n):  # the classes are locked and the seats counted: cannot happen
            raise RuntimeError(f"class {class_id}: fewer than {n} seats left for the allocated preferences")
    enrollments = []
    for d in allocated:
        enrollments.append(
            Enrollment(
                teacher_id=d.teacher_id,
                project_class_id=d.class_id,
                round=run.round,
                state=Enrollment.State.SELECTED,
                request_key=f"allocation-{run.pk}-{d.teacher_id}-{d.class_id}",
            )
        )
    created = Enrollment.objects.bulk_create(enrollments, batch_size=2000)
    enrollment_of = {(e.teacher_id, e.project_class_id): e.pk for e in created}
    if any(pk is None for pk in enrollment_of.values()):  # backends without RETURNING
        enrollment_of = {
            (t, c): pk
            for t, c, pk in Enrollment.objects.filter(request_key__startswith=f"allocation-{run.pk}-").values_list(
                "teacher_id", "project_class_id", "pk"
            )
        }
    starter = run.started_by if run.started_by_id else None
    EnrollmentEvent.objects.bulk_create(
        (
            EnrollmentEvent(
                enrollment_id=pk,
                from_state="",
                to_state=Enrollment.State.SELECTED,
                user=starter,
                role="province" if starter else "",
                note=_("Allocated by run %(run)s") % {"run": run.pk},
            )
            for pk in enrollment_of.values()
        ),
        batch_size=2000,
    )
    AllocationResult.objects.bulk_create(
        (
            AllocationResult(
                run=run,
                teacher_id=d.teacher_id,
                school_id=inputs.schools[d.teacher_id],
                project_class_id=d.class_id,
                rank=d.rank,
                outcome=d.outcome,
                score=d.score,
                lottery=d.lottery,
                draft_round=d.draft_round,
                position=d.position,
                cutoff_score=d.cutoff_score,
                cutoff_lottery=d.cutoff_lottery,
                school_count=d.school_count,
                school_limit=d.school_limit,
                enrollment_id=enrollment_of.get((d.teacher_id, d.class_id))
                if d.outcome == algo.Outcome.ALLOCATED
                else None,
            )
            for d in result.decisions
        ),
        batch_size=2000,
    )
    placed = {d.teacher_id for d in allocated}
    applicants = {a.teacher_id for a in inputs.applicants}
    unplaced = applicants - placed
    counts = {
        "teachers": len(applicants),
        "preferences": len(result.decisions),
        "classes": len(inputs.slots),
        "allocated": len(allocated),
        "placed": len(placed),
        "unplaced": len(unplaced),
        "first_choice": sum(1 for d in allocated if d.rank == 1),
    }
    run.inputs = data
    run.inputs_digest = algo.inputs_digest(data)
    run.results_digest = result.digest()
    run.counts = counts
    run.status = AllocationRun.Status.DONE
    run.finished_at = timezone.now()
    run.message = ""
    run.save()

    link = reverse("enrollment:allocation_mine")
    notify(
        _users(uid for tid, uid in inputs.users.items() if tid in placed and uid),
        title=_("Round 1 allocation of %(term)s: you have been given a seat") % {"term": term.name},
        body=_("Your school reviews the selection next. See which preference you got and why."),
        link=link,
        kind=JOB_KIND,
    )
    notify(
        _users(uid for tid, uid in inputs.users.items() if tid in unplaced and uid),
        title=_("Round 1 allocation of %(term)s: no seat this time") % {"term": term.name},
        body=_("See the reason for each of your preferences."),
        link=link,
        kind=JOB_KIND,
    )
    # Schools review the allocated selections as usual: tell each school's staff how many await them.
    per_school: dict[int, int] = {}
    for d in allocated:
        per_school[inputs.schools[d.teacher_id]] = per_school.get(inputs.schools[d.teacher_id], 0) + 1
    staff = (
        RoleGrant.objects.filter(role=Role.SCHOOL, is_active=True, user__is_active=True, school_id__in=list(per_school))
        .values_list("school_id", "user_id")
        .order_by("school_id", "user_id")
        .distinct()
    )
    link_run = reverse("enrollment:allocation_run", args=[run.pk])
    Notification.objects.bulk_create(
        (
            Notification(
                user_id=user_id,
                title=(
                    _("Round 1 allocation of %(term)s: %(n)s selections of your teachers await review")
                    % {"term": term.name, "n": per_school[school_id]}
                )[:200],
                link=link_run,
                kind=JOB_KIND,
            )
            for school_id, user_id in staff
        ),
        batch_size=2000,
    )
    actor = actor_for_job(run.job) if run.job and run.job.params.get("grant_id") else None
    audit_record(
        actor,
        "enrollment.allocation.run",
        run,
        summary=_("%(allocated)s seats to %(placed)s of %(teachers)s teachers") % counts,
        after={
            **counts,
            "seed": str(run.seed),
            "results_digest": run.results_digest,
            "teacher_records": len(applicants),
        },
    )
    _audit_teachers(actor, run, result, inputs, enrollment_of)


TEACHER_AUDIT_ACTION = "enrollment.allocation.teacher"
AUDIT_CHUNK = 2000


def _audit_teachers(actor, run: AllocationRun, result: algo.Result, inputs: Inputs, enrollment_of: dict) -> int:
    """One audit record per applicant teacher, placed or not, in the run's transaction: what the run
    did to them (each ranked preference's outcome and reason, the score and lottery number used, the
    school share cap's effect, the enrollment made).

    Why rows in the audit log and not only a pointer to the run's outcome table
    (``AllocationResult``): the auditor's role reads the audit log and nothing else (separation of
    duties), so outcomes kept elsewhere are out of their reach; a complaint ("why did teacher X get
    nothing?") is answered by searching the log for the teacher; and the outcome table goes with its
    run while the log is append-only. Written set-wise, by COPY on PostgreSQL (``bench/allocation_run.py``
    prints the cost).
    """
    from itertools import groupby

    from peixun.core.audit import audit_entry
    from peixun.core.bulkload import load_rows
    from peixun.core.models import AuditLog

    from ..selectors_allocation import reason_text

    now = timezone.now()
    columns = [f.attname for f in AuditLog._meta.concrete_fields if not f.primary_key]

    def write(entries: list[AuditLog]) -> int:  # COPY on PostgreSQL
        for e in entries:
            e.at = now
        return load_rows(AuditLog, columns, ([getattr(e, c) for c in columns] for e in entries))

    count = 0
    batch: list[AuditLog] = []
    for teacher_id, group in groupby(result.decisions, key=lambda d: d.teacher_id):
        decisions = list(group)
        first = decisions[0]
        got = [d for d in decisions if d.outcome == algo.Outcome.ALLOCATED]
        name = inputs.names.get(teacher_id, str(teacher_id))
        if got:
            summary = _("Allocation run %(run)s: %(name)s got %(classes)s") % {
                "run": run.pk,
                "name": name,
                "classes": "、".join(
                    _("choice %(rank)s (%(class)s)")
                    % {"rank": d.rank, "class": inputs.class_names.get(d.class_id, d.class_id)}
                    for d in got
                ),
            }
        else:
            summary = _("Allocation run %(run)s: %(name)s got no seat (%(n)s preferences)") % {
                "run": run.pk,
                "name": name,
                "n": len(decisions),
            }
        preferences = []
        for d in decisions:
            pref = {
                "rank": d.rank,
                "class": d.class_id,
                "class_name": inputs.class_names.get(d.class_id, ""),
                "outcome": d.outcome,
                "reason": reason_text(d),
            }
            if d.outcome == algo.Outcome.ALLOCATED:
                pref["enrollment"] = enrollment_of.get((teacher_id, d.class_id))
            if d.cutoff_score is not None:
                pref["cutoff_score"], pref["cutoff_lottery"] = d.cutoff_score, d.cutoff_lottery
            if d.school_limit is not None:
                pref["school_count"], pref["school_limit"] = d.school_count, d.school_limit
            preferences.append(pref)
        batch.append(
            audit_entry(
                actor,
                TEACHER_AUDIT_ACTION,
                object_type="roster.teacher",
                object_id=str(teacher_id),
                summary=summary,
                after={
                    "run": run.pk,
                    "seed": str(run.seed),
                    "school": inputs.schools.get(teacher_id),
                    "score": first.score,
                    "lottery": first.lottery,
                    "place": first.position + 1,
                    "school_share_cap": run.school_share_cap,
                    "allocated": len(got),
                    "preferences": preferences,
                },
            )
        )
        if len(batch) >= AUDIT_CHUNK:
            count += write(batch)
            batch = []
    if batch:
        count += write(batch)
    return count


@dataclass
class Verification:
    same: bool
    inputs_intact: bool
    recorded_digest: str
    recomputed_digest: str
    stored_digest: str
    differences: list[dict]


def stored_decisions(run: AllocationRun) -> list[algo.Decision]:
    return [
        algo.Decision(
            teacher_id=r.teacher_id,
            class_id=r.project_class_id,
            rank=r.rank,
            outcome=r.outcome,
            score=r.score,
            lottery=r.lottery,
            draft_round=r.draft_round,
            position=r.position,
            cutoff_score=r.cutoff_score,
            cutoff_lottery=r.cutoff_lottery,
            school_count=r.school_count,
            school_limit=r.school_limit,
        )
        for r in AllocationResult.objects.filter(run=run).order_by("position", "rank").iterator(chunk_size=5000)
    ]


def allocation_verify(*, actor: Actor, run: AllocationRun) -> Verification:
    """Recompute the run from its recorded inputs and seed and compare with what it stored (no writes)."""
    require(actor, "enrollment.allocation.view")
    if run.status != AllocationRun.Status.DONE:
        raise Conflict(_("Only a finished allocation run can be verified."))
    inputs_intact = algo.inputs_digest(run.inputs) == run.inputs_digest
    slots, applicants = algo.inputs_from_json(run.inputs)
    recomputed = algo.allocate(slots, applicants, run.seed)
    stored = stored_decisions(run)
    stored_digest = algo.decisions_digest(stored)
    differences = []
    if stored_digest != recomputed.digest():
        mine = {(d.teacher_id, d.rank): d for d in stored}
        for d in recomputed.decisions:
            s = mine.pop((d.teacher_id, d.rank), None)
            if s is None or (s.class_id, s.outcome, s.lottery) != (d.class_id, d.outcome, d.lottery):
                differences.append(
                    {
                        "teacher_id": d.teacher_id,
                        "rank": d.rank,
                        "recomputed": d.outcome,
                        "stored": s.outcome if s else None,
                    }
                )
        differences.extend(
            {"teacher_id": s.teacher_id, "rank": s.rank, "recomputed": None, "stored": s.outcome} for s in mine.values()
        )
    return Verification(
        same=inputs_intact and stored_digest == recomputed.digest() == run.results_digest,
        inputs_intact=inputs_intact,
        recorded_digest=run.results_digest,
        recomputed_digest=recomputed.digest(),
        stored_digest=stored_digest,
        differences=differences[:50],
    )


def _users(ids):
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(pk__in=list(ids)).order_by("pk"))


def run_for_job(job: Job) -> AllocationRun | None:
    """The run a (retried) job belongs to, queued again if it had failed; None when nothing to do."""
    run = AllocationRun.objects.filter(pk=job.params.get("run_id")).first()
    if run is None:
        return None
    if run.status == AllocationRun.Status.FAILED:
        try:
            with transaction.atomic():
                AllocationRun.objects.filter(pk=run.pk, status=AllocationRun.Status.FAILED).update(
                    status=AllocationRun.Status.QUEUED, message=""
                )
        except IntegrityError:  # another run of the term was started meanwhile
            return None
        run.refresh_from_db()
    return run if run.status == AllocationRun.Status.QUEUED else None
