"""Pages of results (成绩登记) and approval (审核): thin over the services and selectors."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError, InvalidInput, NotFound
from peixun.core.exports import XLSX_TYPE, export_or_job
from peixun.core.lists import paginate
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import can, visible
from peixun.orgs.models import Institution

from . import selectors, services, spreadsheet
from .exports import int_param
from .models import ResultSheet, ResultUpload

S = ResultSheet.Status


def _institutions(actor):
    if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER):
        return []
    return visible(actor, Institution.objects.all()).order_by("code").only("pk", "code", "name")


def _status_choices():
    return [(selectors.NOT_STARTED, _("Not started")), *S.choices, (selectors.STALE, _("Needs re-approval"))]


# --- lists ---------------------------------------------------------------------------------------


@actor_required
def class_list(request):
    actor = request.actor
    if request.GET.get("export"):
        return export_or_job(request, "results.classes", request.GET.dict())
    qs = selectors.class_list(
        actor=actor,
        term_id=int_param(request.GET.get("term")),
        institution_id=int_param(request.GET.get("institution")),
        status=request.GET.get("status", ""),
        query=request.GET.get("q", ""),
        due=request.GET.get("due") == "1",
    )
    state = paginate(request, qs)
    for c in state.rows:
        sheet = getattr(c, "result_sheet", None)
        c.sheet = sheet
        c.stale = bool(sheet and selectors.needs_reapproval(sheet, c.project))
    return render(
        request,
        "results/class_list.html",
        {
            "state": state,
            "terms": selectors.terms(),
            "institutions": _institutions(actor),
            "statuses": _status_choices(),
            "can_register": can(actor, "results.register"),
            "can_approve": can(actor, "results.approve"),
            "today": timezone.localdate(),
        },
    )


@actor_required
def my_results(request):
    actor = request.actor
    rows = list(selectors.my_results(actor=actor))
    return render(request, "results/my_results.html", {"rows": rows})


# --- one class's sheet -------------------------------------------------------------------------


@actor_required
def class_open(request, class_pk):
    """The institution starts (or continues) a class's results; others go to the sheet if there is one."""
    actor = request.actor
    project_class = selectors.class_get(actor=actor, class_id=class_pk)
    if can(actor, "results.register"):
        try:
            sheet = services.sheet_open(actor=actor, project_class=project_class)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("results:class_list")
        return redirect("results:sheet_detail", pk=sheet.pk)
    sheet = ResultSheet.objects.filter(project_class=project_class).first()
    if sheet is None:
        messages.info(request, _("The institution has not started registering results for this class."))
        return redirect("results:class_list")
    return redirect("results:sheet_detail", pk=sheet.pk)


def _grid_rows(request, sheet, posted=None, row_errors=None):
    show_full_id = False
    rows = []
    for r in selectors.sheet_results(sheet):
        entry = {
            "r": r,
            "id_masked": r.teacher.national_id if show_full_id else mask_national_id(r.teacher.national_id),
            "hours_offline": r.hours_offline,
            "hours_online": r.hours_online,
            "passed": "" if r.passed is None else ("1" if r.passed else "0"),
            "remarks": r.remarks,
            "errors": (row_errors or {}).get(r.pk, []),
        }
        if posted is not None and r.pk in posted:
            entry.update(posted[r.pk])
        rows.append(entry)
    return rows


def _posted_rows(request, sheet) -> tuple[list[dict], dict]:
    rows, display = [], {}
    for pk in sheet.results.values_list("pk", flat=True):
        key = str(pk)
        if f"p_{key}" not in request.POST and f"off_{key}" not in request.POST and f"on_{key}" not in request.POST:
            continue
        passed = request.POST.get(f"p_{key}", "")
        row = {
            "id": pk,
            "hours_offline": request.POST.get(f"off_{key}", ""),
            "hours_online": request.POST.get(f"on_{key}", ""),
            "passed": {"1": True, "0": False}.get(passed),
            "remarks": request.POST.get(f"r_{key}", ""),
        }
        rows.append(row)
        display[pk] = {
            "hours_offline": row["hours_offline"],
            "hours_online": row["hours_online"],
            "passed": passed,
            "remarks": row["remarks"],
        }
    return rows, display


@actor_required
def sheet_detail(request, pk):
    actor = request.actor
    sheet = selectors.sheet_get(actor=actor, sheet_id=pk)
    project_class = sheet.project_class
    project = project_class.project
    can_edit = can(actor, "results.register", sheet) and sheet.status == S.DRAFT
    posted = row_errors = None
    error_message = ""
    if request.method == "POST":
        if not can_edit:
            messages.error(request, _("The results can no longer be changed."))
            return redirect("results:sheet_detail", pk=pk)
        rows, posted = _posted_rows(request, sheet)
        try:
            changed = services.results_save(actor=actor, sheet=sheet, rows=rows)
        except InvalidInput as exc:
            error_message = exc.message
            row_errors = {}
            for err in (exc.details or {}).get("rows", []) if isinstance(exc.details, dict) else []:
                row_errors.setdefault(err.get("id"), []).append(err["message"])
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("results:sheet_detail", pk=pk)
        else:
            messages.success(request, _("Saved: %(n)s rows changed.") % {"n": changed})
            if request.POST.get("then") == "submit":
                return sheet_action(request, pk, "submit")
            return redirect("results:sheet_detail", pk=pk)
    planned_offline, planned_online = services.planned_hours(project)
    summary = selectors.sheet_summary(sheet)
    status = 400 if error_message else 200
    return render(
        request,
        "results/sheet_detail.html",
        {
            "sheet": sheet,
            "project_class": project_class,
            "project": project,
            "rows": _grid_rows(request, sheet, posted, row_errors),
            "summary": summary,
            "error_message": error_message,
            "planned_offline": planned_offline,
            "planned_online": planned_online,
            "show_offline": project.format != "online",
            "show_online": project.format != "face",
            "can_edit": can_edit,
            "can_register": can(actor, "results.register", sheet),
            "can_approve": can(actor, "results.approve", sheet),
            "can_correct": can(actor, "catalog.project.correct_credits"),
            "stale": selectors.needs_reapproval(sheet, project),
            "ledger": _ledger(actor, sheet),
            "uploads": list(sheet.uploads.select_related("uploaded_by")[:5]),
        },
        status=status,
    )


