from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.core.decorators import actor_required, roles_required
from peixun.core.errors import DomainError
from peixun.core.exports import export_or_job
from peixun.core.lists import paginate
from peixun.core.roles import Role
from peixun.core.scopes import can, require
from peixun.orgs.selectors import counties
from peixun.roster.models import Teacher
from peixun.roster.selectors import teacher_get

from . import exports, reports, selectors, services
from .forms import (
    AdjustmentForm,
    DegreeApplyForm,
    FeedbackForm,
    FloorForm,
    PolicyCreateForm,
    PolicyEditForm,
    ReviewForm,
)
from .models import FloorProgramme, Policy, ReviewStatus, SourceType
from .policy import level_label


def _chart_data(standing) -> dict:
    cats = [c for c in standing.categories if c.required or c.earned]
    return {
        "categories": [
            {
                "label": c.label,
                "counted": float(c.counted + c.transferred_in),
                "required": float(c.required),
                "projected": float(c.projected),
                "percent": c.percent,
            }
            for c in cats
        ],
        "labels": {"counted": _("Counted"), "required": _("Required"), "projected": _("Projected at cycle end")},
    }


def _credit_page(request, teacher, *, own: bool):
    actor = request.actor
    upcoming = selectors.upcoming_classes(teacher)
    standing, rows = selectors.teacher_standing(actor=actor, teacher=teacher, upcoming=upcoming)
    rules = selectors.active_rules()
    adjust_form = None
    if not own and can(actor, "credits.adjust", teacher):
        adjust_form = AdjustmentForm(
            request.POST or None, rules=rules, initial={"earned_on": timezone.localdate()}, prefix="adj"
        )
        if request.method == "POST" and adjust_form.is_valid():
            try:
                services.adjustment_create(actor=actor, teacher=teacher, **adjust_form.cleaned_data)
                messages.success(request, _("The adjustment has been posted."))
                return redirect("credits:teacher_credits", pk=teacher.pk)
            except DomainError as exc:
                adjust_form.add_domain_error(exc)
    from peixun.catalog.models import Project

    projects = dict(
        Project.objects.filter(pk__in={e.project_id for e in rows if e.project_id}).values_list("pk", "name")
    )
    sources = dict(SourceType.choices)
    for c in standing.categories:
        c.level_items = [(level_label(k), v) for k, v in sorted(c.levels.items(), key=lambda kv: -kv[1])]
    explained = [
        (sources.get(x.entry.source_type, x.entry.source_type), x, projects.get(x.entry.project_id, ""))
        for x in standing.explanations
    ]
    return render(
        request,
        "credits/teacher_credits.html",
        {
            "teacher": teacher,
            "standing": standing,
            "explained": explained,
            "own": own,
            "adjust_form": adjust_form,
            "chart": _chart_data(standing),
            "upcoming": upcoming,
            "policy": selectors.active_policy(),
            "offsets": teacher.degree_offsets.all()[:10] if own else None,
            "can_certificate": own or can(actor, "reports.certificate.issue", teacher),
        },
    )


@roles_required(Role.TEACHER)
def my_credits(request):
    teacher = Teacher.objects.filter(pk=request.actor.teacher_id).first()
    if teacher is None:
        raise Http404
    return _credit_page(request, teacher, own=True)


@actor_required
def teacher_credits(request, pk):
    teacher = teacher_get(actor=request.actor, teacher_id=pk)
    return _credit_page(request, teacher, own=request.actor.teacher_id == teacher.pk)


@actor_required
def standing_list(request):
    actor = request.actor
    require(actor, "credits.standing.view")
    params = {k: request.GET.get(k, "") for k in ("q", "county", "school", "status")}
    if request.GET.get("export"):
        return export_or_job(request, "credits.standings", params)
    qs = exports.standing_queryset(actor, params)
    rules = selectors.active_rules()
    state = paginate(request, qs)
    standings = selectors.standings_for([t.pk for t in state.rows], rules=rules)
    rows = [(t, standings[t.pk]) for t in state.rows]
    base = selectors.standing_teachers(
        actor=actor, school_id=params["school"] or None, county_id=params["county"] or None
    )
    summary = reports.scope_summary(base, rules=rules)
    return render(
        request,
        "credits/standing_list.html",
        {
            "state": state,
            "rows": rows,
            "rules": rules,
            "summary": summary,
            "counties": counties(actor=actor) if actor.region else [],
            "status": params["status"],
            "category_codes": [c for c in rules.categories if not c.separate],
        },
    )


