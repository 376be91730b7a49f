"""Class completion certificates (培训结业证书): for a trainee whose approved result in a class passed.

The certificate asserts the teacher, the class, the result (passed, 学时 attended), the result
sheet's approval round and every ledger entry posted from that result (id and amount). It is
signed and verified exactly like a credit statement (``services_certificates``): after 取消审核
the entries are reversed, so the certificate verifies as outdated.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from peixun.catalog.models import ProjectClass
from peixun.core.audit import audit_record
from peixun.core.errors import Conflict, NotFound
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import Actor, require
from peixun.credits.models import LedgerEntry, SourceType
from peixun.credits.policy import category_label
from peixun.results.models import ResultSheet, TraineeResult
from peixun.roster.models import Teacher

from .models import IssuedCertificate
from .services_certificates import LANGUAGE, Statement, digest_of, new_serial, num


def passed_results(teacher_ids) -> QuerySet[TraineeResult]:
    """Approved, passed results (with credits posted) of these teachers: the classes they may have a certificate of."""
    return (
        TraineeResult.objects.filter(
            teacher_id__in=teacher_ids, passed=True, sheet__status=ResultSheet.Status.APPROVED, credits__gt=0
        )
        .select_related("sheet__project_class__project__institution")
        .order_by("-sheet__project_class__ends_on", "pk")
    )


def _result_of(teacher: Teacher, project_class: ProjectClass) -> TraineeResult | None:
    return (
        TraineeResult.objects.select_related("sheet", "sheet__project_class__project__institution")
        .filter(teacher=teacher, sheet__project_class=project_class)
        .first()
    )


def _entries(result: TraineeResult | None, teacher: Teacher) -> list[LedgerEntry]:
    if result is None:
        return []
    return list(
        LedgerEntry.objects.filter(source_type=SourceType.RESULT, source_id=result.pk, teacher=teacher).order_by("pk")
    )


def class_certificate_statement(teacher: Teacher, project_class: ProjectClass) -> Statement:
    """What a completion certificate of ``teacher`` in ``project_class`` asserts today (and its digest)."""
    with override(LANGUAGE):
        result = _result_of(teacher, project_class)
        entries = _entries(result, teacher)
        credits = sum((e.amount for e in entries), Decimal("0"))
        sheet = result.sheet if result else None
        payload = {
            "v": 1,
            "kind": IssuedCertificate.Kind.CLASS,
            "teacher": teacher.pk,
            "national_id": teacher.national_id,
            "class": project_class.pk,
            "result": result.pk if result else None,
            "passed": result.passed if result else None,
            "hours": [num(result.hours_offline or 0), num(result.hours_online or 0)] if result else None,
            "sheet": [sheet.status, sheet.approvals] if sheet else None,
            "entries": [[e.pk, num(e.amount)] for e in entries],
        }
        project = project_class.project
        hours = (result.hours_offline or 0) + (result.hours_online or 0) if result else Decimal("0")
        snapshot = {
            "title": _("Training completion certificate"),
            "teacher": {
                "name": teacher.name,
                "national_id": mask_national_id(teacher.national_id),
                "school": teacher.school.name,
                "county": teacher.school.county.full_name,
            },
            "class": {
                "project": project.name,
                "name": _("Class %(number)s") % {"number": project_class.number},
                "institution": project.institution.name,
                "start": project_class.starts_on.isoformat(),
                "end": project_class.ends_on.isoformat(),
                "hours": num(hours),
                "credits": num(credits),
                "category": category_label(entries[0].category) if entries else category_label(project.credit_category),
            },
        }
        return Statement(payload=payload, snapshot=snapshot, digest=digest_of(payload))


@transaction.atomic
def class_certificate_issue(*, actor: Actor, teacher: Teacher, project_class: ProjectClass) -> IssuedCertificate:
    """Issue (or re-issue unchanged) the completion certificate of a class the teacher passed."""
    require(actor, "reports.certificate.issue", teacher)
    return _issue(actor, teacher, project_class)


def _issue(actor: Actor, teacher: Teacher, project_class: ProjectClass) -> IssuedCertificate:
    """Issue after the caller checked the actor may (the teacher's scope, or the class's institution)."""
    teacher = Teacher.objects.select_related("school", "school__county", "school__county__parent").get(pk=teacher.pk)
    if not passed_results([teacher.pk]).filter(sheet__project_class=project_class).exists():
        raise Conflict(
            _("A completion certificate needs an approved, passed result of this class with credits posted."),
            code="no_passed_result",
        )
    statement = class_certificate_statement(teacher, project_class)
    existing = (
        IssuedCertificate.objects.filter(
            teacher=teacher,
            kind=IssuedCertificate.Kind.CLASS,
            project_class=project_class,
            digest=statement.digest,
        )
        .order_by("-issued_at", "-pk")
        .first()
    )
    summary = f"{teacher.name} {statement.snapshot['class']['project']} {statement.snapshot['class']['name']}"
    if existing is not None:
        audit_record(actor, "reports.certificate.reissue", existing, summary=f"{summary}: {existing.serial}")
        return existing
    authority = project_class.project.institution.name  # the training institution certifies completion
    issued = IssuedCertificate.objects.create(
        serial=new_serial(),
        kind=IssuedCertificate.Kind.CLASS,
        teacher=teacher,
        project_class=project_class,
        as_of=timezone.localdate() if project_class.ends_on > timezone.localdate() else project_class.ends_on,
        digest=statement.digest,
        snapshot=statement.snapshot,
        authority=authority,
        issued_by=actor.user if getattr(actor.user, "pk", None) else None,
        issued_role=actor.role,
    )
    audit_record(
        actor,
        "reports.certificate.issue",
        issued,
        summary=f"{summary}: {issued.serial}",
        after={"teacher": teacher.pk, "class": project_class.pk, "digest": issued.digest},
    )
    return issued


# --- a class's certificates as one background job (by the training institution) ------------------

CLASS_BATCH_JOB_KIND = "class_certificates"


def require_class_owner(actor: Actor, project_class: ProjectClass) -> None:
    """The class's own training institution (or the province) issues all of its certificates."""
    require(actor, "reports.certificate.class_batch")
    if actor.role != Role.PROVINCE and project_class.project.institution_id != getattr(actor.institution, "pk", None):
        raise NotFound(_("The object does not exist or is outside your scope."))


