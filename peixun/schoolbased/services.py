"""School-based training writes: plans (file, review), activity records, evidence, approval → credits."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record, snapshot
from peixun.core.choices import join_codes
from peixun.core.errors import Conflict, InvalidInput
from peixun.core.scopes import Actor, require
from peixun.credits import selectors as credit_selectors
from peixun.credits.engine import plain
from peixun.credits.models import SourceType
from peixun.credits.policy import Rules
from peixun.credits.services import ledger_post, ledger_reverse_source
from peixun.roster.models import Teacher

from .models import ActivityRecord, Evidence, Form, SchoolPlan

EDITABLE = (SchoolPlan.Status.DRAFT, SchoolPlan.Status.RETURNED)


def _plan_values(rules: Rules, *, title, forms, hours_per_credit, activities, responsible, other_forms="") -> dict:
    title, activities, responsible = (title or "").strip(), (activities or "").strip(), (responsible or "").strip()
    if not title:
        raise InvalidInput(_("Give the plan a title."), details={"field": "title"})
    forms = [f for f in forms or [] if f]
    if not forms or any(f not in Form.values for f in forms):
        raise InvalidInput(_("Choose at least one form."), details={"field": "forms"})
    if Form.OTHER in forms and not (other_forms or "").strip():
        raise InvalidInput(_("Name the other forms the school proposes."), details={"field": "other_forms"})
    try:
        hpc = Decimal(str(hours_per_credit))
    except Exception:
        raise InvalidInput(_("Enter the hours per credit."), details={"field": "hours_per_credit"}) from None
    if not hpc.is_finite() or hpc < rules.min_hours_per_credit or hpc > 1000:
        raise InvalidInput(
            _("The conversion may not be lower than the county standard: at least %(min)s hours per credit.")
            % {"min": plain(rules.min_hours_per_credit)},
            details={"field": "hours_per_credit"},
        )
    if not activities:
        raise InvalidInput(_("Describe the planned activities."), details={"field": "activities"})
    if not responsible:
        raise InvalidInput(_("Name the responsible people."), details={"field": "responsible"})
    return {
        "title": title[:100],
        "forms": join_codes(forms),
        "other_forms": (other_forms or "").strip()[:200],
        "hours_per_credit": hpc,
        "activities": activities,
        "responsible": responsible[:200],
    }


@transaction.atomic
def plan_create(*, actor: Actor, school_year: int, **fields) -> SchoolPlan:
    """A school (village schools included) drafts its annual plan."""
    require(actor, "schoolbased.plan.edit")
    if actor.school is None:
        raise Conflict(_("Only a school can file a school-based plan."))
    if not (2000 <= int(school_year) <= 2100):
        raise InvalidInput(_("Choose the school year."), details={"field": "school_year"})
    values = _plan_values(credit_selectors.active_rules(), **fields)
    try:
        with transaction.atomic():
            plan = SchoolPlan.objects.create(
                school=actor.school, school_year=int(school_year), created_by=actor.user, **values
            )
    except IntegrityError:
        raise Conflict(
            _("The school already has a plan for this school year."), details={"field": "school_year"}
        ) from None
    audit_record(actor, "schoolbased.plan.create", plan, summary=plan.title, after=snapshot(plan))
    return plan


@transaction.atomic
def plan_update(*, actor: Actor, plan: SchoolPlan, **fields) -> SchoolPlan:
    require(actor, "schoolbased.plan.edit", plan)
    plan = SchoolPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in EDITABLE:
        raise Conflict(_("Only a draft or returned plan can be edited."))
    before = snapshot(plan)
    for key, value in _plan_values(credit_selectors.active_rules(), **fields).items():
        setattr(plan, key, value)
    plan.save()
    audit_record(actor, "schoolbased.plan.update", plan, summary=plan.title, before=before, after=snapshot(plan))
    return plan


@transaction.atomic
def plan_submit(*, actor: Actor, plan: SchoolPlan) -> SchoolPlan:
    """File the plan with the county bureau (or its teacher-development school) for review."""
    require(actor, "schoolbased.plan.edit", plan)
    plan = SchoolPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in EDITABLE:
        raise Conflict(_("Only a draft or returned plan can be submitted."))
    plan.status = SchoolPlan.Status.SUBMITTED
    plan.submitted_at = timezone.now()
    plan.save(update_fields=["status", "submitted_at"])
    audit_record(actor, "schoolbased.plan.submit", plan, summary=plan.title)
    return plan


@transaction.atomic
def plan_review(
    *,
    actor: Actor,
    plan: SchoolPlan,
    approve: bool,
    feedback: str = "",
    review_body: str = SchoolPlan.ReviewBody.BUREAU,
) -> SchoolPlan:
    require(actor, "schoolbased.plan.review", plan)
    plan = SchoolPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status != SchoolPlan.Status.SUBMITTED:
        raise Conflict(_("Only a submitted plan can be reviewed."))
    feedback = (feedback or "").strip()
    if not approve and not feedback:
        raise InvalidInput(_("Give feedback when returning a plan."), details={"field": "feedback"})
    if review_body not in SchoolPlan.ReviewBody.values:
        review_body = SchoolPlan.ReviewBody.BUREAU
    plan.status = SchoolPlan.Status.APPROVED if approve else SchoolPlan.Status.RETURNED
    plan.feedback = feedback[:500]
    plan.review_body = review_body
    plan.reviewed_at = timezone.now()
    plan.reviewed_by = actor.user
    plan.save(update_fields=["status", "feedback", "review_body", "reviewed_at", "reviewed_by"])
    audit_record(
        actor,
        "schoolbased.plan.approve" if approve else "schoolbased.plan.return",
        plan,
        summary=feedback or plan.title,
        after={"status": plan.status},
    )
    return plan


def record_credits(record: ActivityRecord, rules: Rules) -> tuple[Decimal, str]:
    """The credits a record earns under the item rules or the plan's conversion, and how."""
    items = rules.items
    if record.kind == ActivityRecord.Kind.LISTEN:
        per = int(items.get("listen", {}).get("per_credit", 20))
        return Decimal(record.quantity // per), _("%(n)s lessons listened; %(per)s = 1 credit") % {
            "n": record.quantity,
            "per": per,
        }
    if record.kind in (ActivityRecord.Kind.OPEN_LESSON, ActivityRecord.Kind.LECTURE):
        rule = items.get(record.kind, {"county": 1, "school": 2})
        per = int(rule.get(record.level or "school", 2))
        return Decimal(record.quantity // per), _("%(n)s at this level; %(per)s = 1 credit") % {
            "n": record.quantity,
            "per": per,
        }
    hpc = record.plan.hours_per_credit
    credits = (record.hours / hpc).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    return credits, _("%(hours)s hours; %(hpc)s hours = 1 credit (the plan's conversion)") % {
        "hours": record.hours,
        "hpc": plain(hpc),
    }