@actor_required
def region_report(request):
    actor = request.actor
    require(actor, "credits.standing.view")
    if request.GET.get("export"):
        return export_or_job(request, "credits.report", {})
    rules = selectors.active_rules()
    data = reports.region_report(actor=actor, rules=rules)
    return render(request, "credits/region_report.html", {"data": data, "rules": rules})


# --- policies ---------------------------------------------------------------------------


@actor_required
def policy_list(request):
    actor = request.actor
    policies = selectors.policy_list(actor=actor)
    form = None
    if can(actor, "credits.policy.manage"):
        form = PolicyCreateForm(request.POST or None, policies=list(policies))
        if request.method == "POST" and form.is_valid():
            kind, _sep, value = form.cleaned_data["start"].partition(":")
            try:
                based_on = selectors.policy_get(actor=actor, policy_id=int(value)) if kind == "policy" else None
                policy = services.policy_create_draft(
                    actor=actor,
                    name=form.cleaned_data["name"],
                    preset=value if kind == "preset" else "",
                    based_on=based_on,
                )
                return redirect("credits:policy_edit", pk=policy.pk)
            except DomainError as exc:
                form.add_domain_error(exc)
    return render(request, "credits/policy_list.html", {"policies": policies, "form": form})


@actor_required
def policy_detail(request, pk):
    policy = selectors.policy_get(actor=request.actor, policy_id=pk)
    rules = selectors.rules_for(policy)
    can_manage = can(request.actor, "credits.policy.manage")
    job = selectors.activation_job(actor=request.actor, policy=policy) if can_manage else None
    return render(
        request,
        "credits/policy_detail.html",
        {"policy": policy, "rules": rules, "can_manage": can_manage, "job": job},
    )


@roles_required(Role.PROVINCE)
def policy_edit(request, pk):
    actor = request.actor
    policy = selectors.policy_get(actor=actor, policy_id=pk)
    if policy.status != Policy.Status.DRAFT:
        messages.info(request, _("Only a draft policy can be edited; copy it to a new draft."))
        return redirect("credits:policy_detail", pk=pk)
    form = PolicyEditForm(request.POST or None, policy=policy)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update_draft(
                actor=actor,
                policy=policy,
                data=form.policy_data(),
                name=form.cleaned_data["name"],
                note=form.cleaned_data["note"],
            )
            messages.success(request, _("Saved. Compare it with the active policy before activating."))
            return redirect("credits:policy_whatif", pk=pk)
        except DomainError as exc:
            form.add_domain_error(exc)
    return render(request, "credits/policy_edit.html", {"policy": policy, "form": form})


