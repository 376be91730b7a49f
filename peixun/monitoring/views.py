from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import export_or_job
from peixun.core.lists import paginate
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import can, require, visible
from peixun.orgs.models import Institution

from . import selectors, services
from .exports import (
    SCORECARD_HEADERS,
    int_param,
    misconduct_filters,
    scorecard_row_values,
    scorecard_term,
    spot_check_filters,
)
from .forms import AcknowledgeForm, AnswerForm, CloseForm, MisconductForm, SpotCheckForm
from .models import MisconductReport, Rating, SpotCheck


def _institutions(actor):
    """Institution filter choices for the roles that see more than one institution."""
    if actor.role == Role.INSTITUTION:
        return []
    return visible(actor, Institution.objects.all()).order_by("code").only("pk", "code", "name")


# --- classes ---------------------------------------------------------------------------------


@actor_required
def class_list(request):
    actor = request.actor
    qs = selectors.class_list(
        actor=actor,
        term_id=int_param(request.GET.get("term")),
        institution_id=int_param(request.GET.get("institution")),
        query=request.GET.get("q", ""),
        when=request.GET.get("when", ""),
    )
    return render(
        request,
        "monitoring/class_list.html",
        {
            "state": paginate(request, qs),
            "terms": selectors.terms(actor=actor),
            "institutions": _institutions(actor),
            "today": timezone.localdate(),
            "can_record": can(actor, "monitoring.spotcheck.record"),
            "can_report": can(actor, "monitoring.misconduct.report"),
        },
    )


# --- spot checks -----------------------------------------------------------------------------


@actor_required
def spotcheck_list(request):
    actor = request.actor
    qs = selectors.spot_check_list(actor=actor, **spot_check_filters(request.GET))
    if request.GET.get("export"):
        return export_or_job(request, "monitoring.spotchecks", request.GET.dict())
    return render(
        request,
        "monitoring/spotcheck_list.html",
        {
            "state": paginate(request, qs),
            "terms": selectors.terms(actor=actor),
            "institutions": _institutions(actor),
            "statuses": [("pending", _("Follow-up pending")), ("overdue", _("Overdue")), *SpotCheck.Status.choices],
            "ratings": Rating.choices,
            "methods": SpotCheck.Method.choices,
            "today": timezone.localdate(),
            "can_record": can(actor, "monitoring.spotcheck.record"),
        },
    )


