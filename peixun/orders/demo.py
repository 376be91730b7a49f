"""Demo orders: every county posts at least three orders in the current term, in various states.

Once the order list is published the whole flow of attachment 2 runs through the real services:
institutions respond with draft order projects, counties choose (the others are told), the chosen
institutions formally apply, counties return, approve and publish. The province has extended the
order response, selection and application windows for a supplementary round (audited), so every
step can also be tried live in the demo."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from peixun.accounts.models import RoleGrant
from peixun.catalog import services as catalog
from peixun.catalog.models import StaffMember
from peixun.core.choices import Stage, Subject, Title, TrainingField, TrainingFormat, TrainingLevel, join_codes
from peixun.core.errors import DomainError
from peixun.core.ids import make_national_id
from peixun.core.roles import Role
from peixun.core.scopes import Actor
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term, Window, WindowKind
from peixun.terms.services import window_extend
from peixun.terms.windows import current_term, day_end, get_window

from . import rules, services
from .models import Order, OrderRecipient

# (name, theme, trainees, stages, subjects, field, count, days, format, goals, course requirements)
ORDER_TEMPLATES = [
    (
        "新课标下小学数学大单元教学设计",
        "大单元教学",
        "小学数学骨干教师",
        [Stage.PRIMARY],
        [Subject.MATH],
        TrainingField.SUBJECT_TEACHING,
        45,
        5,
        TrainingFormat.FACE_TO_FACE,
        "理解义务教育数学课程标准（2022年版）的核心素养导向，能独立完成一个大单元的整体教学设计。",
        "以课例研讨为主，理论讲座不超过三分之一；须安排到县内学校的现场观摩与磨课。",
    ),
    (
        "初中语文整本书阅读教学实践",
        "整本书阅读",
        "初中语文教师",
        [Stage.JUNIOR],
        [Subject.CHINESE],
        TrainingField.SUBJECT_TEACHING,
        50,
        4,
        TrainingFormat.BLENDED,
        "掌握整本书阅读的任务设计与评价方法，形成可在本校推广的阅读课程方案。",
        "线上学习不超过总学时的30%；线下须包含名师示范课与分组备课。",
    ),
    (
        "中小学班主任心理健康教育能力提升",
        "学生心理危机识别与干预",
        "中小学班主任",
        [Stage.PRIMARY, Stage.JUNIOR],
        [],
        TrainingField.MENTAL_HEALTH,
        60,
        3,
        TrainingFormat.FACE_TO_FACE,
        "能识别学生常见心理问题的早期信号，掌握班级心理危机的初步干预与转介流程。",
        "案例教学为主，须有专职心理教师参与授课；提供可直接使用的班会课资源包。",
    ),
    (
        "乡村学校信息科技课堂教学能力提升",
        "人工智能启蒙教学",
        "乡村小学、初中信息科技教师",
        [Stage.PRIMARY, Stage.JUNIOR],
        [Subject.IT],
        TrainingField.IT_APPLICATION,
        40,
        5,
        TrainingFormat.FACE_TO_FACE,
        "能运用国家中小学智慧教育平台资源开展信息科技教学，完成一节人工智能启蒙课设计。",
        "上机实操不少于一半学时，培训地点须具备计算机教室。",
    ),
    (
        "高中物理实验教学创新",
        "实验探究与数字化实验",
        "高中物理教师",
        [Stage.SENIOR],
        [Subject.PHYSICS],
        TrainingField.SCIENCE_LAB,
        35,
        4,
        TrainingFormat.FACE_TO_FACE,
        "提升实验设计与数字化实验教学能力，每位学员开发一个创新实验。",
        "在实验室进行，须配备传感器等数字化实验器材。",
    ),
    (
        "幼儿园游戏活动观察与支持",
        "自主游戏观察记录",
        "幼儿园教师",
        [Stage.KINDERGARTEN],
        [Subject.PRESCHOOL],
        TrainingField.SUBJECT_TEACHING,
        50,
        3,
        TrainingFormat.BLENDED,
        "会观察、记录和解读幼儿游戏行为，能据此调整环境创设与教师支持策略。",
        "到优质园跟岗观摩不少于一天。",
    ),
]


def _order(ctx, term, county: Region, n: int, template, status: str, intended: list[Institution], level) -> Order:
    name, theme, trainees, stages, subjects, field, count, days, fmt, goals, requirements = template
    order = Order.objects.create(
        term=term,
        county=county,
        code=f"{term.code}-{county.code}-{n:02d}",
        contact_person=ctx.chinese_name(),
        contact_phone=f"13{ctx.rng.randint(100000000, 999999999)}",
        name=f"{county.name}{name}",
        theme=theme,
        target_trainees=f"{county.name}{trainees}",
        target_stages=join_codes(stages),
        target_subjects=join_codes(subjects),
        field=field,
        trainee_count=count,
        days=days,
        level=level,
        format=fmt,
        goals=goals,
        course_requirements=requirements,
        status=status,
    )
    if intended:
        order.intended_institutions.set(intended)
    return order


# Where each county's orders end up (one list per county, cycled): the order's stage after the flow.
PLANS = [
    ["published", "applied", "chosen", "responded", "open"],
    ["published", "approved", "returned", "responded"],
    ["published", "applied", "chosen", "responded", "open"],
    ["approved", "chosen", "responded", "responded"],
]
FLOW = ("responded", "chosen", "applied", "returned", "approved", "published")
NOTES = [
    "我院连续三年承办同类培训，学员满意度均在95%以上，可安排省级名师全程指导。",
    "拟组建高校专家与一线名师“双导师”团队，培训后跟踪指导一个学期。",
    "可结合贵县教研活动安排现场观摩，课程方案可按需调整。",
]
REMARKS = [
    "方案与我县需求最贴合，且有送教下乡的安排，确定由该机构承训。",
    "师资力量强、实践环节充分，收费合理，确定为承训机构。",
    "课程设计针对性强，已与该机构接洽确认班期安排。",
]


def _extend_order_windows(ctx, term, province: Actor) -> Term:
    """The province reopens the order steps for a supplementary round (so the demo is live)."""
    today = ctx.today
    targets = {
        WindowKind.ORDER_RESPONSE: 5,
        WindowKind.ORDER_SELECT: 6,
        WindowKind.ORDER_APPLY: 7,
    }
    for kind, days in targets.items():
        window = Window.objects.filter(term=term, kind=kind).first()
        new_end = day_end(today + timedelta(days=days))
        if window is not None and window.ends_at < new_end:
            window_extend(
                actor=province,
                window=window,
                new_ends_at=new_end,
                reason="补充订单：部分区县订单尚未确定承训机构，延长机构响应、区县遴选和正式申报时间",
            )
    return Term.objects.get(pk=term.pk)  # windows read afresh


def _can_run(institution: Institution, order: Order) -> bool:
    category = services.subject_category_for(order)
    if category not in institution.scope_list:
        return False
    if order.format == TrainingFormat.BLENDED and not institution.may_blended:
        return False
    return not (order.format == TrainingFormat.ONLINE and not institution.may_online)


class Responders:
    """Institution accounts, order leaders (3 each, within the leader limits) and a lecturer pool."""

    def __init__(self, ctx, takers: list[Institution]):
        self.ctx = ctx
        grants = RoleGrant.objects.filter(role=Role.INSTITUTION, institution__in=takers).select_related(
            "user", "institution"
        )
        self.actors = {g.institution_id: Actor.from_grant(g) for g in grants}
        self.leaders: dict[int, list[StaffMember]] = {}
        self.load: dict[int, int] = {}
        n = 0
        for institution in takers:
            actor = self.actors.get(institution.pk)
            if actor is None:
                continue
            self.leaders[institution.pk] = []
            for _k in range(3):
                n += 1
                leader = catalog.staff_create(
                    actor=actor,
                    name=ctx.chinese_name(),
                    national_id=make_national_id("990101", date(1968, 3, 1) + timedelta(days=n * 131), 600 + n),
                    title=Title.SENIOR if n % 2 else Title.ASSOCIATE_SENIOR,
                    specialty=institution.scope_list,
                    phone=f"137{ctx.rng.randint(10000000, 99999999)}",
                )
                self.leaders[institution.pk].append(leader)
                self.load[leader.pk] = 0

    def leader(self, institution: Institution, applies: bool) -> StaffMember | None:
        """A leader under the per-term class limit; only applied projects count toward it (drafts do not)."""
        options = [s for s in self.leaders.get(institution.pk, []) if not applies or self.load[s.pk] < 4]
        if not options:
            return None
        leader = min(options, key=lambda s: self.load[s.pk])
        if applies:
            self.load[leader.pk] += 1
        return leader

    def lecturer(self, i: int) -> dict:
        orgs = ["示范师范大学", "省教育科学研究院", "市教师发展中心", "实验中学", "第一实验小学"]
        titles = ["教授", "副教授", "正高级教师", "特级教师", "高级教师"]
        return {
            "name": self.ctx.chinese_name(),
            "organisation": orgs[i % len(orgs)],
            "title": titles[i % len(titles)],
            "expertise": ["学科教学", "课程与教学论", "教育心理", "信息化教学", "班级管理"][i % 5],
            "phone": f"136{self.ctx.rng.randint(10000000, 99999999)}",
        }


def _respond(ctx, responders: Responders, order: Order, institution: Institution, k: int, submit: bool, applies=False):
    actor = responders.actors[institution.pk]
    leader = responders.leader(institution, applies)
    start = ctx.today + timedelta(days=25 + (order.pk * 7 + k * 3) % 80)
    training = 900 + 100 * (k % 3)
    response = services.response_create(
        actor=actor,
        order=order,
        note=NOTES[(order.pk + k) % len(NOTES)],
        class_starts_on=start,
        class_place=f"{order.county.name}教师发展中心",
        leader=leader,
        fee_training=Decimal(training * order.days // 5),
        fee_accommodation=Decimal(120 * (order.days - 1)) if order.format != TrainingFormat.ONLINE else None,
        fee_meals=Decimal(60 * order.days) if order.format != TrainingFormat.ONLINE else None,
    )
    for i in range(2):
        catalog.lecturer_add(
            actor=actor, project=response.project, topic=order.theme, **responders.lecturer(order.pk + i + k)
        )
    if submit:
        response = services.response_submit(actor=actor, response=response)
    return response


def _run_flow(ctx, order: Order, target: str, recipients, responders: Responders, county_actor: Actor, k: int):
    """Take a published order to ``target`` through the services (stops early if a rule says no)."""
    if target not in FLOW:
        return
    able = [i for i in recipients if i.pk in responders.actors and _can_run(i, order)]
    if not able:
        return
    first = able[k % len(able)]
    others = [i for i in able if i != first][:2]
    chosen = _respond(ctx, responders, order, first, 0, submit=True, applies=target not in ("responded", "chosen"))
    for j, institution in enumerate(others, start=1):
        # The last of three stays a draft: the county does not see it.
        _respond(ctx, responders, order, institution, j, submit=not (j == 2 and target == "responded"))
    if target == "responded":
        return
    services.response_select(actor=county_actor, response=chosen, remark=REMARKS[k % len(REMARKS)])
    if target == "chosen":
        return
    inst_actor = responders.actors[first.pk]
    catalog.project_update(
        actor=inst_actor,
        project=chosen.project,
        content=f"{order.course_requirements}\n课程模块：专题讲座、课例研讨、跟岗实践、成果展示。",
    )
    services.response_apply(actor=inst_actor, response=chosen)
    if target == "applied":
        return
    if target == "returned":
        services.order_project_review(
            actor=county_actor, order=order, action="return", reason="请补充跟岗实践的具体学校和指导教师安排。"
        )
        return
    services.order_project_review(actor=county_actor, order=order, action="approve", reason="同意")
    if target == "approved":
        return
    services.order_project_publish(actor=county_actor, order=order)


def seed(ctx) -> None:
    term = current_term()
    if term is None:
        return
    counties = list(Region.objects.filter(level=Region.Level.COUNTY).order_by("code"))
    takers = rules.order_takers(term)
    demand = get_window(term, WindowKind.ORDER_DEMAND)
    publish = get_window(term, WindowKind.ORDER_PUBLISH)
    now = timezone.now()
    list_published = demand is None or now >= demand.ends_at
    province = ctx.data.get("province_actor")
    run_flow = list_published and province is not None and bool(takers)
    if run_flow:
        term = _extend_order_windows(ctx, term, province)
        responders = Responders(ctx, takers)
        county_actors = {
            g.region_id: Actor.from_grant(g)
            for g in RoleGrant.objects.filter(role=Role.COUNTY, region__in=counties).select_related("user", "region")
        }

    for index, county in enumerate(counties):
        # Before the list is published counties are still posting (two fall short of the minimum);
        # afterwards every county has a published list in every stage, one cancelled here and there.
        if list_published:
            plan = PLANS[index % len(PLANS)] + (["cancelled"] if index % 3 == 0 else [])
            statuses = [Order.Status.CANCELLED if p == "cancelled" else Order.Status.PUBLISHED for p in plan]
        else:
            plan = []
            statuses = (
                [Order.Status.POSTED, Order.Status.DRAFT, Order.Status.DRAFT]
                if index >= len(counties) - 2
                else [Order.Status.POSTED, Order.Status.POSTED, Order.Status.POSTED]
            )
            if index % 2 == 0:
                statuses.append(Order.Status.DRAFT)
        orders = []
        for n, status in enumerate(statuses, start=1):
            template = ORDER_TEMPLATES[(index + n) % len(ORDER_TEMPLATES)]
            category_ok = [t for t in takers if _can_run(t, _order_probe(template))]
            # The first order names intended institutions (able to run it), the others are open to all.
            pool = category_ok or takers
            intended = [pool[(index + k) % len(pool)] for k in range(min(2, len(pool)))] if n == 1 and pool else []
            intended = list(dict.fromkeys(intended))
            level = TrainingLevel.PROVINCIAL if (index + n) % 5 == 0 else TrainingLevel.COUNTY
            order = _order(ctx, term, county, n, template, status, intended, level)
            recipients = intended or takers
            if status in (Order.Status.POSTED, Order.Status.PUBLISHED, Order.Status.CANCELLED):
                order.posted_at = demand.starts_at if demand else now
            if status in (Order.Status.PUBLISHED, Order.Status.CANCELLED) and list_published:
                order.published_at = publish.starts_at if publish else now
                OrderRecipient.objects.bulk_create(
                    OrderRecipient(order=order, institution=i, intended=bool(intended)) for i in recipients
                )
            if status == Order.Status.CANCELLED:
                order.cancelled_at, order.cancel_reason = now, "与县级常规项目内容重复，撤销本订单"
            order.save()
            if run_flow and status == Order.Status.PUBLISHED and county.pk in county_actors:
                try:
                    _run_flow(ctx, order, plan[n - 1], recipients, responders, county_actors[county.pk], index + n)
                except DomainError as exc:  # the demo must not stop on one order; say which rule refused
                    ctx.data.setdefault("order_flow_problems", []).append(f"{order.code}: {exc.message}")
            orders.append(order)
        ctx.data.setdefault("orders", []).extend(orders)


def _order_probe(template) -> Order:
    """An unsaved order with the template's subjects and format (to match institutions to it)."""
    _name, _theme, _trainees, stages, subjects, field, _count, _days, fmt, *_rest = template
    return Order(target_stages=join_codes(stages), target_subjects=join_codes(subjects), field=field, format=fmt)
