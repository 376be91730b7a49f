"""Writes of results (成绩登记) and their approval (审核).

Lifecycle of a class's sheet: draft (the institution enters results in the grid or by
upload) → submitted → approved by the institution's reviewer, which posts credits for the
trainees who passed; 取消审核 reverses exactly those ledger entries and puts the sheet back
to "awaiting review", where 审核 recomputes from the project's *current* credit attributes
(the FAQ's repair path) or the reviewer returns it to the institution for correction.

Every write locks the sheet row first (``select_for_update``), so two approvals of one
sheet serialise and the second finds it approved: credits are never posted twice (and the
ledger's own unique constraint backs this up).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.accounts.models import User
from peixun.catalog.models import Project, ProjectClass
from peixun.core.audit import audit_record
from peixun.core.choices import TrainingFormat
from peixun.core.errors import Conflict, InvalidInput, NotFound
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor, require
from peixun.core.services import notify
from peixun.credits import engine
from peixun.credits.models import SourceType
from peixun.credits.policy import Rules
from peixun.credits.selectors import active_rules
from peixun.credits.services import ledger_post, ledger_reverse_source
from peixun.enrollment.models import Enrollment

from .models import ResultSheet, ResultUpload, TraineeResult

S = ResultSheet.Status
HOURS_STEP = Decimal("0.1")
REMARKS_MAX = 200
REASON_MAX = 300


# --- helpers ------------------------------------------------------------------------------------


def _users_holding(role: str, institution_id: int) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, grants__is_active=True, grants__role=role, grants__institution_id=institution_id
        )
        .distinct()
        .order_by("pk")
    )


def _lock(sheet: ResultSheet) -> ResultSheet:
    return (
        ResultSheet.objects.select_for_update(of=("self",))
        .select_related("project_class", "project_class__project")
        .get(pk=sheet.pk)
    )


def _require_own_class(actor: Actor, project_class: ProjectClass) -> None:
    """Classes are public once published; only the project's institution registers their results."""
    if actor.institution is None or project_class.project.institution_id != actor.institution.pk:
        raise NotFound(_("The object does not exist or is outside your scope."))


def _link(sheet: ResultSheet) -> str:
    return reverse("results:sheet_detail", args=[sheet.pk])


def planned_hours(project: Project) -> tuple[Decimal, Decimal]:
    """The 学时 a trainee can attend (offline, online) by the project's format."""
    offline = Decimal(project.hours_offline or 0)
    online = Decimal(project.hours_online or 0)
    if project.format == TrainingFormat.FACE_TO_FACE:
        return offline + online, Decimal("0")
    if project.format == TrainingFormat.ONLINE:
        return Decimal("0"), offline + online
    return offline, online


def credit_attributes(project: Project) -> dict[str, str]:
    return {
        "credit_category": project.credit_category,
        "credit_level": project.credit_level,
        "level": project.level,
        "format": project.format,
        "hours_offline": str(project.hours_offline),
        "hours_online": str(project.hours_online),
    }


def result_credits(rules: Rules, project: Project, result: TraineeResult) -> tuple[Decimal, Decimal]:
    """(credits, of which online) a result earns under ``rules`` from the project's current attributes.

    Only a pass earns credits. Attended 学时 count up to the project's planned 学时 (offline and
    online apart), converted by the policy's conversion for the project's category, level and
    format, so partial attendance earns proportionally fewer credits and full attendance earns
    exactly the project's credits.
    """
    if not result.passed:
        return Decimal("0"), Decimal("0")
    plan_offline, plan_online = planned_hours(project)
    offline = min(Decimal(result.hours_offline or 0), plan_offline)
    online = min(Decimal(result.hours_online or 0), plan_online)
    if project.format == TrainingFormat.FACE_TO_FACE:
        offline, online = offline + online, Decimal("0")
    elif project.format == TrainingFormat.ONLINE:
        offline, online = Decimal("0"), offline + online
    return engine.convert_hours(
        rules,
        category=project.credit_category,
        level=project.credit_level or project.level,
        fmt=project.format,
        hours_offline=offline,
        hours_online=online,
    )