@actor_required
def spotcheck_create(request, class_pk):
    actor = request.actor
    require(actor, "monitoring.spotcheck.record")
    project_class = selectors.class_get(actor=actor, class_id=class_pk)
    form = SpotCheckForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            spot_check = services.spot_check_record(actor=actor, project_class=project_class, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The spot check has been recorded and the institution notified."))
            return redirect("monitoring:spotcheck_detail", pk=spot_check.pk)
    return render(request, "monitoring/spotcheck_form.html", {"form": form, "project_class": project_class})


@actor_required
def spotcheck_detail(request, pk):
    actor = request.actor
    spot_check = selectors.spot_check_get(actor=actor, spot_check_id=pk)
    can_answer = can(actor, "monitoring.spotcheck.answer", spot_check) and spot_check.status != SpotCheck.Status.CLOSED
    can_close = can(actor, "monitoring.spotcheck.close", spot_check) and spot_check.status in SpotCheck.OPEN_STATUSES
    which = request.POST.get("form")
    answer_form = AnswerForm(
        request.POST if which == "answer" else None,
        request.FILES if which == "answer" else None,
        initial={"response": spot_check.response},
        prefix="answer",
    )
    close_form = CloseForm(request.POST if which == "close" else None, prefix="close")
    if request.method == "POST":
        try:
            if which == "answer" and answer_form.is_valid():
                services.spot_check_answer(actor=actor, spot_check=spot_check, **answer_form.cleaned_data)
                messages.success(request, _("Your answer has been sent to the quality monitor."))
                return redirect("monitoring:spotcheck_detail", pk=pk)
            if which == "close" and close_form.is_valid():
                services.spot_check_close(actor=actor, spot_check=spot_check, **close_form.cleaned_data)
                messages.success(request, _("The follow-up has been closed."))
                return redirect("monitoring:spotcheck_detail", pk=pk)
        except DomainError as exc:
            (answer_form if which == "answer" else close_form).add_domain_error(exc)
    return render(
        request,
        "monitoring/spotcheck_detail.html",
        {
            "check": spot_check,
            "attachments": spot_check.attachments.select_related("uploaded_by"),
            "overdue": spot_check.is_overdue(timezone.localdate()),
            "can_answer": can_answer,
            "can_close": can_close,
            "answer_form": answer_form,
            "close_form": close_form,
        },
    )


@actor_required
def attachment_download(request, pk, attachment_id):
    spot_check = selectors.spot_check_get(actor=request.actor, spot_check_id=pk)
    attachment = selectors.attachment_get(actor=request.actor, spot_check=spot_check, attachment_id=attachment_id)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# --- misconduct reports ----------------------------------------------------------------------


@actor_required
def misconduct_list(request):
    actor = request.actor
    qs = selectors.misconduct_list(actor=actor, **misconduct_filters(request.GET))
    if request.GET.get("export"):
        return export_or_job(request, "monitoring.misconduct", request.GET.dict())
    state = paginate(request, qs)
    for report in state.rows:
        report.masked_id = mask_national_id(report.teacher.national_id)
    return render(
        request,
        "monitoring/misconduct_list.html",
        {
            "state": state,
            "terms": selectors.terms(actor=actor),
            "institutions": _institutions(actor),
            "kinds": MisconductReport.Kind.choices,
            "can_report": can(actor, "monitoring.misconduct.report"),
            "can_acknowledge": can(actor, "monitoring.misconduct.acknowledge"),
        },
    )


@actor_required
def misconduct_create(request, class_pk):
    actor = request.actor
    require(actor, "monitoring.misconduct.report")
    project_class = selectors.class_get(actor=actor, class_id=class_pk)
    form = MisconductForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            teacher = selectors.trainee_get(national_id=data.pop("national_id"), name=data.pop("name"))
            report = services.misconduct_report(actor=actor, project_class=project_class, teacher=teacher, **data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(
                request, _("The report has been sent to the teacher's school and county education bureau.")
            )
            return redirect("monitoring:misconduct_detail", pk=report.pk)
    return render(request, "monitoring/misconduct_form.html", {"form": form, "project_class": project_class})


@actor_required
def misconduct_detail(request, pk):
    actor = request.actor
    report = selectors.misconduct_get(actor=actor, report_id=pk)
    side = {Role.SCHOOL: "school", Role.COUNTY: "county"}.get(actor.role)
    can_ack = (
        side is not None
        and getattr(report, f"{side}_ack_at") is None
        and can(actor, "monitoring.misconduct.acknowledge", report)
    )
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.misconduct_acknowledge(actor=actor, report=report, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Acknowledged."))
            return redirect("monitoring:misconduct_detail", pk=pk)
    return render(
        request,
        "monitoring/misconduct_detail.html",
        {
            "report": report,
            "masked_id": mask_national_id(report.teacher.national_id),
            "can_ack": can_ack,
            "form": form,
        },
    )


# --- institution scorecard ------------------------------------------------------------------


@actor_required
def scorecard(request):
    actor = request.actor
    require(actor, "monitoring.scorecard.view")
    if request.GET.get("export"):
        return export_or_job(request, "monitoring.scorecard", request.GET.dict())
    term = scorecard_term(request.GET)
    sort = request.GET.get("sort", "name")
    rows = (
        selectors.scorecard(
            actor=actor,
            term=term,
            institution_type=request.GET.get("type", ""),
            query=request.GET.get("q", ""),
            sort=sort,
        )
        if term
        else []
    )
    params = request.GET.copy()
    params.pop("sort", None)
    params.pop("export", None)
    return render(
        request,
        "monitoring/scorecard.html",
        {
            "term": term,
            "terms": selectors.terms(actor=actor),
            "types": Institution.Type.choices,
            "rows": rows,
            "totals": selectors.scorecard_totals(rows),
            "sort": sort,
            "params": params.urlencode(),
            "columns": _scorecard_columns(sort),
            "value_rows": [_scorecard_cells(row, term) for row in rows],
            "chart": _scorecard_chart(rows),
        },
    )


def _scorecard_columns(sort: str) -> list[dict]:
    """Header cells: label, the sort key a click applies, and whether the list is sorted by it now."""
    columns = []
    for key, label in SCORECARD_HEADERS:
        sort_key = "name" if key in ("code", "name") else key if key in selectors.SCORECARD_SORTS else ""
        active = bool(sort_key) and sort.lstrip("-") == sort_key
        descending = active and sort.startswith("-")
        columns.append(
            {
                "label": label,
                "sort": (sort_key if descending or not active else f"-{sort_key}") if sort_key else "",
                "active": active and key != "code",
                "descending": descending,
            }
        )
    return columns


def _scorecard_cells(row, term) -> list[dict]:
    """The row's values in column order; the counts of checks and reports link to those lists."""
    lists = {
        "spot_checks": reverse("monitoring:spotcheck_list"),
        "misconduct_reports": reverse("monitoring:misconduct_list"),
    }
    cells = []
    for (key, _label), value in zip(SCORECARD_HEADERS, scorecard_row_values(row)):
        link = ""
        if key in lists and value:
            link = f"{lists[key]}?term={term.pk}&institution={row.institution.pk}"
        if key == "average_rating" and isinstance(value, float):
            value = f"{value:.2f}"
        cells.append({"value": value, "link": link, "numeric": key not in ("code", "name", "type")})
    return cells


def _scorecard_chart(rows) -> dict:
    """Spot checks and average rating per institution that was checked (the table beside it has every number)."""
    checked = [r for r in rows if r.spot_checks]
    return {
        "names": [r.institution.name for r in checked],
        "checks": [r.spot_checks for r in checked],
        "ratings": [round(r.average_rating, 2) for r in checked],
        "labels": {"checks": _("Spot checks"), "rating": _("Average rating")},
    }
