"""Catalog pages: browsing, the institution's applications, bureau review, changes, settings, experts."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError, PermissionDenied
from peixun.core.exports import export_or_job
from peixun.core.lists import paginate
from peixun.core.roles import BUREAU_ROLES, Role
from peixun.core.scopes import can, require
from peixun.orgs.models import Institution
from peixun.orgs.selectors import region_get
from peixun.terms.models import Term
from peixun.terms.selectors import term_get, term_list
from peixun.terms.windows import current_term

from . import rules, selectors, services
from .conversion import ONLINE_SHARE_CAP, convert
from .exports import actor_teacher, catalog_query, project_query
from .forms import (
    ChangeRequestForm,
    CheckForm,
    ClassForm,
    CreditCorrectionForm,
    DecisionForm,
    DeleteForm,
    LecturerForm,
    ProjectForm,
    ReasonForm,
    SampleForm,
    ScheduleForm,
    StaffForm,
)
from .models import ChangeRequest, Project, ProjectEvent
from .services._common import is_responsible
from .services.admin import SAMPLE_STATUSES
from .services.changes import DELETABLE_STATUSES, LIVE_STATUSES

S = Project.Status


def _term_from(request, key: str = "term") -> Term | None:
    value = request.GET.get(key)
    if value:
        return term_get(actor=request.actor, term_id=value)
    return current_term()


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


# --- browsing -------------------------------------------------------------------------------


@actor_required
def browse(request):
    actor = request.actor
    if request.GET.get("export"):
        return export_or_job(request, "catalog.catalog", request.GET.dict())
    teacher = actor_teacher(actor)
    qs, form, term = catalog_query(actor, request.GET, teacher)
    return render(
        request,
        "catalog/browse.html",
        {
            "state": paginate(request, qs),
            "filter_form": form,
            "term": term,
            "terms": term_list(actor=actor),
            "teacher": teacher,
        },
    )


@actor_required
def project_detail(request, pk):
    actor = request.actor
    project = selectors.project_get(actor=actor, project_id=pk)
    is_owner = (
        actor.role == Role.INSTITUTION
        and actor.institution is not None
        and actor.institution.pk == project.institution_id
    )
    responsible = is_responsible(actor, project)
    internal = (
        is_owner
        or actor.role in (*BUREAU_ROLES, Role.EXPERT, Role.MONITOR, Role.INSTITUTION_REVIEWER)
        and (actor.role != Role.INSTITUTION_REVIEWER or actor.institution.pk == project.institution_id)
    )
    editable = is_owner and project.status in rules.EDITABLE_STATUSES
    context = {
        "project": project,
        "is_owner": is_owner,
        "internal": internal,
        "editable": editable,
        "responsible": responsible,
        "can_review": responsible and can(actor, "catalog.project.review"),
        "can_delete": can(actor, "catalog.project.delete")
        and (responsible or actor.role == Role.PROVINCE)
        and project.status in DELETABLE_STATUSES,
        "can_correct": can(actor, "catalog.project.correct_credits")
        and (responsible or actor.role == Role.PROVINCE)
        and project.status in (S.SUBMITTED, S.APPROVED, S.PUBLISHED, S.RUNNING, S.FINISHED),
        "can_sample": can(actor, "catalog.lecturer.sample") and project.status in SAMPLE_STATUSES,
        "can_change": is_owner and project.status in LIVE_STATUSES,
        "can_schedule": is_owner and project.status in (S.APPROVED, S.PUBLISHED, S.RUNNING),
        "problems": rules.submission_problems(project) if editable else [],
        "quota": rules.quota_usage(project.term, [project.institution])[0] if is_owner else None,
        "classes": list(project.classes.all()),
        "lecturers": list(project.projectlecturer_set.all()),
        "today": timezone.localdate(),
        "return_form": ReasonForm(prefix="return"),
        "delete_form": DeleteForm(prefix="delete"),
        "correct_form": CreditCorrectionForm(
            prefix="correct", initial={"credit_category": project.credit_category, "credit_level": project.credit_level}
        ),
        "sample_form": SampleForm(prefix="sample"),
        "check_form": CheckForm(prefix="check"),
        "online_cap": int(ONLINE_SHARE_CAP * 100),
    }
    if internal:
        context["checks"] = list(project.lecturer_checks.all())
        context["changes"] = list(project.change_requests.all())
        context["events"] = list(project.events.all())
    return render(request, "catalog/project_detail.html", context)


# --- applying ------------------------------------------------------------------------------


def _project_form_data(form: ProjectForm) -> dict:
    data = dict(form.cleaned_data)
    data["target_regions"] = list(data.get("target_regions") or [])
    if data.get("level") not in rules.LOCAL_LEVELS:
        data["region"] = None
    return data


@actor_required
def project_create(request):
    actor = request.actor
    require(actor, "catalog.project.apply")
    term = _term_from(request)
    if term is None:
        raise DomainError(_("No term has been set up yet."))
    staff = selectors.staff_list(actor=actor)
    form = ProjectForm(
        request.POST or None, staff=staff, initial={"level": "provincial", "credit_category": "tongchou"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(actor=actor, term=term, **_project_form_data(form))
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The draft has been saved. Add classes and lecturers, then submit it."))
            return redirect("catalog:project_detail", pk=project.pk)
    return render(
        request,
        "catalog/project_form.html",
        {
            "form": form,
            "term": term,
            "title": _("New project for %(term)s") % {"term": term.name},
            "preview": _preview(form),
        },
    )


@actor_required
def project_edit(request, pk):
    actor = request.actor
    project = selectors.project_get(actor=actor, project_id=pk)
    require(actor, "catalog.project.apply", project)
    initial = {
        name: getattr(project, name)
        for name in services.PROJECT_FIELDS
        if name not in ("target_stages", "target_subjects", "target_regions", "is_order_project")
    }
    initial.update(
        target_stages=project.stage_list,
        target_subjects=project.subject_list,
        target_regions=list(project.target_regions.all()),
        region=project.region if project.level in rules.LOCAL_LEVELS else None,
    )
    form = ProjectForm(request.POST or None, staff=selectors.staff_list(actor=actor), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(actor=actor, project=project, **_project_form_data(form))
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("catalog:project_detail", pk=project.pk)
    return render(
        request,
        "catalog/project_form.html",
        {
            "form": form,
            "term": project.term,
            "project": project,
            "title": project.name,
            "preview": _preview(form, project),
        },
    )


def _decimal_param(value) -> Decimal:
    try:
        return max(Decimal(str(value or "0")), Decimal("0"))
    except (InvalidOperation, ValueError):
        return Decimal("0")


def _preview(form=None, project=None, params=None) -> dict:
    """Credits for the values on the form (or the project), as the live preview shows them."""
    if params is None:
        if form is not None and form.is_bound:
            params = form.data
        elif project is not None:
            params = {
                "credit_category": project.credit_category,
                "credit_level": project.credit_level,
                "level": project.level,
                "format": project.format,
                "hours_offline": project.hours_offline,
                "hours_online": project.hours_online,
            }
        else:
            params = {"credit_category": "tongchou", "level": "provincial", "format": "face"}
    category, level, fmt = params.get("credit_category", ""), params.get("level", ""), params.get("format", "")
    offline = _decimal_param(params.get("hours_offline")) if fmt != "online" else Decimal("0")
    online = _decimal_param(params.get("hours_online")) if fmt != "face" else Decimal("0")
    conversion = convert(
        category=category,
        level=level,
        credit_level=str(params.get("credit_level") or "").strip(),
        fmt=fmt,
        hours_offline=offline,
        hours_online=online,
    )
    return {
        "credits": conversion.credits,
        "credits_online": conversion.credits_online,
        "hours_per_credit": conversion.hours_per_credit,
        "hours_per_credit_online": conversion.hours_per_credit_online,
        "policy_name": conversion.policy_name,
        "policy_version": conversion.policy_version,
        "blended": conversion.blended,
        "uses_online": fmt in ("online", "blended"),
        "share_ok": conversion.share_ok,
        "cap": int(ONLINE_SHARE_CAP * 100),
    }


@actor_required
def credits_preview(request):
    return render(request, "catalog/_credits_preview.html", {"preview": _preview(params=request.GET)})


_ACTIONS = {
    "submit": lambda actor, project, post: services.project_submit(actor=actor, project=project),
    "withdraw": lambda actor, project, post: services.project_withdraw(
        actor=actor, project=project, reason=post.get("reason", "")
    ),
    "approve": lambda actor, project, post: services.project_approve(
        actor=actor, project=project, note=post.get("note", "")
    ),
    "return": lambda actor, project, post: services.project_return(
        actor=actor, project=project, reason=post.get("return-reason", "")
    ),
    "publish": lambda actor, project, post: services.project_publish(actor=actor, project=project),
    "start": lambda actor, project, post: services.project_start(actor=actor, project=project),
    "finish": lambda actor, project, post: services.project_finish(actor=actor, project=project),
    "delete": lambda actor, project, post: services.project_delete(
        actor=actor, project=project, reason=post.get("delete-reason", ""), confirm=post.get("delete-confirm", "")
    ),
    "correct": lambda actor, project, post: services.project_correct_credits(
        actor=actor,
        project=project,
        credit_category=post.get("correct-credit_category", ""),
        credit_level=post.get("correct-credit_level", ""),
        reason=post.get("correct-reason", ""),
    ),
}
_DONE = {
    "submit": _("The project has been submitted for review."),
    "withdraw": _("The project has been withdrawn."),
    "approve": _("The project has been approved."),
    "return": _("The project has been returned to the institution."),
    "publish": _("The project has been published."),
    "start": _("Training has started."),
    "finish": _("The project is finished."),
    "delete": _("The project has been deleted; enrollments are cancelled."),
    "correct": _("The credit attributes have been corrected."),
}


@require_POST
@actor_required
def project_action(request, pk, action):
    project = selectors.project_get(actor=request.actor, project_id=pk)
    handler = _ACTIONS.get(action)
    if handler is None:
        return redirect("catalog:project_detail", pk=pk)
    try:
        handler(request.actor, project, request.POST)
    except DomainError as exc:
        messages.error(request, exc.message)
        for problem in (exc.details or {}).get("problems", [])[1:] if isinstance(exc.details, dict) else []:
            messages.warning(request, problem)
    else:
        messages.success(request, str(_DONE[action]))
    return redirect(request.POST.get("next") or reverse("catalog:project_detail", args=[pk]))


# --- management lists ------------------------------------------------------------------------


@actor_required
def project_list(request):
    actor = request.actor
    require(actor, "catalog.project.manage_list")
    if request.GET.get("export"):
        return export_or_job(request, "catalog.projects", request.GET.dict())
    bureau = actor.role in BUREAU_ROLES
    institutions = (
        None if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER) else Institution.objects.order_by("code")
    )
    qs, form, term = project_query(actor, request.GET, term_list(actor=actor), institutions)
    counts = selectors.status_counts(actor=actor, term=term) if term else {}
    context = {
        "state": paginate(request, qs),
        "filter_form": form,
        "term": term,
        "counts": [(value, label, counts.get(value, 0)) for value, label in S.choices if counts.get(value)],
        "can_apply": can(actor, "catalog.project.apply"),
        "can_bulk": bureau,
        "bulk_actions": [("approve", _("Approve")), ("publish", _("Publish")), ("return", _("Return"))],
        "quota": (
            rules.quota_usage(term, [actor.institution])[0]
            if term and actor.role == Role.INSTITUTION and actor.institution
            else None
        ),
    }
    return render(request, "catalog/project_list.html", context)


@require_POST
@actor_required
def project_bulk(request):
    actor = request.actor
    require(actor, "catalog.project.review")
    ids = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    projects = [selectors.project_get(actor=actor, project_id=pk) for pk in ids]
    back = request.POST.get("next") or reverse("catalog:project_list")
    if not projects:
        messages.warning(request, _("Tick the projects first."))
        return HttpResponseRedirect(back)
    try:
        result = services.projects_bulk_review(
            actor=actor, projects=projects, action=request.POST.get("action", ""), reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    if result.done:
        messages.success(request, _("%(n)s projects done.") % {"n": len(result.done)})
    for project, message in result.failed:
        messages.error(request, f"{project.name}：{message}")
    return HttpResponseRedirect(back)


# --- classes, schedules and lecturers ------------------------------------------------------


@actor_required
def class_create(request, pk):
    actor = request.actor
    project = selectors.project_get(actor=actor, project_id=pk)
    require(actor, "catalog.project.apply", project)
    form = ClassForm(request.POST or None, initial={"waitlist_enabled": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.class_add(actor=actor, project=project, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The class has been added."))
            return redirect("catalog:project_detail", pk=pk)
    return render(
        request, "generic_form.html", {"form": form, "title": _("New class of %(name)s") % {"name": project.name}}
    )


@actor_required
def class_edit(request, pk):
    actor = request.actor
    project_class = selectors.class_get(actor=actor, class_id=pk)
    require(actor, "catalog.project.apply", project_class.project)
    initial = {f: getattr(project_class, f) for f in ("starts_on", "ends_on", "place", "capacity", "waitlist_enabled")}
    form = ClassForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.class_update(actor=actor, project_class=project_class, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("catalog:project_detail", pk=project_class.project_id)
    return render(request, "generic_form.html", {"form": form, "title": str(project_class)})


@require_POST
@actor_required
def class_delete(request, pk):
    project_class = selectors.class_get(actor=request.actor, class_id=pk)
    project_id = project_class.project_id
    try:
        services.class_remove(actor=request.actor, project_class=project_class)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The class has been removed."))
    return redirect("catalog:project_detail", pk=project_id)


@actor_required
def class_schedule(request, pk):
    actor = request.actor
    project_class = selectors.class_get(actor=actor, class_id=pk)
    require(actor, "catalog.project.run", project_class.project)
    form = ScheduleForm(request.POST or None, initial={"schedule": project_class.schedule})
    if request.method == "POST" and form.is_valid():
        try:
            project_class = services.class_schedule_publish(
                actor=actor, project_class=project_class, schedule=form.cleaned_data["schedule"]
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            if project_class.schedule_published_late:
                messages.warning(request, _("The schedule has been published, later than the rule requires."))
            else:
                messages.success(request, _("The schedule has been published."))
            return redirect("catalog:project_detail", pk=project_class.project_id)
    return render(
        request,
        "catalog/schedule_form.html",
        {"form": form, "project_class": project_class, "days_left": project_class.schedule_days_left()},
    )


@actor_required
def lecturer_add(request, pk):
    actor = request.actor
    project = selectors.project_get(actor=actor, project_id=pk)
    require(actor, "catalog.project.apply", project)
    form = LecturerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lecturer_add(actor=actor, project=project, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The lecturer has been entered."))
            if request.POST.get("again"):
                return redirect("catalog:lecturer_add", pk=pk)
            return redirect("catalog:project_detail", pk=pk)
    return render(
        request,
        "catalog/lecturer_form.html",
        {"form": form, "project": project, "lecturers": list(project.projectlecturer_set.all())},
    )


@require_POST
@actor_required
def lecturer_remove(request, pk, lecturer_id):
    project = selectors.project_get(actor=request.actor, project_id=pk)
    lecturer = get_object_or_404(project.lecturers.all(), pk=lecturer_id)
    try:
        services.lecturer_remove(actor=request.actor, project=project, lecturer=lecturer)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("catalog:project_detail", pk=pk)


# --- experts --------------------------------------------------------------------------------


@require_POST
@actor_required
def lecturer_sample(request, pk):
    project = selectors.project_get(actor=request.actor, project_id=pk)
    form = SampleForm(request.POST, prefix="sample")
    count = form.cleaned_data["count"] if form.is_valid() else 0
    try:
        checks = services.lecturer_sample(actor=request.actor, project=project, count=count)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        names = "、".join(c.lecturer.name for c in checks)
        messages.success(request, _("Drawn for verification: %(names)s") % {"names": names})
    return redirect(reverse("catalog:project_detail", args=[pk]) + "#checks")


@require_POST
@actor_required
def check_record(request, pk):
    check = selectors.check_get(actor=request.actor, check_id=pk)
    try:
        services.lecturer_check_record(
            actor=request.actor,
            check=check,
            result=request.POST.get("check-result", ""),
            note=request.POST.get("check-note", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The result has been recorded."))
    return redirect(reverse("catalog:project_detail", args=[check.project_id]) + "#checks")


@actor_required
def sampling(request):
    actor = request.actor
    term = _term_from(request)
    qs = selectors.sampling_queue(actor=actor, term_id=term.pk if term else None)
    return render(request, "catalog/sampling.html", {"state": paginate(request, qs), "term": term})


@actor_required
def lecturer_db(request):
    actor = request.actor
    qs = selectors.lecturer_list(actor=actor, query=request.GET.get("q", "").strip())
    full_phone = actor.role != Role.INSTITUTION
    if request.GET.get("export"):
        return export_or_job(request, "catalog.lecturers", request.GET.dict())
    return render(request, "catalog/lecturer_db.html", {"state": paginate(request, qs), "full_phone": full_phone})


# --- changes -----------------------------------------------------------------------------


@actor_required
def change_create(request, pk):
    actor = request.actor
    project = selectors.project_get(actor=actor, project_id=pk)
    require(actor, "catalog.project.run", project)
    form = ChangeRequestForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_request_create(
                actor=actor,
                project=project,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                proposed=form.proposed(),
                project_class=form.cleaned_data.get("project_class"),
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The change request has been sent to the responsible bureau."))
            return redirect("catalog:project_detail", pk=pk)
    return render(request, "catalog/change_form.html", {"form": form, "project": project})


@actor_required
def change_list(request):
    actor = request.actor
    if not (can(actor, "catalog.change.decide") or can(actor, "catalog.project.run") or actor.role == Role.MONITOR):
        raise PermissionDenied(_("Your role may not perform this operation."))
    status = request.GET.get("status", ChangeRequest.Status.PENDING if actor.role in BUREAU_ROLES else "")
    qs = selectors.change_request_list(actor=actor, status=status)
    return render(
        request,
        "catalog/change_list.html",
        {
            "state": paginate(request, qs),
            "status": status,
            "statuses": ChangeRequest.Status.choices,
            "can_decide": can(actor, "catalog.change.decide"),
            "actor_region_id": actor.region.pk if actor.region else None,
        },
    )


@require_POST
@actor_required
def change_decide(request, pk, decision):
    change = selectors.change_request_get(actor=request.actor, change_id=pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        if decision == "approve":
            services.change_request_approve(actor=request.actor, change_request=change, note=note)
            messages.success(request, _("The change has been approved; enrolled trainees are notified."))
        else:
            services.change_request_reject(actor=request.actor, change_request=change, note=note)
            messages.success(request, _("The change has been rejected."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(request.POST.get("next") or reverse("catalog:change_list"))


@actor_required
def change_log(request):
    actor = request.actor
    term = _term_from(request)
    institution_id = request.GET.get("institution") or None
    qs = selectors.change_log(actor=actor, term_id=term.pk if term else None, institution_id=institution_id)
    if request.GET.get("export"):
        return export_or_job(request, "catalog.change_log", request.GET.dict())
    return render(
        request,
        "catalog/change_log.html",
        {
            "state": paginate(request, qs),
            "summary": selectors.change_log_by_institution(actor=actor, term_id=term.pk if term else None),
            "kinds": [(k, ProjectEvent.Kind(k).label) for k in ProjectEvent.CHANGE_LOG_KINDS],
            "term": term,
            "terms": term_list(actor=actor),
            "institution_id": str(institution_id or ""),
        },
    )


@actor_required
def schedules(request):
    """Institutions: the countdown to each class's schedule deadline. Bureaus: the late ones."""
    actor = request.actor
    term = _term_from(request)
    if term is None:
        return render(request, "catalog/no_term.html", {"title": _("Class schedules")})
    late = selectors.late_schedules(actor=actor, term=term)
    due = selectors.schedule_due(actor=actor, term=term) if actor.role == Role.INSTITUTION else None
    return render(
        request,
        "catalog/schedules.html",
        {
            "state": paginate(request, late),
            "due": list(due[:50]) if due is not None else None,
            "term": term,
            "today": timezone.localdate(),
        },
    )


