"""Demo school-based training: plans in every state (one of a village school), records with evidence,
approved records posting credits (the demo teacher included)."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.base import ContentFile

from peixun.credits.demo import actor_for
from peixun.roster.models import Teacher

from . import services
from .models import ActivityRecord


def _evidence(text: str) -> ContentFile:
    from peixun.credits.demo import certificate_pdf

    return certificate_pdf(text, "校本研修过程记录")


def seed(ctx) -> None:
    rules = ctx.data["credit_rules"]
    year = rules.school_year_of(ctx.today)
    schools = ctx.data["schools"]
    county_admin = actor_for("demo_county")
    school_admin = actor_for("demo_school")
    demo_school = schools[0]
    base = {
        "forms": ["school_training", "school_research", "workshop"],
        "hours_per_credit": "10",
        "activities": "1. 每月一次新课标专题培训（教务处）\n2. 每周学科组集体备课与听评课\n3. 参加区初中数学名师工作室研修",
        "responsible": "校长、教务处主任、各学科组长",
    }
    plan = services.plan_create(
        actor=school_admin, school_year=year, title=f"{demo_school.name}{year}学年校本研修方案", **base
    )
    services.plan_submit(actor=school_admin, plan=plan)
    plan = services.plan_review(
        actor=county_admin, plan=plan, approve=True, feedback="方案完整，同意实施。", review_body="dev_school"
    )

    teachers = list(Teacher.objects.filter(school=demo_school, status=Teacher.Status.ACTIVE).order_by("pk")[:6])
    demo_teacher = ctx.data["demo_teacher"]
    if demo_teacher not in teachers:
        teachers.insert(0, demo_teacher)
    day = max(ctx.today - timedelta(days=20), rules.cycle_bounds(rules.cycle_of(ctx.today))[0])
    if rules.school_year_of(day) != year:
        day = ctx.today
    for i, teacher in enumerate(teachers):
        kinds = [
            {"kind": "listen", "quantity": 22, "description": "本学年听课记录本，已听课22节"},
            {
                "kind": "hours",
                "form": "school_training",
                "hours": "12",
                "description": "新课标专题培训4次，每次3学时，签到表附后",
            },
            {
                "kind": "open_lesson",
                "level": "school",
                "quantity": 2,
                "description": "校级公开课2节，教研组评课记录附后",
            },
        ]
        spec = kinds[i % len(kinds)]
        record = services.record_create(actor=school_admin, plan=plan, teacher=teacher, held_on=day, **spec)
        services.evidence_add(actor=school_admin, record=record, file=_evidence(teacher.name))
        if i % 3 != 2:  # leave some waiting for approval
            services.record_approve(actor=school_admin, record=record)
    workshop = services.record_create(
        actor=school_admin,
        plan=plan,
        teacher=teachers[1],
        kind=ActivityRecord.Kind.WORKSHOP,
        form="workshop",
        hours="20",
        held_on=day,
        description="区初中数学名师工作室本学年研修活动",
        assessing_body="区初中数学名师工作室",
        assessment_passed=True,
    )
    services.evidence_add(actor=school_admin, record=workshop, file=_evidence("工作室考核结论"))
    services.record_approve(actor=school_admin, record=workshop)

    # Other schools of the demo county: submitted, returned, draft; a village school's own plan approved.
    county_schools = [s for s in schools if s.county_id == demo_school.county_id and s.pk != demo_school.pk]
    states = ["submitted", "returned", "draft"]
    for school, state in zip(county_schools, states):
        admin = actor_for_school(school)
        p = services.plan_create(actor=admin, school_year=year, title=f"{school.name}{year}学年校本研修方案", **base)
        if state in ("submitted", "returned"):
            services.plan_submit(actor=admin, plan=p)
        if state == "returned":
            services.plan_review(
                actor=county_admin, plan=p, approve=False, feedback="请补充各项活动的学分折算标准和过程记录要求。"
            )
    village = next((s for s in county_schools if s.is_rural), None)
    if village is not None and village not in county_schools[: len(states)]:
        admin = actor_for_school(village)
        p = services.plan_create(
            actor=admin,
            school_year=year,
            title=f"{village.name}{year}学年校本研修方案（村小自主）",
            forms=["workshop", "other"],
            other_forms="送教下乡听评课",
            hours_per_credit="10",
            activities="参加县级名师工作坊；送教下乡听评课",
            responsible="校长",
        )
        services.plan_submit(actor=admin, plan=p)
        services.plan_review(actor=county_admin, plan=p, approve=True, review_body="bureau")


def actor_for_school(school):
    """The principal's school-admin grant (every demo school has one)."""
    from peixun.accounts.models import RoleGrant
    from peixun.core.scopes import Actor

    grant = RoleGrant.objects.select_related("user", "school").filter(role="school", school=school).first()
    return Actor.from_grant(grant)