# --- one row's values ---------------------------------------------------------------------------

PASS_WORDS = {"合格", "通过", "是", "pass", "passed", "yes", "y", "1", "true", "√", "✓"}
FAIL_WORDS = {"不合格", "未通过", "否", "fail", "failed", "no", "n", "0", "false", "×", "✗"}


def parse_passed(value: Any) -> bool | None:
    """合格/不合格 (and a few spellings) → True/False; empty → None; anything else → ValueError."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "-", "—"):
        return None
    if text in PASS_WORDS:
        return True
    if text in FAIL_WORDS:
        return False
    raise ValueError(text)


def _hours(value: Any, *, label: str, limit: Decimal, allowed: bool) -> tuple[Decimal | None, list[str]]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return (None if allowed else Decimal("0")), []
    try:
        hours = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None, [_("%(label)s is not a number.") % {"label": label}]
    if not hours.is_finite():
        return None, [_("%(label)s is not a number.") % {"label": label}]
    if not allowed:
        if hours != 0:
            return None, [_("This project has no %(label)s.") % {"label": label}]
        return Decimal("0"), []
    if hours < 0:
        return None, [_("%(label)s cannot be negative.") % {"label": label}]
    if hours != hours.quantize(HOURS_STEP, rounding=ROUND_DOWN):
        return None, [_("%(label)s takes at most one decimal place.") % {"label": label}]
    if hours > limit:
        return None, [
            _("%(label)s cannot exceed the project's %(limit)s 学时.") % {"label": label, "limit": engine.plain(limit)}
        ]
    return hours, []


def clean_values(project: Project, values: dict) -> tuple[dict, list[str]]:
    """Validate one trainee's entry: ({hours_offline, hours_online, passed, remarks}, problems)."""
    plan_offline, plan_online = planned_hours(project)
    problems: list[str] = []
    offline, errs = _hours(
        values.get("hours_offline"),
        label=_("Offline hours"),
        limit=plan_offline,
        allowed=project.format != TrainingFormat.ONLINE,
    )
    problems += errs
    online, errs = _hours(
        values.get("hours_online"),
        label=_("Online hours"),
        limit=plan_online,
        allowed=project.format != TrainingFormat.FACE_TO_FACE,
    )
    problems += errs
    try:
        passed = parse_passed(values.get("passed"))
    except ValueError:
        passed = None
        problems.append(_("Pass or fail must be 合格 or 不合格."))
    remarks = str(values.get("remarks") or "").strip()
    if len(remarks) > REMARKS_MAX:
        problems.append(_("Remarks take at most %(n)s characters.") % {"n": REMARKS_MAX})
    if passed and not problems and (offline or 0) + (online or 0) <= 0:
        problems.append(_("A trainee who attended no 学时 cannot pass."))
    return {"hours_offline": offline, "hours_online": online, "passed": passed, "remarks": remarks}, problems


# --- opening a sheet -----------------------------------------------------------------------------


def _sync_roster(sheet: ResultSheet) -> None:
    """A draft follows the class roster: new confirmed trainees get a row, departed ones lose theirs."""
    roster = {
        e.teacher_id: e
        for e in Enrollment.objects.roster(sheet.project_class).only("pk", "teacher_id", "state").order_by("pk")
    }
    existing = {r.teacher_id: r for r in sheet.results.only("pk", "teacher_id", "enrollment_id")}
    gone = [r.pk for tid, r in existing.items() if tid not in roster]
    if gone:
        TraineeResult.objects.filter(pk__in=gone).delete()
    TraineeResult.objects.bulk_create(
        TraineeResult(sheet=sheet, enrollment=e, teacher_id=tid) for tid, e in roster.items() if tid not in existing
    )