def _ledger(actor, sheet) -> list:
    from peixun.credits.policy import category_label

    entries = list(selectors.sheet_ledger(actor=actor, sheet=sheet))
    for e in entries:
        e.category_label = category_label(e.category)
    return entries


ACTIONS = {
    "submit": (
        lambda actor, sheet, post: services.sheet_submit(actor=actor, sheet=sheet),
        _("The results have been submitted for review."),
    ),
    "fill": (
        lambda actor, sheet, post: services.results_fill_full(actor=actor, sheet=sheet),
        _("Unfinished rows were filled with the full 学时 and 合格; adjust any that differ."),
    ),
    "approve": (
        lambda actor, sheet, post: services.sheet_approve(actor=actor, sheet=sheet),
        _("Approved: credits have been posted to the trainees who passed."),
    ),
    "cancel": (
        lambda actor, sheet, post: services.sheet_cancel_approval(
            actor=actor, sheet=sheet, reason=post.get("reason", "")
        ),
        _("The approval has been cancelled and its credits reversed; the results await review again."),
    ),
    "return": (
        lambda actor, sheet, post: services.sheet_return(actor=actor, sheet=sheet, reason=post.get("reason", "")),
        _("The results have been returned to the institution."),
    ),
}


@require_POST
@actor_required
def sheet_action(request, pk, action):
    actor = request.actor
    if action not in ACTIONS:
        raise NotFound(_("The object does not exist or is outside your scope."))
    sheet = selectors.sheet_get(actor=actor, sheet_id=pk)
    run, done = ACTIONS[action]
    try:
        run(actor, sheet, request.POST)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("results:sheet_detail", pk=pk)


@actor_required
def sheet_template(request, pk):
    actor = request.actor
    sheet = selectors.sheet_get(actor=actor, sheet_id=pk)
    name = f"成绩登记模板-{sheet.project_class.project.code}-{sheet.project_class.number}.xlsx"
    response = HttpResponse(spreadsheet.template_bytes(sheet), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@actor_required
def sheet_export(request, pk):
    actor = request.actor
    sheet = selectors.sheet_get(actor=actor, sheet_id=pk)
    return export_or_job(request, "results.sheet", {"sheet": sheet.pk})


# --- uploads -------------------------------------------------------------------------------------


@require_POST
@actor_required
def upload_create(request, pk):
    actor = request.actor
    sheet = selectors.sheet_get(actor=actor, sheet_id=pk)
    try:
        upload = services.upload_create(actor=actor, sheet=sheet, file=request.FILES.get("file"))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("results:sheet_detail", pk=pk)
    return redirect("results:upload_detail", pk=upload.pk)


@actor_required
def upload_detail(request, pk):
    actor = request.actor
    upload = selectors.upload_get(actor=actor, upload_id=pk)
    sheet = upload.sheet
    results = {r.pk: r for r in selectors.sheet_results(sheet)}
    preview = []
    for row in upload.rows:
        r = results.get(row["id"])
        if r is None:
            continue
        preview.append(
            {
                "r": r,
                "new": row,
                "new_passed": services.parse_passed(row.get("passed")),
                "changed": (
                    str(r.hours_offline if r.hours_offline is not None else "") != _norm(row.get("hours_offline"))
                    or str(r.hours_online if r.hours_online is not None else "") != _norm(row.get("hours_online"))
                    or r.passed != services.parse_passed(row.get("passed"))
                    or r.remarks != (row.get("remarks") or "")
                ),
            }
        )
    return render(
        request,
        "results/upload_detail.html",
        {
            "upload": upload,
            "sheet": sheet,
            "preview": preview,
            "can_apply": can(actor, "results.register", sheet)
            and upload.status == ResultUpload.Status.PREVIEW
            and sheet.status == S.DRAFT,
        },
    )


def _norm(value) -> str:
    from decimal import Decimal, InvalidOperation

    text = str(value or "").strip()
    try:
        return str(Decimal(text).quantize(Decimal("0.1")))
    except (InvalidOperation, ValueError):
        return text


@require_POST
@actor_required
def upload_action(request, pk, action):
    actor = request.actor
    upload = selectors.upload_get(actor=actor, upload_id=pk)
    try:
        if action == "apply":
            upload = services.upload_apply(actor=actor, upload=upload)
            messages.success(request, _("The upload has been applied: %(n)s rows changed.") % {"n": upload.changed})
        elif action == "cancel":
            services.upload_cancel(actor=actor, upload=upload)
            messages.info(request, _("The upload has been cancelled; nothing was changed."))
        else:
            raise NotFound(_("The object does not exist or is outside your scope."))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("results:upload_detail", pk=pk)
    return redirect("results:sheet_detail", pk=upload.sheet_id)
