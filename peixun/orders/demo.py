"""Demo orders: every county posts at least three orders in the current term, in various states."""

from __future__ import annotations

from django.utils import timezone

from peixun.core.choices import Stage, Subject, TrainingField, TrainingFormat, TrainingLevel, join_codes
from peixun.orgs.models import Institution, Region
from peixun.terms.models import WindowKind
from peixun.terms.windows import current_term, get_window

from . import rules
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


def _order(ctx, term, county: Region, n: int, template, status: str, intended: list[Institution]) -> Order:
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
        level=TrainingLevel.COUNTY,
        format=fmt,
        goals=goals,
        course_requirements=requirements,
        status=status,
    )
    if intended:
        order.intended_institutions.set(intended)
    return order


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

    for index, county in enumerate(counties):
        # Before the list is published counties are still posting (two fall short of the minimum);
        # afterwards every county has a published list with one order cancelled here and there.
        if list_published:
            statuses = [Order.Status.PUBLISHED, Order.Status.PUBLISHED, Order.Status.PUBLISHED] + (
                [Order.Status.CANCELLED] if index % 3 == 0 else []
            )
        else:
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
            # The first order names intended institutions, the others are open to every qualified institution.
            intended = [takers[(index + k) % len(takers)] for k in range(2)] if n == 1 and takers else []
            order = _order(ctx, term, county, n, template, status, intended)
            if status in (Order.Status.POSTED, Order.Status.PUBLISHED, Order.Status.CANCELLED):
                order.posted_at = demand.starts_at if demand else now
            if status in (Order.Status.PUBLISHED, Order.Status.CANCELLED) and list_published:
                order.published_at = publish.starts_at if publish else now
                recipients = intended or takers
                OrderRecipient.objects.bulk_create(
                    OrderRecipient(order=order, institution=i, intended=bool(intended)) for i in recipients
                )
            if status == Order.Status.CANCELLED:
                order.cancelled_at, order.cancel_reason = now, "与县级常规项目内容重复，撤销本订单"
            order.save()
            orders.append(order)
        ctx.data.setdefault("orders", []).extend(orders)