@transaction.atomic
def sheet_open(*, actor: Actor, project_class: ProjectClass) -> ResultSheet:
    """The institution opens a class's results (idempotent): the sheet, with a row per rostered trainee."""
    require(actor, "results.register", project_class)
    _require_own_class(actor, project_class)
    project = project_class.project
    if project.status not in PUBLIC_PROJECT_STATUSES:
        raise Conflict(_("Results are registered only for classes of published projects."))
    if project_class.starts_on > timezone.localdate():
        raise Conflict(
            _("The class starts on %(date)s; results can be entered once it has started.")
            % {"date": project_class.starts_on.isoformat()}
        )
    sheet, created = ResultSheet.objects.get_or_create(project_class=project_class)
    if created:
        audit_record(actor, "results.sheet.open", sheet, summary=str(project_class))
    sheet = _lock(sheet)
    if sheet.status == S.DRAFT:
        _sync_roster(sheet)
    return sheet


# --- entering results ---------------------------------------------------------------------------


def _apply_rows(actor: Actor, sheet: ResultSheet, rows: Iterable[dict]) -> tuple[int, list[dict]]:
    """Validate every row, then write the ones that change. Returns (changed, errors); writes nothing on errors."""
    project = sheet.project_class.project
    results = {r.pk: r for r in sheet.results.select_related("teacher")}
    errors: list[dict] = []
    changes: list[tuple[TraineeResult, dict]] = []
    seen: set[int] = set()
    for row in rows:
        where = row.get("line")
        try:
            rid = int(row.get("id"))
        except (TypeError, ValueError):
            rid = None
        result = results.get(rid) if rid is not None else None
        if result is None:
            errors.append(
                {"line": where, "id": row.get("id"), "message": _("This trainee is not on the class roster.")}
            )
            continue
        if rid in seen:
            errors.append({"line": where, "id": rid, "message": _("The same trainee appears twice.")})
            continue
        seen.add(rid)
        values, problems = clean_values(project, row)
        if problems:
            name = result.teacher.name
            errors.extend({"line": where, "id": rid, "name": name, "message": p} for p in problems)
            continue
        current = {
            "hours_offline": result.hours_offline,
            "hours_online": result.hours_online,
            "passed": result.passed,
            "remarks": result.remarks,
        }
        if values != current:
            changes.append((result, values))
    if errors:
        return 0, errors
    for result, values in changes:
        for key, value in values.items():
            setattr(result, key, value)
        result.updated_by = actor.user
    if changes:
        TraineeResult.objects.bulk_update(
            [r for r, _v in changes], ["hours_offline", "hours_online", "passed", "remarks", "updated_by", "updated_at"]
        )
    return len(changes), []


def _require_editable(sheet: ResultSheet) -> None:
    if sheet.status != S.DRAFT:
        raise Conflict(
            _("The results have been submitted (%(status)s) and can no longer be changed.")
            % {"status": sheet.get_status_display()},
            code="not_editable",
        )


def _errors_message(errors: list[dict]) -> str:
    first = errors[0]
    who = first.get("name") or first.get("id") or ""
    where = _("line %(n)s") % {"n": first["line"]} if first.get("line") else str(who)
    text = _("%(n)s problem(s) found, nothing was saved. First: %(where)s: %(message)s") % {
        "n": len(errors),
        "where": where,
        "message": first["message"],
    }
    return text


@transaction.atomic
def results_save(*, actor: Actor, sheet: ResultSheet, rows: list[dict]) -> int:
    """Save the grid: every row is checked and nothing is saved unless all are valid. Returns rows changed.

    Each row is ``{"id": result id, "hours_offline", "hours_online", "passed", "remarks"}``;
    empty values leave an entry unfinished (submission needs every row complete).
    """
    require(actor, "results.register", sheet)
    sheet = _lock(sheet)
    _require_editable(sheet)
    changed, errors = _apply_rows(actor, sheet, rows)
    if errors:
        raise InvalidInput(_errors_message(errors), details={"rows": errors})
    if changed:
        sheet.save(update_fields=["updated_at"])
        audit_record(actor, "results.sheet.save", sheet, summary=_("%(n)s rows changed") % {"n": changed})
    return changed