# --- staff ---------------------------------------------------------------------------------


@actor_required
def staff_list(request):
    qs = selectors.staff_list(actor=request.actor, query=request.GET.get("q", "").strip())
    return render(request, "catalog/staff_list.html", {"state": paginate(request, qs)})


@actor_required
def staff_create(request):
    require(request.actor, "catalog.staff.manage")
    form = StaffForm(request.POST or None, initial={"is_formal_employee": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_create(actor=request.actor, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("catalog:staff_list")
    return render(request, "generic_form.html", {"form": form, "title": _("New project leader")})


@actor_required
def staff_edit(request, pk):
    member = selectors.staff_get(actor=request.actor, staff_id=pk)
    initial = {
        "name": member.name,
        "title": member.title,
        "specialty": member.specialty_list,
        "is_formal_employee": member.is_formal_employee,
        "phone": member.phone,
    }
    form = StaffForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(actor=request.actor, staff=member, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("catalog:staff_list")
    return render(request, "generic_form.html", {"form": form, "title": member.name})


# --- quotas, caps and credit rules -------------------------------------------------------------


@actor_required
def quota_list(request):
    actor = request.actor
    term = _term_from(request)
    if term is None:
        return render(request, "catalog/no_term.html", {"title": _("Project quotas")})
    if request.method == "POST":
        institution = get_object_or_404(Institution, pk=request.POST.get("institution"))
        try:
            services.quota_set(
                actor=actor, term=term, institution=institution, limit=int(request.POST.get("limit", ""))
            )
        except ValueError:
            messages.error(request, _("The quota is a whole number from 0 to 999."))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
        return redirect(reverse("catalog:quota_list") + f"?term={term.pk}")
    if request.GET.get("export"):
        return export_or_job(request, "catalog.quotas", request.GET.dict())
    rows = selectors.quota_overview(actor=actor, term=term)
    return render(
        request,
        "catalog/quota_list.html",
        {"rows": rows, "term": term, "terms": term_list(actor=actor), "can_edit": can(actor, "catalog.quota.manage")},
    )


@actor_required
def region_caps(request):
    actor = request.actor
    require(actor, "catalog.regioncap.manage")
    term = _term_from(request)
    if term is None:
        return render(request, "catalog/no_term.html", {"title": _("Local project caps")})
    if request.method == "POST":
        region = region_get(actor=actor, region_id=request.POST.get("region"))
        raw = request.POST.get("limit", "").strip()
        try:
            services.region_cap_set(actor=actor, term=term, region=region, limit=int(raw) if raw else None)
        except ValueError:
            messages.error(request, _("The cap is a whole number from 0 to 9999."))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
        return redirect(reverse("catalog:region_caps") + f"?term={term.pk}")
    rows = selectors.region_cap_rows(actor=actor, term=term)
    return render(request, "catalog/region_caps.html", {"rows": rows, "term": term, "terms": term_list(actor=actor)})
