"""Demo terms for the steps of course selection that come days after round 1 opens.

A term's windows run one after another (SPEC §3), so in the current demo term only round 1 is open
when the demo is seeded. Each term here is small, clearly named (``<current term>·<step>示范``) and
has the window of its step open from the day of seeding for three days, with the data the step
needs, made through the real services at a moment inside the earlier windows (``now=``):

* 校长审核示范 — principal review round 1 is open: the demo school's teachers' selections await review.
* 扩班申请与审批示范 — 扩班 requests and their acceptance are open together, so a visitor tries the whole
  loop now: demo_institution asks for seats on a full class with a waitlist (a county class, demo_teacher
  first on its waitlist, and a provincial one), then demo_county (or demo_province) decides the request.
  A real term keeps the windows one after the other (SPEC §3); only this demo term lets them overlap.
* 扩班审批示范 — 扩班 acceptance is open: requests await the province, the city and the county
  (demo_province, demo_city, demo_county); demo_teacher is first on the county class's waitlist.
* 复核示范 — 复核 round 1 is open: approved trainees await demo_institution's confirmation.
* 第二轮选课示范 — round 2 is open: demo_teacher selected in round 1 and may select again;
  demo_principal (teacher role) did not, and is refused with the rule.
* 第二轮复核示范 — 复核 round 2 is open: round-2 selections approved by the schools await the institution.

Classes run after the current term's training window, so they never overlap the teachers' other
classes. A local random generator keeps the other apps' demo data as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from peixun.accounts.models import RoleGrant
from peixun.catalog.models import Project, ProjectClass, StaffMember
from peixun.core.roles import Role
from peixun.core.scopes import Actor
from peixun.orgs.models import Region
from peixun.roster.models import Teacher
from peixun.terms.models import Term, Window, WindowKind
from peixun.terms.windows import day_end, day_start, get_window

from . import services
from .models import Enrollment

K = WindowKind
S = Enrollment.State
STAGE = [
    K.SELECT_R1,
    K.PRINCIPAL_R1,
    K.EXPAND_REQUEST,
    K.EXPAND_ACCEPT,
    K.CONFIRM_R1,
    K.SELECT_R2,
    K.PRINCIPAL_R2,
    K.CONFIRM_R2,
]
OPEN_DAYS = 3  # the phase's window: the day of seeding and the two after
FIRST_CLASS_DAY = 160  # after the current term's training window (today + 150)


@dataclass(frozen=True)
class Phase:
    key: str
    label: str  # the term name's suffix
    open_kind: str
    note: str  # for the logins printed by seed_demo
    also_open: tuple[str, ...] = ()  # the stage windows right after ``open_kind`` open with it

    @property
    def open_kinds(self) -> tuple[str, ...]:
        return (self.open_kind, *self.also_open)


PHASES = [
    Phase(
        "review",
        "校长审核示范",
        K.PRINCIPAL_R1,
        "第1轮校长审核进行中：demo_principal / demo_school 在“选课审核”审核本校教师的选课",
    ),
    Phase(
        "expand",
        "扩班申请与审批示范",
        K.EXPAND_REQUEST,
        "扩班申请与审批同时进行（仅示范学期如此）：demo_institution 在“班期选课情况”为满员且有候补的班期申请扩班，"
        "随后 demo_county（县级班期，demo_teacher 候补第1位）或 demo_province（省级班期）在“扩班”中审批",
        also_open=(K.EXPAND_ACCEPT,),
    ),
    Phase(
        "accept",
        "扩班审批示范",
        K.EXPAND_ACCEPT,
        "扩班审批进行中：demo_county / demo_city / demo_province 在“扩班”中审批（demo_teacher 候补第1位）",
    ),
    Phase("confirm", "复核示范", K.CONFIRM_R1, "第1轮复核进行中：demo_institution 确认或退回学员，打印、导出名单"),
    Phase(
        "round2",
        "第二轮选课示范",
        K.SELECT_R2,
        "第2轮选课进行中：demo_teacher 第1轮已选，可再选；demo_principal（教师角色）第1轮未选，不能选",
    ),
    Phase("confirm2", "第二轮复核示范", K.CONFIRM_R2, "第2轮复核进行中：demo_institution 复核第2轮选课的学员"),
]


def phase_windows(open_kind: str, also_open: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """Day offsets (first, last) of every window: ``open_kind`` (and the stage windows ``also_open`` right
    after it) span today and the next two days, the stage windows before two days each up to yesterday,
    the ones after two days each from then on."""
    i = STAGE.index(open_kind)
    last = i + len(also_open)
    if tuple(STAGE[i + 1 : last + 1]) != tuple(also_open):
        raise ValueError("also_open: the stage windows right after open_kind, in order")
    days: dict[str, tuple[int, int]] = {}
    for j, kind in enumerate(STAGE):
        if j < i:
            first = -2 * (i - j)
            days[kind] = (first, first + 1)
        elif j <= last:
            days[kind] = (0, OPEN_DAYS - 1)
        else:
            first = OPEN_DAYS + 2 * (j - last - 1)
            days[kind] = (first, first + 1)
    start = days[STAGE[0]][0]
    days[K.PROJECT_APPLY] = (start - 14, start - 10)
    days[K.PROJECT_REVIEW] = (start - 9, start - 5)
    days[K.PUBLICATION] = (start - 4, start - 4)
    days[K.TRAINING] = (FIRST_CLASS_DAY - 5, FIRST_CLASS_DAY + 60)
    return days


class Builder:
    def __init__(self, ctx, phase_no: int, phase: Phase):
        self.ctx, self.phase, self.no = ctx, phase, phase_no
        self.rng = random.Random(7100 + phase_no)
        current: Term = ctx.data["term"]
        today = ctx.today
        self.term = Term.objects.create(
            code=f"{current.code.replace('H', 'D', 1)}-{phase_no + 1}",
            name=f"{current.name}·{phase.label}",
        )
        Window.objects.bulk_create(
            Window(
                term=self.term,
                kind=kind,
                starts_at=day_start(today + timedelta(days=first)),
                ends_at=day_end(today + timedelta(days=last)),
            )
            for kind, (first, last) in phase_windows(phase.open_kind, phase.also_open).items()
        )
        self.term = Term.objects.prefetch_related("windows").get(pk=self.term.pk)
        self.classes = 0

    def at(self, kind: str) -> datetime | None:
        """A moment inside ``kind`` (None: the window is open now, act at the real time)."""
        window = get_window(self.term, kind)
        if window.starts_at <= timezone.now() < window.ends_at:
            return None
        return window.starts_at + timedelta(hours=10)

    def project(self, name: str, institution, region: Region, level: str, classes: list[int], leader) -> list:
        n = Project.objects.filter(term=self.term).count() + 1
        project = Project.objects.create(
            term=self.term,
            institution=institution,
            code=f"{self.term.code}-{institution.code}-{n:03d}",
            name=name,
            theme="课堂教学改进",
            field="subject_teaching",
            subject_category="general",
            level=level,
            region=region,
            credit_category="tongchou",
            format="face",
            days=2,
            hours_offline=Decimal("16"),
            credits=Decimal("1.6"),
            goals="提升课堂教学设计与实施能力",
            content="专题讲座、课例观摩、分组研讨",
            fee_total=Decimal("800"),
            fee_training=Decimal("500"),
            fee_accommodation=Decimal("200"),
            fee_meals=Decimal("100"),
            leader=leader,
            status=Project.Status.PUBLISHED,
            submitted_at=timezone.now(),
            published_at=timezone.now(),
        )
        out = []
        for number, capacity in enumerate(classes, start=1):
            first = self.ctx.today + timedelta(days=FIRST_CLASS_DAY + 8 * self.no + 3 * self.classes)
            self.classes += 1
            out.append(
                ProjectClass.objects.create(
                    project=project,
                    number=number,
                    starts_on=first,
                    ends_on=first + timedelta(days=1),
                    place=f"{institution.name}培训楼",
                    capacity=capacity,
                )
            )
        return out


class People:
    """The demo's actors: teachers (demo_teacher first), their schools' reviewers, bureaus, the institution."""

    def __init__(self, ctx):
        self.demo_teacher: Teacher = ctx.data["demo_teacher"]
        school = self.demo_teacher.school
        grants = RoleGrant.objects.select_related("user", "region", "school", "institution").filter(is_active=True)
        self.by_name = {g.user.username: Actor.from_grant(g) for g in grants.filter(user__username__startswith="demo_")}
        self.institution = self.by_name["demo_institution"]
        self.reviewers: dict[int, Actor] = {}
        for g in grants.filter(role=Role.SCHOOL).order_by("pk"):
            self.reviewers.setdefault(g.school_id, Actor.from_grant(g))
        self.reviewers[school.pk] = self.by_name["demo_school"]
        teachers = list(
            Teacher.objects.filter(status=Teacher.Status.ACTIVE, user__isnull=False)
            .select_related("school__county")
            .order_by("pk")
        )
        principal_user = self.by_name["demo_principal"].user
        self.principal_teacher = next(t for t in teachers if t.user_id == principal_user.pk)
        home = [t for t in teachers if t.school_id == school.pk and t.pk != self.principal_teacher.pk]
        self.home = [self.demo_teacher] + [t for t in home if t.pk != self.demo_teacher.pk][:9]
        taken = {t.pk for t in self.home} | {self.principal_teacher.pk}
        self.crowd = [t for t in teachers if t.pk not in taken]
        teacher_grants = grants.filter(role=Role.TEACHER, user_id__in=[t.user_id for t in self.home + self.crowd])
        self._actors = {g.user_id: Actor.from_grant(g) for g in teacher_grants}

    def actor(self, teacher: Teacher) -> Actor:
        return self._actors[teacher.user_id]

    def others(self, rng: random.Random, n: int) -> list[Teacher]:
        return rng.sample(self.crowd, min(n, len(self.crowd)))

    def select(self, teacher: Teacher, pc: ProjectClass, now) -> Enrollment:
        return services.enrollment_select(actor=self.actor(teacher), project_class=pc, now=now)

    def approve(self, enrollments: list[Enrollment], now) -> None:
        by_school: dict[int, list[int]] = {}
        for e in enrollments:
            if e.state == S.SELECTED:
                by_school.setdefault(e.teacher.school_id, []).append(e.pk)
        for school_id, ids in by_school.items():
            services.enrollments_review(actor=self.reviewers[school_id], enrollments=ids, decision="approve", now=now)


def _fill(people: People, pc: ProjectClass, teachers: list[Teacher], now) -> list[Enrollment]:
    return [people.select(t, pc, now) for t in teachers]


def seed(ctx) -> None:
    if "term" not in ctx.data or ctx.data.get("demo_teacher") is None:
        return
    people = People(ctx)
    institution = people.institution.institution
    leader = StaffMember.objects.filter(institution=institution, is_formal_employee=True).order_by("pk").first()
    province = people.by_name["demo_province"]
    city, county = people.by_name["demo_city"], people.by_name["demo_county"]
    teacher = people.demo_teacher
    made = []
    for no, phase in enumerate(PHASES):
        b = Builder(ctx, no, phase)
        rng = b.rng
        r1 = b.at(K.SELECT_R1)
        if phase.key == "review":
            # Round 1 closed yesterday; the demo school's selections wait for the principal.
            big, small = b.project(
                "课堂观察与教学改进（校长审核示范）", institution, province.region, "provincial", [30, 6], leader
            )[:2]
            _fill(people, big, people.home[:7], r1)
            _fill(people, small, people.home[7:9] + people.others(rng, 4), r1)
            crowd = _fill(people, big, people.others(rng, 10), r1)
            people.approve(crowd[:6], r1)  # other schools reviewed as selections arrived
        elif phase.key == "expand":
            # Full classes with waitlists; schools approved the seats; demo_institution may ask for 扩班 and
            # the responsible bureau decide it at once (demo_county the county class, demo_province the other).
            for title, region, level, capacity, first in (
                ("县级培训：班级管理与家校沟通（扩班申请与审批示范）", county.region, "county", 8, [teacher]),
                ("省级培训：作业设计与评价（扩班申请与审批示范）", province.region, "provincial", 6, []),
            ):
                (pc,) = b.project(title, institution, region, level, [capacity], leader)
                seated = _fill(people, pc, people.others(rng, capacity), r1)
                _fill(people, pc, first + people.others(rng, 4 - len(first)), r1)
                people.approve(seated, b.at(K.PRINCIPAL_R1))
        elif phase.key == "accept":
            # Requests await each level of bureau; the seats will go to the waitlist in order.
            plan = [
                ("县级培训：新教师课堂常规（扩班审批示范）", county.region, "county", 8, [teacher]),
                ("市级培训：学科教研能力（扩班审批示范）", city.region, "city", 8, []),
                ("省级培训：教育家精神专题（扩班审批示范）", province.region, "provincial", 10, []),
            ]
            for title, region, level, capacity, first in plan:
                (pc,) = b.project(title, institution, region, level, [capacity], leader)
                seated = _fill(people, pc, people.others(rng, capacity), r1)
                _fill(people, pc, first + people.others(rng, 4 - len(first)), r1)
                people.approve(seated, b.at(K.PRINCIPAL_R1))
                pc.refresh_from_db()
                services.expansion_request(
                    actor=people.institution,
                    project_class=pc,
                    seats=3,
                    reason="报名踊跃，候补教师较多，申请增加名额",
                    now=b.at(K.EXPAND_REQUEST),
                )
        elif phase.key == "confirm":
            # Approved trainees (demo_teacher among them) wait for 复核; a few are confirmed already.
            big, small = b.project(
                "信息技术支持的课堂教学（复核示范）", institution, province.region, "provincial", [20, 8], leader
            )
            rows = _fill(people, big, [teacher, *people.home[1:4], *people.others(rng, 10)], r1)
            rows += _fill(people, small, people.others(rng, 6), r1)
            people.approve(rows, b.at(K.PRINCIPAL_R1))
            services.enrollments_confirm(
                actor=people.institution,
                enrollments=[e.pk for e in rows[-3:]],
                decision="approve",
                now=b.at(K.CONFIRM_R1),
            )
        elif phase.key == "round2":
            # Round 1 is over (demo_teacher's class confirmed); round 2 is open to those who selected in round 1.
            (first,) = b.project(
                "教学评一体化设计（第二轮选课示范）", institution, province.region, "provincial", [12], leader
            )
            rows = _fill(people, first, [teacher, *people.home[1:3], *people.others(rng, 8)], r1)
            people.approve(rows, b.at(K.PRINCIPAL_R1))
            services.enrollments_confirm(
                actor=people.institution, enrollments=[e.pk for e in rows], decision="approve", now=b.at(K.CONFIRM_R1)
            )
            # Round 2's classes; colleagues already chose one: the school may review them now.
            (second,) = b.project(
                "跨学科主题学习设计（第二轮选课示范）", institution, province.region, "provincial", [30], leader
            )
            b.project(
                "课堂提问与学生思维培养（第二轮选课示范）", institution, province.region, "provincial", [25], leader
            )
            for t in people.home[1:3]:
                people.select(t, second, b.at(K.SELECT_R2))
        elif phase.key == "confirm2":
            # Round 1 confirmed; round-2 selections (demo_teacher's among them) approved, awaiting 复核 round 2.
            (first,) = b.project(
                "作业设计与学情分析（第二轮复核示范）", institution, province.region, "provincial", [20], leader
            )
            rows = _fill(people, first, [teacher, *people.home[1:3], *people.others(rng, 6)], r1)
            people.approve(rows, b.at(K.PRINCIPAL_R1))
            services.enrollments_confirm(
                actor=people.institution, enrollments=[e.pk for e in rows], decision="approve", now=b.at(K.CONFIRM_R1)
            )
            (second,) = b.project(
                "单元整体教学设计（第二轮复核示范）", institution, province.region, "provincial", [20], leader
            )
            round2 = _fill(people, second, [r.teacher for r in rows], b.at(K.SELECT_R2))
            people.approve(round2, b.at(K.PRINCIPAL_R2))
        made.append(b.term)
        ctx.notes.append(f"  {b.term.name}  {phase.note}")
    ctx.data["phase_terms"] = made