@transaction.atomic
def results_fill_full(*, actor: Actor, sheet: ResultSheet) -> int:
    """Fill every unfinished row with the full planned 学时 and 合格 (the common case), then adjust by hand."""
    require(actor, "results.register", sheet)
    sheet = _lock(sheet)
    _require_editable(sheet)
    plan_offline, plan_online = planned_hours(sheet.project_class.project)
    rows = []
    for r in sheet.results.all():
        if r.complete:
            continue
        rows.append(
            {
                "id": r.pk,
                "hours_offline": r.hours_offline if r.hours_offline is not None else plan_offline,
                "hours_online": r.hours_online if r.hours_online is not None else plan_online,
                "passed": r.passed if r.passed is not None else (True if plan_offline + plan_online > 0 else None),
                "remarks": r.remarks,
            }
        )
    changed, errors = _apply_rows(actor, sheet, rows)
    if errors:
        raise InvalidInput(_errors_message(errors), details={"rows": errors})
    if changed:
        audit_record(actor, "results.sheet.fill", sheet, summary=_("%(n)s rows changed") % {"n": changed})
    return changed


# --- submission and review -----------------------------------------------------------------------


@transaction.atomic
def sheet_submit(*, actor: Actor, sheet: ResultSheet) -> ResultSheet:
    """The institution submits a complete sheet for its reviewer's 审核."""
    require(actor, "results.register", sheet)
    sheet = _lock(sheet)
    _require_editable(sheet)
    project_class = sheet.project_class
    if project_class.ends_on > timezone.localdate():
        raise Conflict(
            _("The class ends on %(date)s; results are submitted after the training.")
            % {"date": project_class.ends_on.isoformat()}
        )
    _sync_roster(sheet)
    results = list(sheet.results.select_related("teacher"))
    if not results:
        raise Conflict(_("The class has no trainees on its roster; there is nothing to submit."))
    missing = [r.teacher.name for r in results if not r.complete]
    if missing:
        raise InvalidInput(
            _("Enter the 学时 and pass or fail of every trainee first (%(n)s unfinished: %(names)s).")
            % {"n": len(missing), "names": "、".join(missing[:5]) + ("…" if len(missing) > 5 else "")},
            details={"field": "results"},
        )
    sheet.status = S.SUBMITTED
    sheet.submitted_at = timezone.now()
    sheet.submitted_by = actor.user
    sheet.return_reason = ""
    sheet.save()
    passed = sum(1 for r in results if r.passed)
    audit_record(
        actor,
        "results.sheet.submit",
        sheet,
        summary=f"{project_class}: {passed}/{len(results)}",
        after={"status": sheet.status, "passed": passed, "results": len(results)},
    )
    notify(
        _users_holding(Role.INSTITUTION_REVIEWER, project_class.project.institution_id),
        title=_("Results awaiting review: %(cls)s") % {"cls": project_class},
        body=_("%(passed)s of %(n)s trainees passed.") % {"passed": passed, "n": len(results)},
        link=_link(sheet),
        kind="results",
    )
    return sheet


@transaction.atomic
def sheet_return(*, actor: Actor, sheet: ResultSheet, reason: str) -> ResultSheet:
    """The reviewer returns submitted results to the institution for correction."""
    require(actor, "results.approve", sheet)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for returning the results."), details={"field": "reason"})
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("At most %(n)s characters.") % {"n": REASON_MAX}, details={"field": "reason"})
    sheet = _lock(sheet)
    if sheet.status != S.SUBMITTED:
        raise Conflict(_("Only results awaiting review can be returned."))
    sheet.status = S.DRAFT
    sheet.return_reason = reason
    sheet.save()
    audit_record(actor, "results.sheet.return", sheet, summary=reason, after={"status": sheet.status})
    notify(
        _users_holding(Role.INSTITUTION, sheet.project_class.project.institution_id),
        title=_("Results returned for correction: %(cls)s") % {"cls": sheet.project_class},
        body=reason,
        link=_link(sheet),
        kind="results",
    )
    return sheet


