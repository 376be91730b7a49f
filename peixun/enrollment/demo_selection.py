"""Demo enrollments in every state.

* Last spring's finished classes: confirmed rosters (with some declined, rejected and withdrawn
  selections), cancelled enrollments of the project deleted after publication, one accepted 扩班.
* This term's running classes (started): confirmed rosters, so results and misconduct reports
  have trainees.
* This term's published classes: selection round 1 is open, so teachers select through the real
  service (eligibility, seats, waitlists on the small classes); schools have reviewed part of them
  (approved / rejected) and a few teachers withdrew. The demo school keeps selections to review,
  and demo_teacher has a selection, a waitlist place and a withdrawal — and may still select one more.

Rows that belong to windows which are closed (last term) or not yet open (复核 of this term) are
written directly, always through ``seats`` so that counters equal the seat-holding rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.utils import timezone

from peixun.accounts.models import RoleGrant
from peixun.catalog.models import Project, ProjectClass
from peixun.core.errors import DomainError
from peixun.core.roles import Role
from peixun.core.scopes import Actor
from peixun.roster.models import Teacher
from peixun.terms.models import Term

from . import seats, services
from .models import ClassExpansion, Enrollment, EnrollmentEvent

S = Enrollment.State
REASONS_REJECT = ["本学期教学任务重，建议下学期参训", "与学校教研活动时间冲突", "已参加同类培训，请选择其他项目"]
REASONS_DECLINE = ["学段与培训对象不符", "未按要求提交参训回执"]
REASONS_WITHDRAW = ["家中有事无法参训", "与学校期中考试时间冲突", "已选择其他更合适的项目"]


def _fits(teacher: Teacher, project: Project, regions: dict[int, list]) -> bool:
    if project.stage_list and teacher.stage not in project.stage_list:
        return False
    if project.subject_list and teacher.subject not in project.subject_list:
        return False
    if project.rural_only and not (teacher.school.is_rural or teacher.school.is_remote):
        return False
    targets = regions.get(project.pk) or []
    county = teacher.school.county
    return not targets or any(county.path.startswith(r.path) or r.path.startswith(county.path) for r in targets)


class Book:
    """Which dates and how many classes each teacher already holds (no overlaps, at most 3 a term)."""

    def __init__(self):
        self.spans: dict[int, list[tuple]] = defaultdict(list)
        self.per_term: dict[tuple[int, int], int] = defaultdict(int)
        self.caps: dict[tuple[int, int], int] = {}

    def free(self, teacher: Teacher, pc: ProjectClass) -> bool:
        key = (teacher.pk, pc.project.term_id)
        if self.per_term[key] >= self.caps.get(key, pc.project.term.per_teacher_limit):
            return False
        return all(pc.ends_on < a or pc.starts_on > b for a, b in self.spans[teacher.pk])

    def take(self, teacher: Teacher, pc: ProjectClass) -> None:
        self.spans[teacher.pk].append((pc.starts_on, pc.ends_on))
        self.per_term[(teacher.pk, pc.project.term_id)] += 1


def _write(pc: ProjectClass, teacher: Teacher, path: list[str], *, reason: str = "", round_: int = 1, when=None):
    """Write an enrollment that went through ``path`` of states (e.g. selected → approved → confirmed)."""
    final = path[-1]
    if final in Enrollment.SEAT_HOLDING and not seats.take_seat(pc.pk):
        return None
    when = when or timezone.now()
    e = Enrollment.objects.create(
        teacher=teacher,
        project_class=pc,
        round=round_,
        state=final,
        reason=reason if final in (S.REJECTED, S.DECLINED, S.WITHDRAWN, S.CANCELLED) else "",
        decided_at=when if len(path) > 1 else None,
    )
    EnrollmentEvent.objects.bulk_create(
        EnrollmentEvent(enrollment=e, from_state=prev, to_state=state, note=reason if state == final else "")
        for prev, state in zip(["", *path[:-1]], path)
    )
    return e


def _rosters(ctx, classes, teachers, regions, book, *, home: list[Teacher], fill=(0.6, 0.9), history=True) -> int:
    """Confirmed rosters for classes whose selection is over, home-school teachers first."""
    rng = ctx.rng
    made = 0
    for pc in classes:
        target = max(1, int(pc.capacity * rng.uniform(*fill)))
        fitting = [t for t in home if _fits(t, pc.project, regions) and book.free(t, pc)][:2]
        others = [t for t in rng.sample(teachers, min(len(teachers), 400)) if t not in fitting]
        for t in fitting + others:
            if made and pc.seats_taken >= target:
                break
            if t.status != Teacher.Status.ACTIVE or not _fits(t, pc.project, regions) or not book.free(t, pc):
                continue
            roll = rng.random()
            if history and roll < 0.04:
                _write(pc, t, [S.SELECTED, S.REJECTED], reason=rng.choice(REASONS_REJECT))
                continue
            if history and roll < 0.07:
                _write(pc, t, [S.SELECTED, S.APPROVED, S.DECLINED], reason=rng.choice(REASONS_DECLINE))
                continue
            if history and roll < 0.10:
                _write(pc, t, [S.SELECTED, S.WITHDRAWN], reason=rng.choice(REASONS_WITHDRAW))
                continue
            if _write(pc, t, [S.SELECTED, S.APPROVED, S.CONFIRMED], round_=1 if roll < 0.85 else 2):
                pc.seats_taken += 1
                book.take(t, pc)
                made += 1
    return made


def _actors_for(role: str, **scope) -> dict:
    grants = RoleGrant.objects.select_related("user", "region", "school", "institution").filter(
        role=role, is_active=True, **scope
    )
    return {g: Actor.from_grant(g) for g in grants}


def seed(ctx) -> None:
    term: Term | None = ctx.data.get("term")
    past: Term | None = ctx.data.get("past_term")
    teachers: list[Teacher] = list(
        Teacher.objects.filter(status=Teacher.Status.ACTIVE).select_related("school__county").order_by("pk")
    )
    if term is None or not teachers:
        return
    rng, today = ctx.rng, ctx.today
    schools = ctx.data.get("schools") or []
    home = (
        [t for t in teachers if t.school_id == schools[0].pk and t.post != Teacher.Post.PRINCIPAL][:10]
        if schools
        else []
    )
    demo_teacher = ctx.data.get("demo_teacher")
    classes = list(
        ProjectClass.objects.filter(project__term__in=[t for t in (term, past) if t is not None])
        .select_related("project__term", "project__institution")
        .order_by("starts_on", "pk")
    )
    regions: dict[int, list] = defaultdict(list)
    for project in Project.objects.filter(pk__in={pc.project_id for pc in classes}).prefetch_related("target_regions"):
        regions[project.pk] = list(project.target_regions.all())
    book = Book()

    # 1. Last spring: finished classes have their rosters; the deleted project's enrollments were cancelled.
    past_classes = [pc for pc in classes if past is not None and pc.project.term_id == past.pk]
    finished = [pc for pc in past_classes if pc.project.status == Project.Status.FINISHED]
    _rosters(ctx, finished, teachers, regions, book, home=home)
    for pc in past_classes:
        if pc.project.status == Project.Status.DELETED:
            fitting = [t for t in teachers if _fits(t, pc.project, regions) and book.free(t, pc)]
            for t in rng.sample(fitting, min(len(fitting), 6)):
                _write(pc, t, [S.SELECTED, S.APPROVED, S.CONFIRMED, S.CANCELLED], reason=pc.project.delete_reason)
    if finished:
        _past_expansion(ctx, finished[0])

    # 2. This term's classes that have started: confirmed rosters (selection, review and 复核 are over).
    current = [pc for pc in classes if pc.project.term_id == term.pk]
    running = [pc for pc in current if pc.starts_on <= today and pc.project.status in ("published", "running")]
    if demo_teacher is not None:  # demo_teacher's places this term are made below, leaving room to select now
        book.caps[(demo_teacher.pk, term.pk)] = 0
    _rosters(ctx, running, teachers, regions, book, home=home, fill=(0.7, 0.95), history=False)

    # 3. Round 1 is open: teachers select through the service; schools review part of it.
    if term.selection_mode == Term.SelectionMode.FAIR:
        return
    open_classes = [pc for pc in current if pc.starts_on > today and pc.project.status == Project.Status.PUBLISHED]
    if not open_classes:
        return
    teacher_actors = {g.user_id: a for g, a in _actors_for(Role.TEACHER, user__teacher__isnull=False).items()}
    made: list[Enrollment] = []

    def select(t: Teacher, pc: ProjectClass) -> Enrollment | None:
        actor = teacher_actors.get(t.user_id)
        if actor is None:
            return None
        try:
            e = services.enrollment_select(actor=actor, project_class=pc, request_key=f"demo-{t.pk}-{pc.pk}")
        except DomainError:
            return None
        made.append(e)
        return e

    # demo_teacher: a selection, a waitlist place on a full small class, a withdrawal; one more is possible.
    if demo_teacher is not None:
        mine = [pc for pc in open_classes if _fits(demo_teacher, pc.project, regions)]
        small = [pc for pc in mine if pc.capacity <= 8]
        if small:
            full = small[0]
            for t in [t for t in teachers if t.pk != demo_teacher.pk and _fits(t, full.project, regions)][
                : full.capacity
            ]:
                select(t, full)
            select(demo_teacher, full)
        rest = [pc for pc in mine if not small or pc.pk != small[0].pk]
        # one selection withdrawn again, one kept (the school approves it below)
        for keep in (False, True):
            for pc in rest:
                e = select(demo_teacher, pc)
                if e is not None and e.state == S.SELECTED:
                    rest.remove(pc)
                    if not keep:
                        services.enrollment_withdraw(
                            actor=teacher_actors[demo_teacher.user_id], enrollment=e, reason=REASONS_WITHDRAW[1]
                        )
                    break

    waited = {e.project_class_id for e in made if e.state == S.WAITLISTED}  # demo_teacher's queue stays as it is

    # Home-school colleagues and a crowd across the province.
    crowd = [t for t in home if demo_teacher is None or t.pk != demo_teacher.pk] + rng.sample(
        teachers, min(len(teachers), 350)
    )
    for t in crowd:
        options = [pc for pc in open_classes if _fits(t, pc.project, regions)]
        for pc in rng.sample(options, min(len(options), rng.choice([1, 1, 2]))):
            select(t, pc)
    # Some small classes fill up and keep a waitlist.
    for pc in [pc for pc in open_classes if pc.capacity <= 8][1:4]:
        fitting = [t for t in teachers if _fits(t, pc.project, regions)]
        for t in rng.sample(fitting, min(len(fitting), pc.capacity + 3)):
            select(t, pc)

    # Schools have started reviewing (allowed while selection is open); the demo school keeps some to do.
    school_actors: dict[int, Actor] = {}
    for grant, actor in _actors_for(Role.SCHOOL).items():
        school_actors.setdefault(grant.school_id, actor)
    pending = [e for e in made if Enrollment.objects.filter(pk=e.pk, state=S.SELECTED).exists()]
    by_school: dict[int, list[Enrollment]] = defaultdict(list)
    for e in pending:
        by_school[e.teacher.school_id].append(e)
    first_school = schools[0].pk if schools else None
    for school_id, rows in by_school.items():
        actor = school_actors.get(school_id)
        if actor is None:
            continue
        keep = 4 if school_id == first_school else 0
        demo_id = demo_teacher.pk if demo_teacher else None
        # demo_teacher's own selection is approved; others of the demo school wait for review
        decided = [e for e in rows if e.teacher_id == demo_id] + [e for e in rows if e.teacher_id != demo_id][keep:]
        for e in decided:
            roll = rng.random()
            if e.teacher_id != demo_id and roll < 0.35:
                continue  # not reviewed yet
            if e.teacher_id != demo_id and roll < 0.45 and e.project_class_id not in waited:
                services.enrollments_review(
                    actor=actor, enrollments=[e.pk], decision="reject", reason=rng.choice(REASONS_REJECT)
                )
            else:
                services.enrollments_review(actor=actor, enrollments=[e.pk], decision="approve")
    # A few changed their minds (not on demo_teacher's waitlisted class: the place there stays a waitlist place).
    others = [e for e in made if e.project_class_id not in waited]
    for e in rng.sample(others, min(len(others), 8)):
        e.refresh_from_db()
        if e.state in (S.SELECTED, S.APPROVED, S.WAITLISTED) and (
            demo_teacher is None or e.teacher_id != demo_teacher.pk
        ):
            actor = teacher_actors.get(e.teacher.user_id)
            if actor is not None:
                services.enrollment_withdraw(actor=actor, enrollment=e, reason=rng.choice(REASONS_WITHDRAW))


def _past_expansion(ctx, pc: ProjectClass) -> None:
    """Last spring's accepted 扩班 on one class (its history for institution and bureau pages)."""
    from peixun.accounts.models import User

    requester = User.objects.filter(
        grants__role=Role.INSTITUTION, grants__institution=pc.project.institution_id
    ).first()
    decider = User.objects.filter(grants__role=Role.PROVINCE).order_by("pk").first()
    if requester is None:
        return
    extra = 5
    capacity_before = pc.capacity
    seats.add_capacity(pc.pk, extra)
    when = timezone.make_aware(datetime.combine(pc.starts_on - timedelta(days=30), time(10, 0)))
    ClassExpansion.objects.create(
        project_class=pc,
        seats_requested=extra + 3,
        seats_accepted=extra,
        reason="报名人数远超计划，申请增加名额",
        status=ClassExpansion.Status.PARTLY,
        capacity_before=capacity_before,
        promoted=0,
        requested_by=requester,
        decided_by=decider,
        decided_at=when,
        decision_note="场地容量有限，同意增加5人",
    )
    ClassExpansion.objects.filter(project_class=pc).update(requested_at=when - timedelta(days=1))
