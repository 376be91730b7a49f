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
from peixun.core.roles import Role
from peixun.roster.models import Teacher
from peixun.roster.selectors import teacher_get

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