@transaction.atomic
def sheet_approve(*, actor: Actor, sheet: ResultSheet) -> ResultSheet:
    """审核: post credits for every trainee who passed, from the project's current credit attributes."""
    require(actor, "results.approve", sheet)
    sheet = _lock(sheet)
    if sheet.status == S.APPROVED:
        raise Conflict(_("These results have already been approved."), code="already_approved")
    if sheet.status != S.SUBMITTED:
        raise Conflict(_("Only submitted results can be approved."))
    project_class = sheet.project_class
    project = Project.objects.get(pk=project_class.project_id)  # the current credit attributes
    if project.status not in PUBLIC_PROJECT_STATUSES:
        raise Conflict(_("The project is no longer published; its results cannot be approved."))
    rules = active_rules()
    level = project.credit_level or project.level
    # In teacher order: each posting locks its teacher, and other writers that lock many teachers
    # (the policy activation job) take them in that order, so they queue rather than deadlock.
    results = list(sheet.results.select_related("teacher", "teacher__user").order_by("teacher_id"))
    posted: list[TraineeResult] = []
    for result in results:
        credits, online = result_credits(rules, project, result)
        if credits > 0:
            ledger_post(
                actor=actor,
                teacher=result.teacher,
                category=project.credit_category,
                level=level,
                amount=credits,
                source_type=SourceType.RESULT,
                source_id=result.pk,
                earned_on=project_class.ends_on,
                project=project,
                note=f"{project.name} 第{project_class.number}期",
                rules=rules,
            )
            posted.append(result)
        result.credits, result.credits_online = credits, online
    TraineeResult.objects.bulk_update(results, ["credits", "credits_online"])
    sheet.status = S.APPROVED
    sheet.approvals += 1
    sheet.approved_attributes = credit_attributes(project)
    sheet.approved_at = timezone.now()
    sheet.approved_by = actor.user
    sheet.save()
    total = sum((r.credits for r in posted), Decimal("0"))
    audit_record(
        actor,
        "results.sheet.approve",
        sheet,
        summary=f"{project_class}: {len(posted)} / {total}",
        after={"round": sheet.approvals, "posted": len(posted), "credits": total, **sheet.approved_attributes},
    )
    for result in posted:
        if result.teacher.user_id:
            notify(
                [result.teacher.user],
                title=_("Credits posted: %(project)s") % {"project": project.name},
                body=_("%(credits)s credits (%(category)s) from class %(n)s have been added to your record.")
                % {
                    "credits": engine.plain(result.credits),
                    "category": project.get_credit_category_display(),
                    "n": project_class.number,
                },
                link=reverse("results:my_results"),
                kind="credits",
            )
    return sheet


@transaction.atomic
def sheet_cancel_approval(*, actor: Actor, sheet: ResultSheet, reason: str) -> ResultSheet:
    """取消审核: reverse exactly the entries this sheet's approval posted; the sheet awaits review again."""
    require(actor, "results.approve", sheet)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Give the reason for cancelling the approval."), details={"field": "reason"})
    if len(reason) > REASON_MAX:
        raise InvalidInput(_("At most %(n)s characters.") % {"n": REASON_MAX}, details={"field": "reason"})
    sheet = _lock(sheet)
    if sheet.status != S.APPROVED:
        raise Conflict(_("Only approved results can have their approval cancelled."), code="not_approved")
    project_class = sheet.project_class
    text = _("Approval cancelled: %(reason)s") % {"reason": reason}
    results = list(sheet.results.select_related("teacher", "teacher__user").order_by("teacher_id"))  # as approving
    reversed_for: list[TraineeResult] = []
    count = 0
    for result in results:
        created = ledger_reverse_source(
            actor=actor, source_type=SourceType.RESULT, source_id=result.pk, reason=text, teacher=result.teacher
        )
        if created:
            reversed_for.append(result)
            count += len(created)
        result.credits, result.credits_online = Decimal("0"), Decimal("0")
    TraineeResult.objects.bulk_update(results, ["credits", "credits_online"])
    sheet.status = S.SUBMITTED
    sheet.cancel_reason = reason
    sheet.cancelled_at = timezone.now()
    sheet.cancelled_by = actor.user
    sheet.save()
    audit_record(
        actor,
        "results.sheet.cancel_approval",
        sheet,
        summary=f"{project_class}: {reason}"[:500],
        after={"status": sheet.status, "reversed_entries": count},
    )
    users = [r.teacher.user for r in reversed_for if r.teacher.user_id]
    notify(
        users,
        title=_("Credits withdrawn for review: %(project)s") % {"project": project_class.project.name},
        body=text,
        link=reverse("results:my_results"),
        kind="credits",
    )
    return sheet


