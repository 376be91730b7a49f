"""Demo spot checks and misconduct reports on the classes that exist when this runs (through the services)."""

from __future__ import annotations

from datetime import timedelta

from peixun.accounts.models import RoleGrant
from peixun.catalog.models import ProjectClass
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor
from peixun.roster.models import Teacher

from . import services
from .models import MisconductReport, Rating, SpotCheck
from .selectors import trainee_in_class

FINDINGS = {
    Rating.EXCELLENT: [
        "课程安排与公布的课表一致，专家按时到位，学员签到率100%，课堂研讨气氛热烈。",
        "分组研课环节组织细致，作业与课堂实践结合紧密，学员反馈满意度高。",
    ],
    Rating.GOOD: [
        "课程按计划实施，个别专题讲座时间略有压缩；学员考勤记录完整。",
        "教学组织有序，住宿与就餐安排符合方案；建议增加学员互动环节。",
    ],
    Rating.PASS: [
        "授课专家与公布名单有一人不符，已临时替换但未报备；考勤记录存在补签现象。",
        "线上学习平台多次卡顿，部分学员未能按时完成线上模块；班主任跟进不及时。",
    ],
    Rating.FAIL: [
        "现场抽查时实到学员不足应到人数的六成，课程表与实际授课内容严重不符。",
        "未按方案提供住宿，另行向学员收取资料费，违反收费规定。",
    ],
}
ANSWERS = [
    "已对相关情况进行核查并整改：补充报备授课专家变更，完善考勤管理制度，后续班期由班主任每日核对签到。",
    "已与平台服务商沟通完成扩容，并为受影响学员延长线上学习时间一周。",
]
MISCONDUCT = {
    MisconductReport.Kind.ABSENCE: "无故缺席全天课程，未履行请假手续，联系本人未果。",
    MisconductReport.Kind.EARLY_LEAVE: "下午课程未结束即提前离开培训地点，未向班主任请假。",
    MisconductReport.Kind.DISCIPLINE: "多次在课堂上处理与培训无关的事务，经提醒后仍不改正，影响课堂秩序。",
    MisconductReport.Kind.OTHER: "未按要求提交培训作业与研修总结。",
}


def _actor(role: str, **scope) -> Actor | None:
    """The first (by username) user acting in ``role`` on this scope: demo_* accounts sort first."""
    grant = (
        RoleGrant.objects.select_related("user", "region", "school", "institution")
        .filter(role=role, is_active=True, **scope)
        .order_by("user__username")
        .first()
    )
    return Actor.from_grant(grant) if grant else None


def seed(ctx) -> None:
    classes = list(
        ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES)
        .select_related("project", "project__institution", "project__term")
        .order_by("project__institution__code", "starts_on", "pk")
    )
    monitor = _actor(Role.MONITOR)
    if not classes or monitor is None:
        return
    rng, today = ctx.rng, ctx.today
    institution_actors: dict[int, Actor | None] = {}

    def institution_actor(project_class: ProjectClass) -> Actor | None:
        institution_id = project_class.project.institution_id
        if institution_id not in institution_actors:
            institution_actors[institution_id] = _actor(Role.INSTITUTION, institution_id=institution_id)
        return institution_actors[institution_id]

    # Spot checks: the first institution's classes first (the demo institution has findings to answer).
    first_institution = classes[0].project.institution_id
    chosen = [c for c in classes if c.project.institution_id == first_institution][:3]
    others = [c for c in classes if c not in chosen]
    chosen += rng.sample(others, min(len(others), 11))
    checks = []
    for n, project_class in enumerate(chosen):
        started = project_class.starts_on <= today
        if started:
            last = min(project_class.ends_on, today)
            checked_on = project_class.starts_on + timedelta(days=rng.randint(0, (last - project_class.starts_on).days))
            method = rng.choice([SpotCheck.Method.ON_SITE, SpotCheck.Method.ON_SITE, SpotCheck.Method.ONLINE])
        else:
            checked_on, method = today, SpotCheck.Method.DOCUMENTS
        rating = Rating.PASS if n == 0 else rng.choices(list(FINDINGS), weights=[3, 4, 2, 1])[0]
        follow_up = rating <= Rating.PASS or rng.random() < 0.25
        checks.append(
            services.spot_check_record(
                actor=monitor,
                project_class=project_class,
                checked_on=checked_on,
                method=method,
                findings=rng.choice(FINDINGS[rating]),
                rating=rating,
                follow_up_required=follow_up,
                follow_up_due=today + timedelta(days=rng.randint(5, 20)) if follow_up else None,
            )
        )
    # Some institutions have answered; the monitor closed some of those. The first check stays open.
    for spot_check in [c for c in checks[1:] if c.follow_up_required]:
        roll = rng.random()
        actor = institution_actor(spot_check.project_class)
        if roll < 0.3 or actor is None:
            continue
        services.spot_check_answer(actor=actor, spot_check=spot_check, response=rng.choice(ANSWERS))
        if roll > 0.7:
            services.spot_check_close(actor=monitor, spot_check=spot_check, note="整改材料已核实，同意关闭。")

    # Misconduct reports on classes that have started, by their institutions.
    started = [c for c in classes if c.starts_on <= today]
    if not started:
        return
    schools = ctx.data.get("schools") or []
    home_teachers = (
        list(
            Teacher.objects.filter(school=schools[0])
            .exclude(post=Teacher.Post.PRINCIPAL)
            .select_related("school")
            .order_by("pk")[:10]
        )
        if schools
        else []
    )
    teacher_ids = list(Teacher.objects.order_by("pk").values_list("pk", flat=True))
    sample = rng.sample(teacher_ids, min(len(teacher_ids), 40))
    pool = home_teachers + list(Teacher.objects.filter(pk__in=sample).select_related("school").order_by("pk"))
    kinds = list(MISCONDUCT)
    made = 0
    for project_class in rng.sample(started, min(len(started), 8)):
        actor = institution_actor(project_class)
        if actor is None:
            continue
        teacher = next((t for t in pool if trainee_in_class(t, project_class)), None)
        if teacher is None:
            continue
        pool.remove(teacher)
        last = min(project_class.ends_on, today)
        day = project_class.starts_on + timedelta(days=rng.randint(0, (last - project_class.starts_on).days))
        kind = kinds[made % len(kinds)]
        report = services.misconduct_report(
            actor=actor,
            project_class=project_class,
            teacher=teacher,
            kind=kind,
            description=MISCONDUCT[kind],
            starts_on=day,
            ends_on=day,
        )
        made += 1
        if made % 3 == 0:  # some schools have already acknowledged
            school_actor = _actor(Role.SCHOOL, school_id=report.school_id)
            if school_actor is not None:
                services.misconduct_acknowledge(actor=school_actor, report=report, note="已与该教师谈话，督促其补学。")
