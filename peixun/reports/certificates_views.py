"""Pages of credit statements and class certificates: downloads (scoped) and public verification."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from peixun.core.decorators import actor_required, roles_required
from peixun.core.errors import DomainError, InvalidInput
from peixun.core.lists import paginate
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import can, get_visible, require
from peixun.orgs.models import School
from peixun.roster.models import Teacher
from peixun.roster.selectors import teacher_get, teacher_list

from . import selectors_certificates as selectors
from . import services_certificates as services
from . import services_class_certificates as class_services
from .certificates import pdf_filename, render_pdf
from .models import IssuedCertificate


def verify_url(request, issued: IssuedCertificate) -> str:
    token = services.make_token(issued.serial, issued.digest)
    return request.build_absolute_uri(reverse("reports:certificate_verify", args=[token]))


def pdf_response(request, issued: IssuedCertificate) -> HttpResponse:
    response = HttpResponse(render_pdf(issued, verify_url(request, issued)), content_type="application/pdf")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(pdf_filename(issued))}"
    response["Cache-Control"] = "private, no-store"
    return response


def _cycle(request, value: str | None = None) -> int | None:
    value = (request.GET.get("cycle", "") if value is None else value).strip()
    if not value:
        return None
    if not value.isdigit() or not 1990 <= int(value) <= 2100:
        raise InvalidInput(_("That credit cycle is not valid."), details={"field": "cycle"})
    return int(value)


@roles_required(Role.TEACHER)
def my_statement(request):
    teacher = Teacher.objects.filter(pk=request.actor.teacher_id).first()
    if teacher is None:
        raise Http404
    issued = services.credit_statement_issue(actor=request.actor, teacher=teacher, cycle=_cycle(request))
    return pdf_response(request, issued)


@actor_required
def teacher_statement(request, pk):
    teacher = teacher_get(actor=request.actor, teacher_id=pk)
    issued = services.credit_statement_issue(actor=request.actor, teacher=teacher, cycle=_cycle(request))
    return pdf_response(request, issued)


def _class_of(project_class_id: int):
    from peixun.catalog.models import ProjectClass

    project_class = ProjectClass.objects.select_related("project__institution").filter(pk=project_class_id).first()
    if project_class is None:
        raise Http404
    return project_class


@roles_required(Role.TEACHER)
def my_class_certificate(request, class_pk):
    teacher = Teacher.objects.filter(pk=request.actor.teacher_id).first()
    if teacher is None:
        raise Http404
    issued = class_services.class_certificate_issue(
        actor=request.actor, teacher=teacher, project_class=_class_of(class_pk)
    )
    return pdf_response(request, issued)


@actor_required
def teacher_class_certificate(request, pk, class_pk):
    teacher = teacher_get(actor=request.actor, teacher_id=pk)
    issued = class_services.class_certificate_issue(
        actor=request.actor, teacher=teacher, project_class=_class_of(class_pk)
    )
    return pdf_response(request, issued)


@actor_required
def class_batches(request):
    """The training institution's approved classes, each with a button to issue all its certificates."""
    state = paginate(request, class_services.class_batch_list(actor=request.actor))
    return render(request, "reports/certificates/classes.html", {"state": state})


@require_POST
@actor_required
def class_batch_start(request, class_pk):
    require(request.actor, "reports.certificate.class_batch")
    try:
        job = class_services.class_certificate_batch_start(
            actor=request.actor, project_class=_class_of(class_pk), base_url=request.build_absolute_uri("/")
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:certificate_classes")
    return redirect("core:job_detail", pk=job.pk)


@actor_required
def teacher_certificates(request, pk):
    """One teacher's documents: statements per cycle and completion certificates of the classes passed."""
    require(request.actor, "reports.certificate.issue")
    teacher = teacher_get(actor=request.actor, teacher_id=pk)
    require(request.actor, "reports.certificate.issue", teacher)
    return render(
        request,
        "reports/certificates/teacher.html",
        {
            "teacher": teacher,
            "masked_id": mask_national_id(teacher.national_id),
            "cycles": selectors.statement_cycles(),
            "results": class_services.passed_results([teacher.pk]),
            "issued": selectors.issued_list(actor=request.actor, teacher_id=teacher.pk)[:50],
        },
    )


@actor_required
def issued_download(request, serial):
    """Download an issued document again, exactly as it was issued (its QR tells whether it is current)."""
    issued = selectors.issued_get(actor=request.actor, serial=serial)
    return pdf_response(request, issued)


@actor_required
def certificate_home(request):
    """A teacher's own statements; for officers, the teachers in scope, batches and what was issued."""
    actor = request.actor
    require(actor, "reports.certificate.issue")
    context = {"cycles": selectors.statement_cycles(), "own": actor.role == Role.TEACHER}
    if actor.role == Role.TEACHER:
        context["issued"] = selectors.issued_list(actor=actor, teacher_id=actor.teacher_id)[:50]
        context["results"] = class_services.passed_results([actor.teacher_id])
    else:
        school = _school(request, request.GET.get("school", ""))
        state = paginate(
            request,
            teacher_list(
                actor=actor,
                query=request.GET.get("q", ""),
                school_id=school.pk if school else None,
                status=Teacher.Status.ACTIVE,
            ),
        )
        context.update(
            state=state,
            rows=[(t, mask_national_id(t.national_id)) for t in state.rows],
            issued=selectors.issued_list(actor=actor)[:20],
            can_batch=can(actor, "reports.certificate.batch"),
            school=school,
            school_choices=_school_choices(actor),
        )
    return render(request, "reports/certificates/home.html", context)


def _school(request, code: str) -> School | None:
    """The school a filter or batch names by its code (or the school admin's own school)."""
    actor = request.actor
    if actor.role == Role.SCHOOL:
        return actor.school
    code = (code or "").strip()[:20]
    if not code:
        return None
    return get_visible(actor, School.objects.select_related("county"), code=code)


def _school_choices(actor) -> list:
    """Schools offered in the batch form's list (the field also takes any school code in scope)."""
    if actor.role == Role.SCHOOL:
        return []
    from peixun.orgs.selectors import school_list

    return list(school_list(actor=actor).values_list("code", "name")[:300])


@require_POST
@actor_required
def certificate_batch(request):
    """Start a batch of a school's credit statements; its progress and zip are on the jobs page."""
    require(request.actor, "reports.certificate.batch")
    try:
        school = _school(request, request.POST.get("school", ""))
        if school is None:
            raise InvalidInput(_("Choose the school."), details={"field": "school"})
        job = services.certificate_batch_start(
            actor=request.actor,
            school=school,
            cycle=_cycle(request, request.POST.get("cycle", "")),
            base_url=request.build_absolute_uri("/"),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("reports:certificate_home")
    return redirect("core:job_detail", pk=job.pk)


@never_cache
def verify(request, token):
    """Public (no login): masked data and whether the document still matches the ledger."""
    result = services.verify_token(token)
    return render(
        request,
        "reports/certificates/verify.html",
        {"result": result, "data": result.public_data()},
        status=200,
    )
