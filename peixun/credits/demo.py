"""Demo credits: preset A active (and a preset-B draft for what-if), ledger histories across the
current cycle (some teachers compliant, some on track, some at risk; the demo teacher mid-way),
degree offsets in several states and floor training programmes."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile

from peixun.accounts.models import RoleGrant
from peixun.core.scopes import Actor

from . import selectors, services
from .models import DegreeOffset, LedgerEntry, SourceType
from .policy import TONGCHOU_LEVELS

D = Decimal


def actor_for(username: str) -> Actor:
    grant = RoleGrant.objects.select_related("user", "region", "school", "institution").get(user__username=username)
    return Actor.from_grant(grant)


def certificate_pdf(name: str, degree: str) -> ContentFile:
    """A one-page certificate scan stand-in generated for the demo (Chinese text, ReportLab CJK font)."""
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=landscape(A5))
    pdf.setFont("STSong-Light", 22)
    pdf.drawString(60, 280, "学位证书（演示数据）")
    pdf.setFont("STSong-Light", 14)
    pdf.drawString(60, 230, f"{name} 获 {degree}")
    pdf.save()
    return ContentFile(buffer.getvalue(), name="certificate.pdf")


def _history(ctx, rules, teachers) -> list[LedgerEntry]:
    """Credits of the cycle so far, imported from the previous system, in three profiles."""
    rng = ctx.rng
    today = ctx.today
    cycle = rules.cycle_of(today)
    start, _end = rules.cycle_bounds(cycle)
    days = max((today - start).days, 1)
    entries = []
    for teacher in teachers:
        profile = rng.random()
        if profile < 0.25:  # ahead: already compliant
            tongchou, zizhu = rng.choice([26, 28, 30, 34]), rng.choice([10, 11, 12, 14])
        elif profile < 0.65:  # on track
            tongchou, zizhu = rng.randint(14, 24), rng.randint(5, 9)
        else:  # behind
            tongchou, zizhu = rng.randint(0, 7), rng.randint(0, 3)
        for category, total in (("tongchou", tongchou), ("zizhu", zizhu)):
            left = total
            while left > 0:
                amount = min(left, rng.choice([1, 2, 2, 3, 4]) if category == "tongchou" else rng.choice([1, 1, 2]))
                left -= amount
                day = start + timedelta(days=rng.randint(0, days - 1))
                level = (
                    rng.choice(TONGCHOU_LEVELS)
                    if category == "tongchou"
                    else rng.choice(["school_training", "school_research", "item"])
                )
                entries.append(
                    LedgerEntry(
                        teacher_id=teacher.pk,
                        cycle=cycle,
                        school_year=rules.school_year_of(day),
                        category=category,
                        level=level,
                        amount=D(amount),
                        earned_on=day,
                        source_type=SourceType.HISTORY,
                        source_id=teacher.pk,
                        part=f"{category[:1]}{len(entries)}",
                        note="历史学分（原学分系统导入）",
                    )
                )
    return entries


def seed(ctx) -> None:
    province = ctx.data["province"]
    policy = services.policy_create_draft(actor=None, name="省学分管理办法（预设方案A）", preset="A", province=province)
    services.policy_activate(actor=None, policy=policy)
    services.policy_create_draft(actor=None, name="学分制改革征求意见稿（预设方案B）", preset="B", province=province)
    rules = selectors.active_rules()
    ctx.data["credit_rules"] = rules

    teachers = ctx.data["teachers"]
    demo_teacher = ctx.data["demo_teacher"]
    others = [t for t in teachers if t.pk != demo_teacher.pk]
    entries = _history(ctx, rules, others)
    # The demo teacher is mid-way: 12 统筹 from three levels, 5 自主.
    cycle = rules.cycle_of(ctx.today)
    start, _end = rules.cycle_bounds(cycle)
    for n, (category, level, amount, months) in enumerate(
        [
            ("tongchou", "provincial", 4, 3),
            ("tongchou", "city", 3, 11),
            ("tongchou", "county", 2, 15),
            ("tongchou", "national", 3, 22),
            ("zizhu", "school_training", 2, 8),
            ("zizhu", "item", 1, 20),
            ("zizhu", "school_research", 2, 26),
        ]
    ):
        day = min(start + timedelta(days=30 * months), ctx.today)
        entries.append(
            LedgerEntry(
                teacher_id=demo_teacher.pk,
                cycle=cycle,
                school_year=rules.school_year_of(day),
                category=category,
                level=level,
                amount=D(amount),
                earned_on=day,
                source_type=SourceType.HISTORY,
                source_id=demo_teacher.pk,
                part=f"demo{n}",
                note="历史学分（原学分系统导入）",
            )
        )
    services.ledger_insert_bulk(entries)

    # Degree offsets: approved, pending and refused in the demo county.
    county = ctx.data["counties"][0]
    county_teachers = [t for t in others if t.school.county_id == county.pk][:6]
    bureau = actor_for("demo_county")
    year = rules.school_year_of(ctx.today)
    for teacher, degree, status in (
        (county_teachers[0], "master", "approved"),
        (county_teachers[1], "bachelor", "pending"),
        (county_teachers[2], "master", "pending"),
    ):
        teacher.probation_end = date(2010, 8, 31)
        teacher.save(update_fields=["probation_end"])
        offset = DegreeOffset.objects.create(
            teacher=teacher,
            degree=degree,
            institution_name="示范师范大学",
            obtained_on=date(year, 7, 1) if date(year, 7, 1) <= ctx.today else date(year - 1, 7, 1),
            certificate=certificate_pdf(teacher.name, dict(DegreeOffset.Degree.choices)[degree]),
        )
        if status == "approved":
            services.degree_offset_review(actor=bureau, offset=offset, approve=True, note="证书核验无误")
    late = county_teachers[3]
    offset = DegreeOffset.objects.create(
        teacher=late,
        degree="bachelor",
        institution_name="南浦大学",
        obtained_on=date(2017, 7, 1),
        certificate=certificate_pdf(late.name, "本科"),
    )
    services.degree_offset_review(
        actor=bureau, offset=offset, approve=False, note="学历获得时间早于本培训周期，不能冲抵"
    )

    # Floor training: the demo county's programme is accepted and running; another county's is filed.
    programme = services.floor_propose(
        actor=bureau,
        name=f"{county.name}{year}学年全员托底培训",
        school_year=year,
        reason="按学分引擎预测，全区有相当比例教师周期末统筹学分不足，申请开展线上全员托底培训。",
        credits_per_teacher="1.5",
        hours="15",
    )
    services.floor_file(actor=bureau, programme=programme)
    services.floor_decide(actor=actor_for("demo_city"), programme=programme, accept=True, feedback="同意备案")
    from .reports import at_risk_teacher_ids

    ids = at_risk_teacher_ids(county=county, rules=rules)[:40]
    services.floor_add_participants(actor=bureau, programme=programme, teacher_ids=ids)
    services.floor_complete(actor=bureau, programme=programme, teacher_ids=ids[:20], completed_on=ctx.today)
    second = ctx.data["counties"][1]
    filed = services.floor_propose(
        actor=actor_for("demo_county2"),
        name=f"{second.name}{year}学年托底培训",
        school_year=year,
        reason="山区教师参加集中培训机会少，预计统筹学分缺口较大。",
        credits_per_teacher="1.0",
        hours="10",
    )
    services.floor_file(actor=actor_for("demo_county2"), programme=filed)
