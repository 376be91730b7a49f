"""Demo results on the class rosters that exist when this runs, through the services.

Finished classes with a roster (confirmed enrollments) get results in every state: most are
approved (so teachers have credits from training projects), some await review, one was
returned for correction, one had its approval cancelled, some are still being entered;
started classes that have not ended are being entered.

Rosters come from the enrollment demo. While it confirms nobody in finished classes, this
gives the finished classes of earlier terms a roster of its own (confirmed enrollments taking
seats through ``enrollment.seats``), one class per teacher, so results and credits from
training projects exist; the demo teacher gets two. Without finished classes it does nothing.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, Q
from django.utils import timezone

from peixun.accounts.models import RoleGrant
from peixun.catalog.models import ProjectClass
from peixun.core.demo_accounts import demo_user
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor
from peixun.enrollment import seats
from peixun.enrollment.models import Enrollment
from peixun.roster.models import Teacher

from . import services
from .models import ResultSheet

REMARKS_PARTIAL = ["请假一天", "因公缺课半天", "线上模块未全部完成", "迟到早退两次"]
REMARKS_FAIL = ["未提交培训作业", "缺勤超过三分之一", "考核未通过", "未参加结业考核"]
RETURN_REASONS = ["部分学员学时与签到记录不符，请核对后重新提交。", "不合格学员请在备注中写明原因。"]
CANCEL_REASON = "学员学时登记有误，取消审核后更正"


def _actor(role: str, **scope) -> Actor | None:
    grant = (
        RoleGrant.objects.select_related("user", "region", "school", "institution")
        .filter(role=role, is_active=True, **scope)
        .order_by("user__username")
        .first()
    )
    return Actor.from_grant(grant) if grant else None


def _half(value: Decimal) -> Decimal:
    return (value * 2).to_integral_value(rounding=ROUND_DOWN) / 2


def _rows(ctx, sheet: ResultSheet, *, demo_teacher_id: int | None, complete: bool = True) -> list[dict]:
    rng = ctx.rng
    plan_offline, plan_online = services.planned_hours(sheet.project_class.project)
    rows = []
    for r in sheet.results.order_by("pk"):
        if not complete and rng.random() < 0.4:
            continue  # still to be entered
        roll = 0.0 if r.teacher_id == demo_teacher_id else rng.random()
        offline, online, passed, remarks = plan_offline, plan_online, True, ""
        if roll > 0.93:
            share = Decimal(str(rng.uniform(0.3, 0.6)))
            offline, online = _half(plan_offline * share), _half(plan_online * share)
            passed, remarks = False, rng.choice(REMARKS_FAIL)
        elif roll > 0.78:
            share = Decimal(str(rng.uniform(0.7, 0.95)))
            offline, online = _half(plan_offline * share), _half(plan_online * share)
            remarks = rng.choice(REMARKS_PARTIAL)
        if passed and offline + online <= 0:
            offline, online = plan_offline, plan_online
        rows.append(
            {"id": r.pk, "hours_offline": offline, "hours_online": online, "passed": passed, "remarks": remarks}
        )
    return rows


def _rosters_for_finished_classes(ctx) -> None:
    """Confirmed enrollments for finished classes when the enrollment demo left them empty."""
    today = ctx.today
    finished = list(
        ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES, ends_on__lt=today)
        .select_related("project")
        .order_by("ends_on", "pk")
    )
    if not finished or Enrollment.objects.filter(project_class__in=finished).exists():
        return
    rng = ctx.rng
    demo_teacher = ctx.data.get("demo_teacher")
    pool = list(
        Teacher.objects.filter(status=Teacher.Status.ACTIVE)
        .exclude(pk=demo_teacher.pk if demo_teacher else None)
        .order_by("pk")
        .values_list("pk", "stage")
    )
    rng.shuffle(pool)
    used: set[int] = set()
    when = timezone.now()
    rows: list[Enrollment] = []
    demo_classes = [
        c for c in finished if not c.project.stage_list or (demo_teacher and demo_teacher.stage in c.project.stage_list)
    ]
    demo_picks = {demo_classes[0].pk, demo_classes[-1].pk} if demo_teacher and len(demo_classes) > 1 else set()
    for project_class in finished:
        stages = set(project_class.project.stage_list)
        wanted = min(project_class.capacity - project_class.seats_taken, rng.randint(8, 16))
        chosen = []
        if project_class.pk in demo_picks and wanted > 0:
            chosen.append(demo_teacher.pk)
        for pk, stage in pool:
            if len(chosen) >= wanted:
                break
            if pk in used or (stages and stage not in stages):
                continue
            chosen.append(pk)
            used.add(pk)
        if not chosen or not seats.take_seats(project_class.pk, len(chosen)):
            continue
        rows += [
            Enrollment(
                teacher_id=pk,
                project_class=project_class,
                state=Enrollment.State.CONFIRMED,
                decided_at=when,
            )
            for pk in chosen
        ]
    Enrollment.objects.bulk_create(rows)


def seed(ctx) -> None:
    today = ctx.today
    _rosters_for_finished_classes(ctx)
    classes = list(
        ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES, starts_on__lte=today)
        .annotate(roster=Count("enrollments", filter=Q(enrollments__state="confirmed")))
        .filter(roster__gt=0)
        .select_related("project", "project__institution")
        .order_by("project__institution__code", "ends_on", "pk")
    )
    if not classes:
        return
    demo_teacher = ctx.data.get("demo_teacher")
    demo_teacher_id = demo_teacher.pk if demo_teacher is not None else None
    actors: dict[int, tuple[Actor | None, Actor | None]] = {}

    def actors_for(project_class: ProjectClass) -> tuple[Actor | None, Actor | None]:
        institution = project_class.project.institution
        if institution.pk not in actors:
            clerk = _actor(Role.INSTITUTION, institution_id=institution.pk)
            reviewer = _actor(Role.INSTITUTION_REVIEWER, institution_id=institution.pk)
            if reviewer is None:
                demo_user(
                    f"demo_reviewer_{institution.code.lower()}",
                    f"{institution.name}成绩审核员",
                    role=Role.INSTITUTION_REVIEWER,
                    institution=institution,
                )
                reviewer = _actor(Role.INSTITUTION_REVIEWER, institution_id=institution.pk)
            actors[institution.pk] = (clerk, reviewer)
        return actors[institution.pk]

    finished = [c for c in classes if c.ends_on < today]
    running = [c for c in classes if c.ends_on >= today]
    # A fixed pattern of states over the finished classes: mostly approved.
    pattern = [
        "approved",
        "approved",
        "submitted",
        "approved",
        "draft",
        "approved",
        "returned",
        "approved",
        "cancelled",
    ]
    for i, project_class in enumerate(finished):
        clerk, reviewer = actors_for(project_class)
        if clerk is None or reviewer is None:
            continue
        has_demo_teacher = (
            demo_teacher_id is not None and project_class.enrollments.filter(teacher_id=demo_teacher_id).exists()
        )
        state = "approved" if has_demo_teacher else pattern[i % len(pattern)]
        sheet = services.sheet_open(actor=clerk, project_class=project_class)
        rows = _rows(ctx, sheet, demo_teacher_id=demo_teacher_id, complete=state != "draft")
        services.results_save(actor=clerk, sheet=sheet, rows=rows)
        if state == "draft":
            continue
        services.sheet_submit(actor=clerk, sheet=sheet)
        if state == "submitted":
            continue
        if state == "returned":
            services.sheet_return(actor=reviewer, sheet=sheet, reason=ctx.rng.choice(RETURN_REASONS))
            continue
        services.sheet_approve(actor=reviewer, sheet=sheet)
        if state == "cancelled":
            services.sheet_cancel_approval(actor=reviewer, sheet=sheet, reason=CANCEL_REASON)
    for project_class in running[:6]:
        clerk, _reviewer = actors_for(project_class)
        if clerk is None:
            continue
        sheet = services.sheet_open(actor=clerk, project_class=project_class)
        services.results_save(
            actor=clerk, sheet=sheet, rows=_rows(ctx, sheet, demo_teacher_id=demo_teacher_id, complete=False)
        )
