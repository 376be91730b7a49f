"""Reads of results, each scoped to the actor."""

from __future__ import annotations

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import Project, ProjectClass
from peixun.core.errors import NotFound
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor, get_visible, require, visible
from peixun.credits.models import LedgerEntry, SourceType
from peixun.terms.models import Term

from .models import ResultSheet, ResultUpload, TraineeResult

S = ResultSheet.Status
NOT_STARTED = "none"
STALE = "stale"  # approved, but the project's credit type, level or format was corrected since
STATUS_FILTERS = (NOT_STARTED, *S.values, STALE)


def _classes_in_scope(actor: Actor, qs: QuerySet[ProjectClass]) -> QuerySet[ProjectClass]:
    """The same scope as ``results.resultsheet`` (the class's institution, the project's bureau), for classes
    that may not have a sheet yet."""
    if actor.role in (Role.PROVINCE, Role.MONITOR):
        return qs
    if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER) and actor.institution is not None:
        return qs.filter(project__institution_id=actor.institution.pk)
    if actor.role in (Role.CITY, Role.COUNTY) and actor.region is not None:
        return qs.filter(project__region__path__startswith=actor.region.path)
    return qs.none()


def terms() -> QuerySet[Term]:
    return Term.objects.order_by("-code")


def class_list(
    *,
    actor: Actor,
    term_id: int | None = None,
    institution_id: int | None = None,
    status: str = "",
    query: str = "",
    due: bool = False,
) -> QuerySet[ProjectClass]:
    """Classes whose results can be (or have been) registered: started classes of published projects.

    ``due``: finished classes whose results are not yet submitted (no sheet, or a draft).
    """
    require(actor, "results.view")
    today = timezone.localdate()
    qs = ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES).filter(
        Q(starts_on__lte=today) | Q(result_sheet__isnull=False)
    )
    qs = _classes_in_scope(actor, qs)
    if term_id:
        qs = qs.filter(project__term_id=term_id)
    if institution_id:
        qs = qs.filter(project__institution_id=institution_id)
    if due:
        qs = qs.filter(ends_on__lt=today).filter(Q(result_sheet__isnull=True) | Q(result_sheet__status=S.DRAFT))
    if status == NOT_STARTED:
        qs = qs.filter(result_sheet__isnull=True)
    elif status == STALE:
        qs = (
            qs.filter(result_sheet__status=S.APPROVED)
            .annotate(
                approved_category=KeyTextTransform("credit_category", "result_sheet__approved_attributes"),
                approved_level=KeyTextTransform("credit_level", "result_sheet__approved_attributes"),
                approved_format=KeyTextTransform("format", "result_sheet__approved_attributes"),
            )
            .filter(
                ~Q(approved_category=F("project__credit_category"))
                | ~Q(approved_level=F("project__credit_level"))
                | ~Q(approved_format=F("project__format"))
            )
        )
    elif status in S.values:
        qs = qs.filter(result_sheet__status=status)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(project__name__icontains=query)
            | Q(project__code__icontains=query)
            | Q(project__institution__name__icontains=query)
        )
    return (
        qs.select_related("project", "project__institution", "project__term", "result_sheet")
        .annotate(
            trainees=Count("result_sheet__results", distinct=True),
            passed=Count("result_sheet__results", filter=Q(result_sheet__results__passed=True), distinct=True),
        )
        .annotate(queue=_queue_order(actor))
        .order_by("queue", "-ends_on", "project__code", "number")
    )


def _queue_order(actor: Actor) -> Case:
    """What the actor has to act on first: the reviewer's submitted results, the institution's unfinished ones."""
    if actor.role == Role.INSTITUTION_REVIEWER:
        order = [S.SUBMITTED, S.APPROVED, S.DRAFT]
    else:
        order = [None, S.DRAFT, S.SUBMITTED, S.APPROVED]
    whens = [
        When(result_sheet__isnull=True, then=Value(i))
        if status is None
        else When(result_sheet__status=status, then=Value(i))
        for i, status in enumerate(order)
    ]
    return Case(*whens, default=Value(len(order)), output_field=IntegerField())


