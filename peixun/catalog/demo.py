"""Demo projects: last spring's finished term and a live current term with ~120 projects in every state.

The current term's projects go through the real services (so the rules, audit trail, events and
notifications are real); last term's finished projects are written directly, since their windows
closed long ago. Published classes target the demo teachers' stages and subjects, some with few seats.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from peixun.accounts.models import RoleGrant
from peixun.core.choices import (
    CreditCategory,
    Stage,
    Subject,
    SubjectCategory,
    Title,
    TrainingField,
    TrainingFormat,
    TrainingLevel,
    join_codes,
)
from peixun.core.demo_accounts import demo_user
from peixun.core.errors import DomainError
from peixun.core.ids import make_national_id
from peixun.core.roles import Role
from peixun.core.scopes import Actor
from peixun.orgs.models import Institution, Region
from peixun.terms.models import WindowKind
from peixun.terms.windows import get_window

from . import rules, services
from .models import (
    Lecturer,
    Project,
    ProjectClass,
    ProjectEvent,
    ProjectLecturer,
    Quota,
    RegionCap,
    StaffMember,
)

S = Project.Status
F = TrainingField
C = SubjectCategory
ST = Stage
SU = Subject

# name, theme, field, subject category, target stages, target subjects, rural only
TEMPLATES = [
    (
        "新课标下的小学语文大单元教学",
        "大单元教学设计与实施",
        F.SUBJECT_TEACHING,
        C.LANGUAGE,
        [ST.PRIMARY],
        [SU.CHINESE],
        False,
    ),
    ("小学数学思维能力培养", "数学思维与问题解决", F.SUBJECT_TEACHING, C.MATH, [ST.PRIMARY], [SU.MATH], False),
    ("初中数学核心素养与课堂转型", "核心素养导向的课堂", F.SUBJECT_TEACHING, C.MATH, [ST.JUNIOR], [SU.MATH], False),
    ("初中物理实验教学能力提升", "实验设计与改进", F.SCIENCE_LAB, C.SCIENCE, [ST.JUNIOR], [SU.PHYSICS], False),
    ("高中化学实验创新与安全", "实验创新", F.SCIENCE_LAB, C.SCIENCE, [ST.SENIOR], [SU.CHEMISTRY], False),
    ("小学科学探究式教学", "探究式学习", F.SCIENCE_LAB, C.SCIENCE, [ST.PRIMARY], [SU.SCIENCE], False),
    ("中小学心理健康教育能力提升", "学生心理危机识别与干预", F.MENTAL_HEALTH, C.MORAL_PSY, [], [], False),
    (
        "班主任工作与学生发展指导",
        "班级管理与家校共育",
        F.MORAL_EDUCATION,
        C.MORAL_PSY,
        [ST.PRIMARY, ST.JUNIOR, ST.SENIOR],
        [],
        False,
    ),
    (
        "思政课教师教学能力提升",
        "大思政课建设",
        F.SUBJECT_TEACHING,
        C.MORAL_PSY,
        [ST.JUNIOR, ST.SENIOR],
        [SU.POLITICS],
        False,
    ),
    ("劳动教育课程设计与实施", "劳动教育", F.LABOUR, C.GENERAL, [], [], False),
    ("信息技术与学科教学深度融合", "数字化教学", F.IT_APPLICATION, C.IT, [], [], False),
    ("人工智能教育启蒙", "人工智能课程", F.IT_APPLICATION, C.IT, [ST.PRIMARY, ST.JUNIOR], [SU.IT], False),
    ("初中英语读写结合教学", "读写整合", F.SUBJECT_TEACHING, C.LANGUAGE, [ST.JUNIOR], [SU.ENGLISH], False),
    ("高中语文整本书阅读教学", "整本书阅读", F.SUBJECT_TEACHING, C.LANGUAGE, [ST.SENIOR], [SU.CHINESE], False),
    ("高中数学新教材教学研究", "新教材新教法", F.SUBJECT_TEACHING, C.MATH, [ST.SENIOR], [SU.MATH], False),
    ("小学英语绘本教学", "绘本阅读", F.SUBJECT_TEACHING, C.LANGUAGE, [ST.PRIMARY], [SU.ENGLISH], False),
    ("体育与健康课堂教学改革", "大单元体育教学", F.SUBJECT_TEACHING, C.ARTS_PE, [], [SU.PE], False),
    (
        "艺术课程跨学科教学",
        "美育浸润",
        F.SUBJECT_TEACHING,
        C.ARTS_PE,
        [ST.PRIMARY, ST.JUNIOR],
        [SU.MUSIC, SU.ART],
        False,
    ),
    (
        "幼儿园游戏化课程建设",
        "安吉游戏与课程",
        F.SUBJECT_TEACHING,
        C.PRESCHOOL,
        [ST.KINDERGARTEN],
        [SU.PRESCHOOL],
        False,
    ),
    ("融合教育背景下的特殊教育实践", "融合教育", F.SUBJECT_TEACHING, C.SPECIAL_ED, [ST.SPECIAL], [SU.SPECIAL], False),
    ("弘扬教育家精神与师德修养", "教育家精神", F.ETHICS, C.GENERAL, [], [], False),
    ("乡村教师课堂教学能力提升", "乡村课堂", F.SUBJECT_TEACHING, C.GENERAL, [ST.PRIMARY, ST.JUNIOR], [], True),
    ("中小学教育科研方法与论文写作", "教育科研", F.RESEARCH, C.GENERAL, [], [], False),
    (
        "初中历史与地理跨学科主题学习",
        "跨学科主题学习",
        F.SUBJECT_TEACHING,
        C.HUMANITIES,
        [ST.JUNIOR],
        [SU.HISTORY, SU.GEOGRAPHY],
        False,
    ),
    ("小学语文阅读与习作教学", "读写一体", F.SUBJECT_TEACHING, C.LANGUAGE, [ST.PRIMARY], [SU.CHINESE], False),
    ("小学数学计算教学与作业设计", "双减背景下的作业设计", F.SUBJECT_TEACHING, C.MATH, [ST.PRIMARY], [SU.MATH], False),
    (
        "山区海岛学校数学教师专项培训",
        "山区海岛专项",
        F.SUBJECT_TEACHING,
        C.MATH,
        [ST.PRIMARY, ST.JUNIOR],
        [SU.MATH],
        True,
    ),
    ("中小学校长教育教学领导力", "学校治理", F.LEADERSHIP, C.LEADERSHIP, [], [SU.MANAGEMENT], False),
]
PLACES = [
    "示范师范大学",
    "东湖师范学院继续教育学院",
    "东湖宾馆会议中心",
    "南浦大学培训楼",
    "省教育科学研究院",
    "线上平台",
]
LECTURER_ORGS = [
    "示范师范大学",
    "东湖师范学院",
    "省教研室",
    "东湖市教育研究院",
    "南浦市第一中学",
    "东湖市实验小学",
    "省特级教师工作室",
]
LECTURER_TITLES = ["教授", "副教授", "正高级教师", "特级教师", "高级教师", "教研员"]
GOALS = "帮助参训教师理解新课标要求，掌握{theme}的方法，能在课堂中设计并实施相应的教学活动，形成可推广的教学案例。"
CONTENT = "1. 专题讲座：{theme}的理念与路径\n2. 课例观摩与研讨\n3. 分组备课与同课异构\n4. 成果展示与点评"
RETURN_REASONS = [
    "课程安排与培训目标衔接不够，请细化每日课程",
    "授课专家信息不完整，请补充联系方式",
    "收费分项说明不清，请说明住宿安排",
]


def _actor(username: str) -> Actor:
    grant = RoleGrant.objects.select_related("user", "region", "school", "institution").get(user__username=username)
    return Actor.from_grant(grant)


def _institution_actors() -> dict[int, Actor]:
    grants = RoleGrant.objects.filter(role=Role.INSTITUTION).select_related("user", "institution")
    return {g.institution_id: Actor.from_grant(g) for g in grants}


def _bureau_actors() -> dict[int, Actor]:
    grants = RoleGrant.objects.filter(role__in=(Role.PROVINCE, Role.CITY, Role.COUNTY)).select_related("user", "region")
    return {g.region_id: Actor.from_grant(g) for g in grants}


def _staff(ctx, institutions: list[Institution]) -> None:
    n = 0
    rows = []
    for institution in institutions:
        scope = institution.scope_list
        for i in range(10):
            n += 1
            title = Title.SENIOR if i % 3 == 0 else Title.ASSOCIATE_SENIOR
            formal = True
            if i == 8:
                title = Title.INTERMEDIATE  # not eligible: shows the title rule
            if i == 9:
                formal = False  # not eligible: a contracted lecturer
            specialty = scope if len(scope) <= 3 else ctx.rng.sample(scope, 4)
            born = date(1965, 1, 1) + timedelta(days=n * 97)
            rows.append(
                StaffMember(
                    institution=institution,
                    name=ctx.chinese_name(),
                    national_id=make_national_id("990101", born, 100 + n),
                    title=title,
                    specialty=join_codes(specialty + ([C.GENERAL] if C.GENERAL in scope else [])),
                    is_formal_employee=formal,
                    phone=f"139{ctx.rng.randint(10000000, 99999999)}",
                )
            )
    StaffMember.objects.bulk_create(rows)


def _lecturer_pool(ctx, size: int = 90) -> list[dict]:
    pool = []
    for i in range(size):
        pool.append(
            {
                "name": ctx.chinese_name(),
                "organisation": LECTURER_ORGS[i % len(LECTURER_ORGS)],
                "title": LECTURER_TITLES[i % len(LECTURER_TITLES)],
                "expertise": ["课程与教学论", "学科教学", "教育心理", "信息化教学", "班级管理", "教育评价"][i % 6],
                "phone": f"13{ctx.rng.randint(100000000, 999999999)}",
            }
        )
    return pool


class Planner:
    """Chooses institutions, leaders and class dates so every project passes the real rules."""

    def __init__(self, ctx, term, institutions, counties, cities):
        self.ctx, self.term = ctx, term
        self.institutions = institutions
        self.counties, self.cities = counties, cities
        self.leader_classes: Counter = Counter()
        self.quota_used: Counter = Counter()
        self.leaders = defaultdict(list)
        for s in StaffMember.objects.filter(is_formal_employee=True, title__in=(Title.SENIOR, Title.ASSOCIATE_SENIOR)):
            self.leaders[s.institution_id].append(s)
        window = get_window(term, WindowKind.TRAINING)
        self.first_day = timezone.localdate(window.starts_at)
        self.last_day = timezone.localdate(window.ends_at - timedelta(microseconds=1))

    def institution_for(self, category: str, level: str) -> Institution | None:
        rng = self.ctx.rng
        candidates = [
            i
            for i in self.institutions
            if category in i.scope_list
            and (level in rules.LOCAL_LEVELS or i.province_wide)
            and (level in rules.LOCAL_LEVELS or self.quota_used[i.pk] < rules.default_quota(i, self.term) - 2)
        ]
        if level in rules.PROVINCE_WIDE_LEVELS:
            candidates = [i for i in candidates if i.type != Institution.Type.COUNTY_SCHOOL]
        return rng.choice(candidates) if candidates else None

    def leader_for(self, institution: Institution, category: str, classes: int):
        options = [
            s
            for s in self.leaders[institution.pk]
            if category in s.specialty_list
            and self.leader_classes[s.national_id] + classes <= rules.MAX_CLASSES_PER_LEADER
        ]
        return self.ctx.rng.choice(options) if options else None


def seed(ctx) -> None:
    term, past = ctx.data["term"], ctx.data["past_term"]
    province_actor: Actor = ctx.data["province_actor"]
    institutions = list(Institution.objects.order_by("code"))
    counties, cities = ctx.data["counties"], ctx.data["cities"]
    small = ctx.data.get("teacher_count", 3000) < 1000

    # Reviewers (experts) besides demo_expert: one for each city.
    for i, city in enumerate(cities, start=2):
        demo_user(f"demo_expert{i}", f"{city.name}评审专家", role=Role.EXPERT, region=city)
    ctx.login(Role.EXPERT.label, "demo_expert2 … demo_expert3", "各市评审专家")

    # Quotas: the defaults, with one institution raised by the province; two counties cap local projects.
    for institution in institutions:
        Quota.objects.create(term=term, institution=institution, limit=rules.default_quota(institution, term))
    services.quota_set(actor=province_actor, term=term, institution=institutions[2], limit=28)
    RegionCap.objects.create(term=term, region=counties[0], limit=12)
    RegionCap.objects.create(term=term, region=counties[4], limit=10)

    _staff(ctx, institutions)
    pool = _lecturer_pool(ctx)
    teachers = ctx.data.get("teachers") or []
    combos = Counter((t.stage, t.subject) for t in teachers)
    demo_teacher = ctx.data.get("demo_teacher")

    _past_term(ctx, past, institutions, pool)
    _current_term(ctx, term, institutions, counties, cities, pool, combos, demo_teacher, small)


def _past_term(ctx, past, institutions, pool) -> None:
    """Last spring: finished projects (for results and credits), one deleted after publication."""
    rng = ctx.rng
    year = int(past.code[:4])
    lecturers = [
        Lecturer.objects.get_or_create(
            name=p["name"],
            organisation=p["organisation"],
            phone=p["phone"],
            defaults={"title": p["title"], "expertise": p["expertise"]},
        )[0]
        for p in pool[:30]
    ]
    province = Region.objects.get(level=Region.Level.PROVINCE)
    for n, template in enumerate(TEMPLATES[:24]):
        name, theme, field, category, stages, subjects, rural = template
        options = [
            i
            for i in institutions
            if category in i.scope_list and i.province_wide and i.type != Institution.Type.COUNTY_SCHOOL
        ]
        if not options:
            continue
        institution = options[n % len(options)]
        leader = StaffMember.objects.filter(
            institution=institution, is_formal_employee=True, title__in=(Title.SENIOR, Title.ASSOCIATE_SENIOR)
        ).first()
        hours = Decimal(rng.choice([24, 30, 40]))
        project = Project.objects.create(
            term=past,
            institution=institution,
            code=f"{past.code}-{institution.code}-{n + 1:03d}",
            name=f"{name}（{year}春）",
            theme=theme,
            target_stages=join_codes(stages),
            target_subjects=join_codes(subjects),
            rural_only=rural,
            field=field,
            subject_category=category,
            level=TrainingLevel.PROVINCIAL,
            region=province,
            credit_category=CreditCategory.TONGCHOU,
            format=TrainingFormat.FACE_TO_FACE,
            days=int(hours // 8),
            hours_offline=hours,
            credits=hours / 10,
            goals=GOALS.format(theme=theme)[:200],
            content=CONTENT.format(theme=theme),
            fee_training=Decimal("1200"),
            fee_accommodation=Decimal("400"),
            fee_meals=Decimal("200"),
            fee_total=Decimal("1800"),
            leader=leader,
            status=S.FINISHED if n != 5 else S.DELETED,
            submitted_at=timezone.now(),
            published_at=timezone.now(),
            deleted_at=timezone.now() if n == 5 else None,
            delete_reason="承办机构培训场地不具备条件，经协商取消" if n == 5 else "",
        )
        start = date(year, 4, 8) + timedelta(days=7 * (n % 16))
        for number in (1, 2) if n % 3 == 0 else (1,):
            first = start + timedelta(days=35 * (number - 1))
            ProjectClass.objects.create(
                project=project,
                number=number,
                starts_on=first,
                ends_on=first + timedelta(days=project.days - 1),
                place=PLACES[n % 5],
                capacity=rng.choice([30, 40, 50]),
                schedule=f"第1天 开班仪式、{theme}专题讲座\n第2天 课例观摩与研讨\n第3天 分组研修与成果展示",
                schedule_published_at=timezone.now(),
            )
        for lecturer in rng.sample(lecturers, 2):
            ProjectLecturer.objects.create(project=project, lecturer=lecturer, topic=theme)
        kinds = ["created", "submitted", "approved", "published", "started", "finished"]
        if project.status == S.DELETED:
            kinds = kinds[:4] + ["deleted"]
        ProjectEvent.objects.bulk_create(
            ProjectEvent(project=project, kind=k, note=project.delete_reason if k == "deleted" else "") for k in kinds
        )


def _current_term(ctx, term, institutions, counties, cities, pool, combos, demo_teacher, small) -> None:
    rng = ctx.rng
    planner = Planner(ctx, term, institutions, counties, cities)
    inst_actors = _institution_actors()
    bureau_actors = _bureau_actors()
    expert = _actor("demo_expert")
    total = 40 if small else 135
    # State of each project, in proportions that make every list and panel interesting.
    states = (
        ["published"] * 52
        + ["submitted"] * 16
        + ["approved"] * 10
        + ["returned"] * 7
        + ["draft"] * 10
        + ["withdrawn"] * 4
        + ["deleted"] * 3
        + ["running"] * 4
        + ["returned_resubmitted"] * 2
    )
    rng.shuffle(states)
    states = (states * 2)[:total]
    demo_combo = (demo_teacher.stage, demo_teacher.subject) if demo_teacher else None
    made: list[tuple[Project, str]] = []
    for n in range(total):
        state = states[n]
        # The first few published projects are for the demo teacher, so the catalog has something for them.
        if demo_combo and n < 8 and state not in ("published",):
            state = "published"
        template = _template_for(rng, n, combos, demo_combo if n < 8 else None)
        name, theme, field, category, stages, subjects, rural = template
        level = TrainingLevel.PROVINCIAL
        roll = rng.random()
        if roll < 0.15:
            level = TrainingLevel.COUNTY
        elif roll < 0.22:
            level = TrainingLevel.CITY
        elif roll < 0.27:
            level = TrainingLevel.NATIONAL
        institution = planner.institution_for(category, level)
        if institution is None:
            continue
        region = None
        if level == TrainingLevel.COUNTY:
            region = institution.region if institution.type == Institution.Type.COUNTY_SCHOOL else rng.choice(counties)
        elif level == TrainingLevel.CITY:
            region = cities[0]
        if level in rules.LOCAL_LEVELS and (region is None or _responsible_actor(bureau_actors, region) is None):
            level, region = TrainingLevel.PROVINCIAL, None
        classes = 1 if rng.random() < 0.6 else 2
        if state == "running":
            classes = 1
        leader = planner.leader_for(institution, category, classes)
        if leader is None:
            continue
        fmt = TrainingFormat.FACE_TO_FACE
        hours_offline, hours_online = Decimal(rng.choice([16, 24, 30, 40])), Decimal("0")
        if institution.may_online and rng.random() < 0.15:
            fmt, hours_online, hours_offline = TrainingFormat.ONLINE, hours_offline, Decimal("0")
        elif institution.may_blended and rng.random() < 0.2:
            fmt, hours_online = TrainingFormat.BLENDED, (hours_offline * Decimal("0.25")).quantize(Decimal("1"))
            hours_offline -= hours_online
        accommodation = Decimal("0") if fmt == TrainingFormat.ONLINE else Decimal(rng.choice([0, 300, 450]))
        meals = Decimal("0") if fmt == TrainingFormat.ONLINE else Decimal(rng.choice([100, 150, 200]))
        training = Decimal(rng.choice([400, 600, 800, 1000, 1200]))
        actor = inst_actors[institution.pk]
        data = {
            "name": name if level != TrainingLevel.COUNTY else f"{region.name}{name}",
            "theme": theme,
            "field": field,
            "subject_category": category,
            "level": level,
            "region": region,
            "credit_category": CreditCategory.TONGCHOU,
            "format": fmt,
            "days": max(int((hours_offline + hours_online) // 8), 1),
            "hours_offline": hours_offline,
            "hours_online": hours_online,
            "goals": GOALS.format(theme=theme)[:200],
            "content": CONTENT.format(theme=theme),
            "fee_training": training,
            "fee_accommodation": accommodation,
            "fee_meals": meals,
            "fee_total": training + accommodation + meals,
            "target_stages": stages,
            "target_subjects": subjects,
            "rural_only": rural,
            "leader": leader,
            "is_b_certificate": state == "approved" and n % 5 == 0,
        }
        if level == TrainingLevel.PROVINCIAL and rng.random() < 0.12:
            data["target_regions"] = [rng.choice(cities)]
        try:
            project = services.project_create(actor=actor, term=term, **data)
            for number in range(classes):
                starts_on = _class_start(rng, planner, state, number)
                capacity = rng.choice([6, 8]) if n % 9 == 0 else rng.choice([30, 40, 45, 50, 60])
                services.class_add(
                    actor=actor,
                    project=project,
                    starts_on=starts_on,
                    ends_on=min(starts_on + timedelta(days=max(project.days - 1, 0)), planner.last_day),
                    place=PLACES[5] if fmt == TrainingFormat.ONLINE else rng.choice(PLACES[:5]),
                    capacity=capacity,
                )
            for person in rng.sample(pool, rng.choice([2, 3, 4])):
                services.lecturer_add(actor=actor, project=project, topic=theme, **person)
            if state != "draft":
                project = services.project_submit(actor=actor, project=project)
                planner.leader_classes[leader.national_id] += classes
                if level in rules.PROVINCE_WIDE_LEVELS:
                    planner.quota_used[institution.pk] += 1
            project = _advance(ctx, project, state, actor, bureau_actors, expert)
        except DomainError as exc:  # a rule refused this combination: the demo simply skips it
            ctx.data.setdefault("catalog_skipped", []).append(f"{name}: {exc.message}")
            continue
        made.append((project, state))
    _after_publication(ctx, made, inst_actors, bureau_actors)


def _responsible_actor(bureau_actors, region) -> Actor | None:
    return bureau_actors.get(region.pk)


def _template_for(rng, n, combos, demo_combo):
    if demo_combo is not None:
        stage, subject = demo_combo
        fitting = [t for t in TEMPLATES if (not t[4] or stage in t[4]) and (not t[5] or subject in t[5]) and not t[6]]
        exact = [t for t in fitting if t[5] and subject in t[5]]
        if exact and n % 2 == 0:
            return rng.choice(exact)
        if fitting:
            return rng.choice(fitting)
    # Weight templates by how many demo teachers they fit, so selection has takers.
    weights = []
    for t in TEMPLATES:
        fit = sum(
            c for (stage, subject), c in combos.items() if (not t[4] or stage in t[4]) and (not t[5] or subject in t[5])
        )
        weights.append(fit + 5)
    return rng.choices(TEMPLATES, weights=weights)[0]


def _class_start(rng, planner, state, number) -> date:
    today = timezone.localdate()
    if state == "running":
        return max(today - timedelta(days=rng.randint(1, 5)), planner.first_day)
    if state == "published" and rng.random() < 0.08:
        return today + timedelta(days=rng.randint(2, 4))  # its schedule is already late
    start = today + timedelta(days=rng.randint(16, 110) + 30 * number)
    return min(start, planner.last_day - timedelta(days=10))


def _advance(ctx, project, state, actor, bureau_actors, expert) -> Project:
    rng = ctx.rng
    reviewer = bureau_actors[project.region_id]
    if state in ("submitted", "approved") and rng.random() < 0.5:
        checks = services.lecturer_sample(actor=expert, project=project, count=2, rng=rng)
        for check in checks[: rng.choice([0, 1, 2])]:
            result = rng.choice(["confirmed", "confirmed", "confirmed", "unreachable", "not_confirmed"])
            services.lecturer_check_record(actor=expert, check=check, result=result, note="电话核实")
    if state == "withdrawn":
        return services.project_withdraw(actor=actor, project=project, reason="授课专家档期冲突，撤回申报")
    if state in ("returned", "returned_resubmitted"):
        project = services.project_return(actor=reviewer, project=project, reason=rng.choice(RETURN_REASONS))
        if state == "returned_resubmitted":
            project = services.project_update(
                actor=actor, project=project, content=project.content + "\n5. 返岗实践与跟踪指导"
            )
            project = services.project_submit(actor=actor, project=project)
        return project
    if state in ("approved", "published", "deleted", "running"):
        project = services.project_approve(actor=reviewer, project=project, note="同意")
    if state in ("published", "deleted", "running"):
        project = services.project_publish(actor=reviewer, project=project)
    if state == "running":
        project = services.project_start(actor=actor, project=project)
    return project


def _after_publication(ctx, made, inst_actors, bureau_actors) -> None:
    """Schedules, change requests (pending, approved, rejected) and soft deletes on published projects."""
    rng = ctx.rng
    today = timezone.localdate()
    published = [p for p, state in made if state in ("published", "running")]
    for project in published:
        actor = inst_actors[project.institution_id]
        for project_class in project.classes.all():
            soon = (project_class.starts_on - today).days <= 30
            if project.status == S.RUNNING or (soon and rng.random() < 0.5) or rng.random() < 0.2:
                services.class_schedule_publish(
                    actor=actor,
                    project_class=project_class,
                    schedule=f"第1天 上午 开班仪式；{project.theme}专题讲座\n第1天 下午 课例观摩\n第2天 分组研修与成果展示",
                )
    changeable = [p for p in published if p.status == S.PUBLISHED]
    rng.shuffle(changeable)
    plans = [
        ("dates", "pending"),
        ("place", "pending"),
        ("lecturers", "pending"),
        ("dates", "approved"),
        ("place", "approved"),
        ("format", "approved"),
        ("place", "rejected"),
        ("dates", "rejected"),
    ]
    for project, (kind, outcome) in zip(changeable, plans):
        actor = inst_actors[project.institution_id]
        project_class = project.classes.order_by("number").first()
        proposed, reason = {}, ""
        if kind == "dates":
            start = max(project_class.starts_on + timedelta(days=7), today + timedelta(days=1))
            proposed = {
                "starts_on": start.isoformat(),
                "ends_on": (start + (project_class.ends_on - project_class.starts_on)).isoformat(),
            }
            reason = "与全市统一质量监测时间冲突，顺延一周"
        elif kind == "place":
            proposed, reason = {"place": "东湖宾馆会议中心"}, "原培训场地维修，改至东湖宾馆"
        elif kind == "lecturers":
            proposed = {
                "add": [
                    {
                        "name": ctx.chinese_name(),
                        "organisation": "省教研室",
                        "title": "正高级教师",
                        "expertise": "学科教学",
                        "phone": "13800000001",
                    }
                ],
                "remove": [],
            }
            reason = "增加一名省教研室专家"
        elif kind == "format":
            if not project.institution.may_online:
                continue
            proposed, reason = {"format": "online"}, "受场地条件限制，经协商改为线上培训"
        try:
            change = services.change_request_create(
                actor=actor,
                project=project,
                kind=kind,
                reason=reason,
                proposed=proposed,
                project_class=project_class if kind in ("dates", "place") else None,
            )
            reviewer = bureau_actors[project.region_id]
            if outcome == "approved":
                services.change_request_approve(actor=reviewer, change_request=change, note="同意调整，请及时告知学员")
            elif outcome == "rejected":
                services.change_request_reject(
                    actor=reviewer, change_request=change, note="调整理由不充分，请按原计划实施"
                )
        except DomainError as exc:
            ctx.data.setdefault("catalog_skipped", []).append(f"{project.name}: {exc.message}")
    for project, state in made:
        if state == "deleted":
            services.project_delete(
                actor=bureau_actors[project.region_id],
                project=project,
                reason="承办机构无法按期实施，经研究删除该项目",
                confirm=project.code,
            )
