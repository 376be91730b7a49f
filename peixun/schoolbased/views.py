from django.contrib import messages
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.decorators import actor_required, roles_required
from peixun.core.errors import DomainError
from peixun.core.lists import paginate
from peixun.core.roles import Role
from peixun.core.scopes import can
from peixun.credits.selectors import active_rules
from peixun.roster.models import Teacher

from . import selectors, services
from .forms import EvidenceForm, PlanEditForm, PlanReviewForm, RecordForm, RevokeForm
from .models import ActivityRecord, SchoolPlan


@actor_required
def plan_list(request):
    actor = request.actor
    qs = selectors.plan_list(actor=actor, status=request.GET.get("status", ""))
    return render(
        request,
        "schoolbased/plan_list.html",
        {
            "state": paginate(request, qs),
            "statuses": SchoolPlan.Status.choices,
            "can_edit": can(actor, "schoolbased.plan.edit"),
        },
    )


def _plan_fields(cd) -> dict:
    return {k: cd[k] for k in ("title", "forms", "other_forms", "hours_per_credit", "activities", "responsible")}


@roles_required(Role.SCHOOL)
def plan_new(request):
    rules = active_rules()
    form = PlanEditForm(
        request.POST or None,
        initial={"school_year": rules.school_year_of(timezone.localdate()), "hours_per_credit": "10"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_create(
                actor=request.actor, school_year=form.cleaned_data["school_year"], **_plan_fields(form.cleaned_data)
            )
            return redirect("schoolbased:plan_detail", pk=plan.pk)
        except DomainError as exc:
            form.add_domain_error(exc)
    return render(request, "generic_form.html", {"form": form, "title": _("New school-based training plan")})


@roles_required(Role.SCHOOL)
def plan_edit(request, pk):
    plan = selectors.plan_get(actor=request.actor, plan_id=pk)
    initial = {
        "school_year": plan.school_year,
        "title": plan.title,
        "forms": plan.form_list,
        "other_forms": plan.other_forms,
        "hours_per_credit": plan.hours_per_credit,
        "activities": plan.activities,
        "responsible": plan.responsible,
    }
    form = PlanEditForm(request.POST or None, initial=initial)
    form.fields["school_year"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.plan_update(actor=request.actor, plan=plan, **_plan_fields(form.cleaned_data))
            return redirect("schoolbased:plan_detail", pk=plan.pk)
        except DomainError as exc:
            form.add_domain_error(exc)
    return render(request, "generic_form.html", {"form": form, "title": _("Edit school-based training plan")})


@actor_required
def plan_detail(request, pk):
    actor = request.actor
    plan = selectors.plan_get(actor=actor, plan_id=pk)
    can_edit = can(actor, "schoolbased.plan.edit", plan)
    can_review = can(actor, "schoolbased.plan.review", plan) and plan.status == SchoolPlan.Status.SUBMITTED
    can_record = can(actor, "schoolbased.record.edit", plan) and plan.status == SchoolPlan.Status.APPROVED
    review_form = PlanReviewForm(request.POST if request.POST.get("form") == "review" else None) if can_review else None
    record_form = None
    if can_record:
        teachers = Teacher.objects.filter(school=plan.school, status=Teacher.Status.ACTIVE).order_by("name")
        record_form = RecordForm(
            request.POST if request.POST.get("form") == "record" else None,
            request.FILES if request.POST.get("form") == "record" else None,
            plan=plan,
            teachers=teachers,
            prefix="rec",
        )
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "submit" and can_edit:
                services.plan_submit(actor=actor, plan=plan)
                messages.success(request, _("The plan has been filed with the county for review."))
                return redirect("schoolbased:plan_detail", pk=pk)
            if which == "review" and review_form is not None and review_form.is_valid():
                services.plan_review(
                    actor=actor,
                    plan=plan,
                    approve=request.POST.get("decision") == "approve",
                    feedback=review_form.cleaned_data["feedback"],
                    review_body=review_form.cleaned_data["review_body"],
                )
                return redirect("schoolbased:plan_detail", pk=pk)
            if which == "record" and record_form is not None and record_form.is_valid():
                cd = dict(record_form.cleaned_data)
                evidence = cd.pop("evidence")
                teacher = Teacher.objects.get(pk=cd.pop("teacher"), school=plan.school)
                with transaction.atomic():
                    record = services.record_create(
                        actor=actor,
                        plan=plan,
                        teacher=teacher,
                        **{k: (v if v is not None else 0) for k, v in cd.items()},
                    )
                    if evidence:
                        services.evidence_add(actor=actor, record=record, file=evidence)
                messages.success(request, _("The activity has been recorded."))
                return redirect("schoolbased:plan_detail", pk=pk)
        except DomainError as exc:
            target = review_form if which == "review" else record_form
            if target is not None:
                target.add_domain_error(exc)
            else:
                messages.error(request, exc.message)
    records = selectors.record_list(actor=actor, plan=plan)
    return render(
        request,
        "schoolbased/plan_detail.html",
        {
            "plan": plan,
            "state": paginate(request, records),
            "can_edit": can_edit and plan.status in services.EDITABLE,
            "review_form": review_form,
            "record_form": record_form,
        },
    )


@actor_required
def record_detail(request, pk):
    actor = request.actor
    record = selectors.record_get(actor=actor, record_id=pk)
    can_edit = can(actor, "schoolbased.record.edit", record)
    evidence_form = EvidenceForm(
        request.POST if request.POST.get("form") == "evidence" else None, request.FILES or None
    )
    revoke_form = RevokeForm(request.POST if request.POST.get("form") == "revoke" else None)
    if request.method == "POST" and can_edit:
        which = request.POST.get("form")
        try:
            if which == "evidence" and evidence_form.is_valid():
                services.evidence_add(actor=actor, record=record, file=evidence_form.cleaned_data["file"])
            elif which == "approve":
                record = services.record_approve(actor=actor, record=record)
                messages.success(request, _("Approved: %(credits)s credits posted.") % {"credits": record.credits})
            elif which == "revoke" and revoke_form.is_valid():
                services.record_revoke(actor=actor, record=record, reason=revoke_form.cleaned_data["reason"])
                messages.success(request, _("Revoked: the credits have been reversed on the ledger."))
            else:
                raise DomainError(_("Check the form."))
            return redirect("schoolbased:record_detail", pk=pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    credits, how = services.record_credits(record, active_rules())
    return render(
        request,
        "schoolbased/record_detail.html",
        {
            "record": record,
            "evidence": record.evidence.all(),
            "can_edit": can_edit,
            "evidence_form": evidence_form,
            "revoke_form": revoke_form,
            "credits_preview": credits,
            "how": how,
            "Status": ActivityRecord.Status,
        },
    )


@actor_required
def evidence_download(request, pk):
    """Evidence files are served only to those who may see the record (never from MEDIA_URL)."""
    evidence = selectors.evidence_get(actor=request.actor, evidence_id=pk)
    return FileResponse(evidence.file.open("rb"), as_attachment=False, filename=evidence.name)