def class_passed_results(project_class: ProjectClass) -> QuerySet[TraineeResult]:
    return (
        TraineeResult.objects.filter(
            sheet__project_class=project_class,
            sheet__status=ResultSheet.Status.APPROVED,
            passed=True,
            credits__gt=0,
        )
        .select_related("teacher", "teacher__school", "teacher__school__county")
        .order_by("teacher__school__code", "teacher__name", "pk")
    )


def class_issue_for_batch(*, actor: Actor, teacher: Teacher, project_class: ProjectClass) -> IssuedCertificate:
    """One certificate of a class batch (the job checks the class owner again before it starts)."""
    with transaction.atomic():
        return _issue(actor, teacher, project_class)


@transaction.atomic
def class_certificate_batch_start(*, actor: Actor, project_class: ProjectClass, base_url: str):
    """Start the job that issues the certificate of every passed trainee of a class, as one zip."""
    from peixun.core.services import job_create

    from .certificates_tasks import run_class_certificate_batch

    require_class_owner(actor, project_class)
    total = class_passed_results(project_class).count()
    if not total:
        raise Conflict(
            _("No trainee of this class has an approved, passed result with credits posted."),
            code="no_passed_result",
        )
    label = f"{project_class.project.name} " + _("Class %(number)s") % {"number": project_class.number}
    job = job_create(
        owner=actor.user,
        kind=CLASS_BATCH_JOB_KIND,
        title=_("Completion certificates of %(class)s (%(count)s trainees)") % {"class": label, "count": total},
        params={"grant_id": actor.grant.pk, "class_id": project_class.pk, "base_url": base_url},
        total=total,
    )
    audit_record(
        actor,
        "reports.certificate.class_batch",
        project_class,
        summary=f"{label}: {total}",
        after={"job": job.pk},
    )
    transaction.on_commit(lambda: run_class_certificate_batch.enqueue(job_id=job.pk))
    return job


def class_batch_list(*, actor: Actor) -> QuerySet[ResultSheet]:
    """Approved result sheets of the actor's institution (all for the province), newest class first."""
    from django.db.models import Count, Q

    require(actor, "reports.certificate.class_batch")
    qs = ResultSheet.objects.filter(status=ResultSheet.Status.APPROVED).select_related(
        "project_class__project__institution"
    )
    if actor.role != Role.PROVINCE:
        qs = qs.filter(project_class__project__institution_id=getattr(actor.institution, "pk", None))
    return qs.annotate(passed=Count("results", filter=Q(results__passed=True, results__credits__gt=0))).order_by(
        "-project_class__ends_on", "-pk"
    )