@require_POST
@roles_required(Role.PROVINCE)
def policy_activate(request, pk):
    policy = selectors.policy_get(actor=request.actor, policy_id=pk)
    try:
        services.policy_activate(actor=request.actor, policy=policy)
        messages.success(
            request,
            _(
                "The policy is active. Standings (and the per-cycle summary, if the cycles changed) are "
                "recomputed from the unchanged ledger in the background, as shown below; until then every "
                "page and report computes them directly."
            ),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("credits:policy_detail", pk=pk)


@roles_required(Role.PROVINCE)
def policy_whatif(request, pk):
    """The comparison runs as a background job (POST starts it); the page shows its progress, then its result."""
    actor = request.actor
    policy = selectors.policy_get(actor=actor, policy_id=pk)
    if request.method == "POST":
        try:
            services.whatif_start(actor=actor, policy=policy)
            messages.success(request, _("The comparison is running in the background; its result appears here."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("credits:policy_whatif", pk=pk)
    job = selectors.whatif_job(actor=actor, policy=policy)
    done = job is not None and job.status == job.Status.SUCCEEDED
    context = {
        "policy": policy,
        "job": job,
        "comparison": job.result.get("comparison") if done else None,
        "outdated": done and selectors.whatif_outdated(job, policy),
    }
    return render(request, "credits/policy_whatif.html", context)


# --- degree offsets ---------------------------------------------------------------------


@actor_required
def degree_list(request):
    actor = request.actor
    qs = selectors.degree_offset_list(actor=actor, status=request.GET.get("status", ""))
    return render(
        request,
        "credits/degree_list.html",
        {
            "state": paginate(request, qs),
            "statuses": ReviewStatus.choices,
            "can_apply": can(actor, "credits.degree.apply"),
        },
    )


@roles_required(Role.TEACHER)
def degree_apply(request):
    form = DegreeApplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.degree_offset_apply(actor=request.actor, **form.cleaned_data)
            messages.success(request, _("Your application has been submitted to the county for review."))
            return redirect("credits:degree_list")
        except DomainError as exc:
            form.add_domain_error(exc)
    return render(request, "credits/degree_apply.html", {"form": form})


@actor_required
def degree_detail(request, pk):
    actor = request.actor
    offset = selectors.degree_offset_get(actor=actor, offset_id=pk)
    form = None
    if can(actor, "credits.degree.review", offset) and offset.status == ReviewStatus.PENDING:
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.degree_offset_review(
                    actor=actor,
                    offset=offset,
                    approve=request.POST.get("decision") == "approve",
                    note=form.cleaned_data["note"],
                )
                messages.success(request, _("The decision has been recorded."))
                return redirect("credits:degree_detail", pk=pk)
            except DomainError as exc:
                form.add_domain_error(exc)
    return render(request, "credits/degree_detail.html", {"offset": offset, "form": form})


@actor_required
def degree_certificate(request, pk):
    """The certificate file, served only to those who may see the application."""
    offset = selectors.degree_offset_get(actor=request.actor, offset_id=pk)
    if not offset.certificate:
        raise Http404
    name = offset.certificate.name.rsplit("/", 1)[-1]
    return FileResponse(offset.certificate.open("rb"), as_attachment=False, filename=name)


# --- floor training ---------------------------------------------------------------------


@actor_required
def floor_list(request):
    actor = request.actor
    return render(
        request,
        "credits/floor_list.html",
        {
            "state": paginate(request, selectors.floor_list(actor=actor)),
            "can_propose": can(actor, "credits.floor.propose"),
        },
    )


@roles_required(Role.COUNTY)
def floor_new(request):
    actor = request.actor
    rules = selectors.active_rules()
    today = timezone.localdate()
    form = FloorForm(
        request.POST or None,
        initial={
            "school_year": rules.school_year_of(today),
            "credits_per_teacher": "1.5",
            "hours": "15",
            "format": "online",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            programme = services.floor_propose(actor=actor, **form.cleaned_data)
            return redirect("credits:floor_detail", pk=programme.pk)
        except DomainError as exc:
            form.add_domain_error(exc)
    from peixun.orgs.models import Region

    forecast = services.county_forecast(Region.objects.get(pk=actor.county_id), rules) if actor.county_id else None
    return render(request, "credits/floor_new.html", {"form": form, "forecast": forecast, "rules": rules})


@actor_required
def floor_detail(request, pk):
    actor = request.actor
    programme = selectors.floor_get(actor=actor, programme_id=pk)
    feedback_form = FeedbackForm(request.POST or None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "file":
                services.floor_file(actor=actor, programme=programme)
            elif action in ("accept", "return") and feedback_form.is_valid():
                services.floor_decide(
                    actor=actor,
                    programme=programme,
                    accept=action == "accept",
                    feedback=feedback_form.cleaned_data["feedback"],
                )
            elif action == "add_at_risk":
                ids = reports.at_risk_teacher_ids(county=programme.county, rules=selectors.active_rules())
                n = services.floor_add_participants(actor=actor, programme=programme, teacher_ids=ids)
                messages.success(request, _("%(n)s teachers added.") % {"n": n})
            elif action == "complete":
                ids = programme.participants.filter(completed_on__isnull=True).values_list("teacher_id", flat=True)
                done = services.floor_complete(actor=actor, programme=programme, teacher_ids=list(ids))
                messages.success(request, _("Completion recorded for %(n)s teachers.") % {"n": len(done)})
            elif action == "close":
                services.floor_close(actor=actor, programme=programme)
            return redirect("credits:floor_detail", pk=pk)
        except DomainError as exc:
            messages.error(request, exc.message)
    participants = programme.participants.select_related("teacher", "teacher__school")
    return render(
        request,
        "credits/floor_detail.html",
        {
            "programme": programme,
            "state": paginate(request, participants),
            "feedback_form": feedback_form,
            "can_run": can(actor, "credits.floor.propose", programme),
            "can_decide": can(actor, "credits.floor.decide", programme),
            "Status": FloorProgramme.Status,
        },
    )
