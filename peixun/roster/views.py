from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.core.choices import Stage, Subject
from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import export_or_job, xlsx_response
from peixun.core.lists import paginate
from peixun.core.masking import mask_national_id, mask_phone
from peixun.core.scopes import can, require
from peixun.orgs.selectors import counties

from . import selectors, services
from .exports import teacher_filters
from .forms import ExemptionForm, TeacherLocalForm
from .models import Teacher


@actor_required
def teacher_list(request):
    actor = request.actor
    qs = selectors.teacher_list(actor=actor, **teacher_filters(request.GET))
    if request.GET.get("export"):
        return export_or_job(request, "roster.teachers", request.GET.dict())
    return render(
        request,
        "roster/teacher_list.html",
        {
            "state": paginate(request, qs),
            "counties": counties(actor=actor) if actor.region else [],
            "stages": Stage.choices,
            "subjects": Subject.choices,
            "statuses": Teacher.Status.choices,
            "can_manage_logins": can(actor, "accounts.teacher_login.manage") and actor.school is not None,
        },
    )


@actor_required
def teacher_detail(request, pk):
    actor = request.actor
    teacher = selectors.teacher_get(actor=actor, teacher_id=pk)
    can_edit = can(actor, "roster.teacher.edit_local", teacher)
    local_form = TeacherLocalForm(
        request.POST if request.POST.get("form") == "local" else None,
        initial={f: getattr(teacher, f) for f in Teacher.LOCAL_FIELDS},
        prefix="local",
    )
    exemption_form = ExemptionForm(request.POST if request.POST.get("form") == "exemption" else None, prefix="ex")
    if request.method == "POST":
        try:
            if request.POST.get("form") == "local" and local_form.is_valid():
                services.teacher_update_local(actor=actor, teacher=teacher, **local_form.cleaned_data)
                messages.success(request, _("Saved."))
                return redirect("roster:teacher_detail", pk=pk)
            if request.POST.get("form") == "exemption" and exemption_form.is_valid():
                services.exemption_create(actor=actor, teacher=teacher, **exemption_form.cleaned_data)
                messages.success(request, _("The exemption has been recorded."))
                return redirect("roster:teacher_detail", pk=pk)
        except DomainError as exc:
            (local_form if request.POST.get("form") == "local" else exemption_form).add_domain_error(exc)
    full_id = can(actor, "roster.teacher.view_full_id", teacher)
    return render(
        request,
        "roster/teacher_detail.html",
        {
            "teacher": teacher,
            "national_id": teacher.national_id if full_id else mask_national_id(teacher.national_id),
            "phone": teacher.phone if full_id else mask_phone(teacher.phone),
            "can_edit": can_edit,
            "can_manage_login": can(actor, "accounts.teacher_login.manage", teacher),
            "can_exempt": can(actor, "roster.exemption.manage", teacher),
            "local_form": local_form,
            "exemption_form": exemption_form,
            "exemptions": teacher.exemptions.all(),
        },
    )


@require_POST
@actor_required
def exemption_revoke(request, pk, exemption_id):
    teacher = selectors.teacher_get(actor=request.actor, teacher_id=pk)
    exemption = teacher.exemptions.filter(pk=exemption_id).first()
    if exemption is not None:
        try:
            services.exemption_revoke(actor=request.actor, exemption=exemption)
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("roster:teacher_detail", pk=pk)


@require_POST
@actor_required
def teacher_login(request, pk):
    """Create the teacher's login, or reset its password if it exists."""
    teacher = selectors.teacher_get(actor=request.actor, teacher_id=pk)
    try:
        if teacher.user_id:
            password = services.teacher_password_reset(actor=request.actor, teacher=teacher)
        else:
            password = services.teacher_login_create(actor=request.actor, teacher=teacher)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("roster:teacher_detail", pk=pk)
    return render(request, "roster/teacher_password.html", {"teacher": teacher, "password": password})


@require_POST
@actor_required
def teacher_logins_bulk(request):
    """Create logins for all teachers of the school that have none; hand out the passwords as a sheet."""
    actor = request.actor
    require(actor, "accounts.teacher_login.manage")
    teachers = list(selectors.teacher_list(actor=actor, status=Teacher.Status.ACTIVE).filter(user__isnull=True))
    try:
        created = services.teacher_logins_bulk_create(actor=actor, teachers=teachers)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("roster:teacher_list")
    if not created:
        messages.info(request, _("Every teacher already has a login."))
        return redirect("roster:teacher_list")
    headers = [_("Name"), _("School"), _("Sign in with"), _("Initial password")]
    rows = ([t.name, t.school.name, _("ID number"), p] for t, p in created)
    return xlsx_response(_("teacher-logins"), headers, rows)