def class_get(*, actor: Actor, class_id: int) -> ProjectClass:
    require(actor, "results.view")
    qs = _classes_in_scope(
        actor,
        ProjectClass.objects.filter(project__status__in=PUBLIC_PROJECT_STATUSES).select_related(
            "project", "project__institution", "project__term"
        ),
    )
    try:
        return qs.get(pk=class_id)
    except ProjectClass.DoesNotExist:
        raise NotFound(_("The object does not exist or is outside your scope.")) from None


def sheet_get(*, actor: Actor, sheet_id: int) -> ResultSheet:
    require(actor, "results.view")
    return get_visible(
        actor,
        ResultSheet.objects.select_related(
            "project_class",
            "project_class__project",
            "project_class__project__institution",
            "project_class__project__term",
            "submitted_by",
            "approved_by",
            "cancelled_by",
        ),
        pk=sheet_id,
    )


def sheet_results(sheet: ResultSheet) -> QuerySet[TraineeResult]:
    return sheet.results.select_related("teacher", "teacher__school").order_by(
        "teacher__school__code", "teacher__name", "pk"
    )


def sheet_summary(sheet: ResultSheet) -> dict:
    rows = sheet.results.aggregate(
        n_trainees=Count("pk"),
        n_passed=Count("pk", filter=Q(passed=True)),
        n_failed=Count("pk", filter=Q(passed=False)),
        n_unfinished=Count(
            "pk", filter=Q(passed__isnull=True) | Q(hours_offline__isnull=True) | Q(hours_online__isnull=True)
        ),
    )
    return {key[2:]: value for key, value in rows.items()}


def needs_reapproval(sheet: ResultSheet, project: Project | None = None) -> bool:
    """An approved sheet whose project's credit attributes were corrected since: 取消审核 → 审核 to repair."""
    from .services import credit_attributes

    if sheet.status != S.APPROVED:
        return False
    return sheet.approved_attributes != credit_attributes(project or sheet.project_class.project)


def sheet_ledger(*, actor: Actor, sheet: ResultSheet) -> QuerySet[LedgerEntry]:
    """The ledger entries this sheet's approvals posted and their reversals (the institution's own view)."""
    require(actor, "results.view", sheet)
    ids = sheet.results.values("pk")
    return (
        LedgerEntry.objects.filter(source_type=SourceType.RESULT, source_id__in=ids)
        .select_related("teacher", "actor")
        .order_by("created_at", "pk")
    )


def upload_get(*, actor: Actor, upload_id: int) -> ResultUpload:
    require(actor, "results.view")
    return get_visible(
        actor, ResultUpload.objects.select_related("sheet", "sheet__project_class__project"), pk=upload_id
    )


def my_results(*, actor: Actor) -> QuerySet[TraineeResult]:
    """A teacher's results, one per class, newest first (figures only once submitted)."""
    require(actor, "results.mine")
    return (
        visible(actor, TraineeResult.objects.all())
        .select_related("sheet", "sheet__project_class", "sheet__project_class__project")
        .order_by("-sheet__project_class__ends_on", "-pk")
    )


def pass_rates(*, term: Term, institution_ids: list[int]) -> dict[int, float | None]:
    """Passed / registered results of approved sheets per institution in the term (None without any)."""
    rows = (
        TraineeResult.objects.filter(
            sheet__status=S.APPROVED,
            sheet__project_class__project__term=term,
            sheet__project_class__project__institution_id__in=institution_ids,
        )
        .values("sheet__project_class__project__institution_id")
        .annotate(total=Count("pk"), passed=Count("pk", filter=Q(passed=True)))
    )
    rates: dict[int, float | None] = dict.fromkeys(institution_ids)
    for row in rows:
        if row["total"]:
            rates[row["sheet__project_class__project__institution_id"]] = row["passed"] / row["total"]
    return rates