@transaction.atomic
def record_create(
    *,
    actor: Actor,
    plan: SchoolPlan,
    teacher: Teacher,
    kind: str,
    held_on: date,
    description: str,
    form: str = "",
    level: str = "",
    quantity: int = 0,
    hours=0,
    assessing_body: str = "",
    assessment_passed: bool = False,
) -> ActivityRecord:
    require(actor, "schoolbased.record.edit", plan)
    if plan.status != SchoolPlan.Status.APPROVED:
        raise Conflict(_("Activities are recorded under an approved plan only."))
    if teacher.school_id != plan.school_id:
        raise InvalidInput(_("The teacher does not belong to the plan's school."), details={"field": "teacher"})
    if kind not in ActivityRecord.Kind.values:
        raise InvalidInput(_("Choose the kind of activity."), details={"field": "kind"})
    rules = credit_selectors.active_rules()
    if rules.school_year_of(held_on) != plan.school_year:
        raise InvalidInput(_("The date must fall in the plan's school year."), details={"field": "held_on"})
    description = (description or "").strip()
    if not description:
        raise InvalidInput(
            _("Write the process record (what was done, when, by whom)."), details={"field": "description"}
        )
    try:
        hours = Decimal(str(hours or 0))
    except Exception:
        raise InvalidInput(_("Enter the hours."), details={"field": "hours"}) from None
    if not hours.is_finite() or hours < 0 or hours > 10000 or not (0 <= int(quantity or 0) <= 10000):
        raise InvalidInput(_("The number is out of range."), details={"field": "hours"})
    if (
        kind in (ActivityRecord.Kind.OPEN_LESSON, ActivityRecord.Kind.LECTURE)
        and level not in ActivityRecord.Level.values
    ):
        raise InvalidInput(_("Choose the level."), details={"field": "level"})
    if kind in (ActivityRecord.Kind.HOURS, ActivityRecord.Kind.WORKSHOP):
        if form not in plan.form_list:
            raise InvalidInput(_("Choose one of the plan's forms."), details={"field": "form"})
        if hours <= 0:
            raise InvalidInput(_("Enter the hours."), details={"field": "hours"})
    if kind == ActivityRecord.Kind.WORKSHOP and not (assessing_body or "").strip():
        raise InvalidInput(
            _("Name the workshop or studio whose assessment this is."), details={"field": "assessing_body"}
        )
    record = ActivityRecord.objects.create(
        plan=plan,
        teacher=teacher,
        kind=kind,
        form=form if kind in (ActivityRecord.Kind.HOURS, ActivityRecord.Kind.WORKSHOP) else "",
        level=level if kind in (ActivityRecord.Kind.OPEN_LESSON, ActivityRecord.Kind.LECTURE) else "",
        quantity=int(quantity or 0),
        hours=hours,
        held_on=held_on,
        description=description,
        assessing_body=(assessing_body or "").strip()[:100],
        assessment_passed=bool(assessment_passed),
        created_by=actor.user,
    )
    audit_record(actor, "schoolbased.record.create", record, summary=f"{teacher.name} {record.get_kind_display()}")
    return record