# --- spreadsheet upload --------------------------------------------------------------------------


@transaction.atomic
def upload_create(*, actor: Actor, sheet: ResultSheet, file) -> ResultUpload:
    """Check an uploaded spreadsheet against the sheet and keep it as a preview (nothing applied yet)."""
    from .spreadsheet import parse_upload

    require(actor, "results.register", sheet)
    sheet = _lock(sheet)
    _require_editable(sheet)
    if file is None:
        raise InvalidInput(_("Choose the spreadsheet to upload."), details={"field": "file"})
    from .spreadsheet import MAX_BYTES

    if (getattr(file, "size", None) or 0) > MAX_BYTES:
        raise InvalidInput(_("The file is larger than 5 MB."), details={"field": "file"})
    content = file.read(MAX_BYTES + 1)
    name = (getattr(file, "name", "") or "results.xlsx")[-200:]
    rows, errors = parse_upload(content, sheet)
    changed = unchanged = 0
    if not errors:
        current = {r.pk: r for r in sheet.results.all()}
        project = sheet.project_class.project
        for row in rows:
            values, _problems = clean_values(project, row)
            r = current[row["id"]]
            now = {"hours_offline": r.hours_offline, "hours_online": r.hours_online, "passed": r.passed}
            now["remarks"] = r.remarks
            if values == now:
                unchanged += 1
            else:
                changed += 1
    upload = ResultUpload.objects.create(
        sheet=sheet,
        file_name=name,
        sha256=hashlib.sha256(content).hexdigest(),
        status=ResultUpload.Status.INVALID if errors else ResultUpload.Status.PREVIEW,
        rows=rows if not errors else [],
        errors=errors,
        changed=changed,
        unchanged=unchanged,
        uploaded_by=actor.user,
    )
    audit_record(
        actor,
        "results.upload.check",
        upload,
        summary=f"{name}: {len(rows)} rows, {len(errors)} errors",
    )
    return upload


@transaction.atomic
def upload_apply(*, actor: Actor, upload: ResultUpload) -> ResultUpload:
    """Apply a checked upload, all or nothing. Applying it again changes nothing."""
    require(actor, "results.register", upload.sheet)
    sheet = _lock(upload.sheet)
    upload = ResultUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.status == ResultUpload.Status.APPLIED:
        return upload
    if upload.status != ResultUpload.Status.PREVIEW:
        raise Conflict(_("Only a checked upload without errors can be applied."))
    _require_editable(sheet)
    changed, errors = _apply_rows(actor, sheet, upload.rows)
    if errors:
        raise InvalidInput(_errors_message(errors), details={"rows": errors})
    upload.status = ResultUpload.Status.APPLIED
    upload.applied_at = timezone.now()
    upload.changed = changed
    upload.save(update_fields=["status", "applied_at", "changed"])
    sheet.save(update_fields=["updated_at"])
    audit_record(actor, "results.upload.apply", upload, summary=f"{upload.file_name}: {changed}")
    return upload


@transaction.atomic
def upload_cancel(*, actor: Actor, upload: ResultUpload) -> ResultUpload:
    require(actor, "results.register", upload.sheet)
    upload = ResultUpload.objects.select_for_update().get(pk=upload.pk)
    if upload.status == ResultUpload.Status.APPLIED:
        raise Conflict(_("An applied upload cannot be cancelled."))
    if upload.status != ResultUpload.Status.CANCELLED:
        upload.status = ResultUpload.Status.CANCELLED
        upload.save(update_fields=["status"])
        audit_record(actor, "results.upload.cancel", upload, summary=upload.file_name)
    return upload
