"""Pages of credit statements and class certificates: downloads (scoped) and public verification."""

from __future__ import annotations

from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from peixun.core.decorators import actor_required, roles_required
from peixun.core.errors import InvalidInput
from peixun.core.lists import paginate
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import can, require
from peixun.roster.models import Teacher
from peixun.roster.selectors import teacher_get, teacher_list

from . import selectors_certificates as selectors
from . import services_certificates as services
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


def _cycle(request) -> int | None:
    value = request.GET.get("cycle", "").strip()
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
    else:
        school = request.GET.get("school", "")
        state = paginate(
            request,
            teacher_list(
                actor=actor,
                query=request.GET.get("q", ""),
                school_id=int(school) if school.isdigit() and len(school) < 10 else None,
                status=Teacher.Status.ACTIVE,
            ),
        )
        context.update(
            state=state,
            rows=[(t, mask_national_id(t.national_id)) for t in state.rows],
            issued=selectors.issued_list(actor=actor)[:20],
            can_batch=can(actor, "reports.certificate.batch"),
        )
    return render(request, "reports/certificates/home.html", context)


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