@transaction.atomic
def evidence_add(*, actor: Actor, record: ActivityRecord, file) -> Evidence:
    require(actor, "schoolbased.record.edit", record)
    if record.status != ActivityRecord.Status.DRAFT:
        raise Conflict(_("Evidence is added before approval."))
    evidence = Evidence.objects.create(record=record, file=file, name=file.name[:200], uploaded_by=actor.user)
    audit_record(actor, "schoolbased.evidence.add", evidence, summary=evidence.name)
    return evidence


@transaction.atomic
def record_approve(*, actor: Actor, record: ActivityRecord) -> ActivityRecord:
    """Approve a record: its credits are posted under the plan's conversion or the item rules."""
    require(actor, "schoolbased.record.approve", record)
    record = ActivityRecord.objects.select_for_update().select_related("plan", "teacher").get(pk=record.pk)
    if record.status == ActivityRecord.Status.APPROVED:
        return record  # approving twice posts nothing more
    if record.status != ActivityRecord.Status.DRAFT:
        raise Conflict(_("Only a recorded activity can be approved."))
    if not record.evidence.exists():
        raise Conflict(_("Attach the process evidence (sign-in sheet, notes, photos) before approving."))
    if record.kind == ActivityRecord.Kind.WORKSHOP and not record.assessment_passed:
        raise Conflict(
            _("The workshop or studio has not passed this teacher in its assessment; no credits are posted.")
        )
    rules = credit_selectors.active_rules()
    credits, how = record_credits(record, rules)
    if credits <= 0:
        raise Conflict(_("This record does not reach one credit yet: %(how)s.") % {"how": how})
    level = record.form if record.kind in (ActivityRecord.Kind.HOURS, ActivityRecord.Kind.WORKSHOP) else "item"
    ledger_post(
        actor=actor,
        teacher=record.teacher,
        category=rules.schoolbased_category,
        level=level,
        amount=credits,
        source_type=SourceType.SCHOOLBASED,
        source_id=record.pk,
        earned_on=record.held_on,
        note=f"{record.plan.title} · {record.get_kind_display()}"[:300],
        rules=rules,
    )
    record.status = ActivityRecord.Status.APPROVED
    record.credits = credits
    record.approved_by = actor.user
    record.approved_at = timezone.now()
    record.save(update_fields=["status", "credits", "approved_by", "approved_at"])
    audit_record(actor, "schoolbased.record.approve", record, summary=f"{record.teacher.name} {credits}: {how}")
    return record


@transaction.atomic
def record_revoke(*, actor: Actor, record: ActivityRecord, reason: str) -> ActivityRecord:
    require(actor, "schoolbased.record.approve", record)
    record = ActivityRecord.objects.select_for_update().get(pk=record.pk)
    if record.status != ActivityRecord.Status.APPROVED:
        raise Conflict(_("Only an approved record can be revoked."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for revoking."), details={"field": "reason"})
    ledger_reverse_source(actor=actor, source_type=SourceType.SCHOOLBASED, source_id=record.pk, reason=reason)
    record.status = ActivityRecord.Status.REVOKED
    record.save(update_fields=["status"])
    audit_record(actor, "schoolbased.record.revoke", record, summary=reason)
    return record
