from django.db.models import Q, QuerySet
from django.utils import timezone

from peixun.core.scopes import Actor, get_visible, require, visible

from .models import Exemption, RosterImport, RosterImportError, Teacher


def teacher_list(
    *,
    actor: Actor,
    query: str = "",
    school_id: int | None = None,
    county_id: int | None = None,
    stage: str = "",
    subject: str = "",
    status: str = "",
    exempt: str = "",
) -> QuerySet[Teacher]:
    require(actor, "roster.teacher.view")
    qs = visible(actor, Teacher.objects.select_related("school", "school__county"))
    if school_id:
        qs = qs.filter(school_id=school_id)
    if county_id:
        qs = qs.filter(school__county_id=county_id)
    if stage:
        qs = qs.filter(stage=stage)
    if subject:
        qs = qs.filter(subject=subject)
    if status:
        qs = qs.filter(status=status)
    if exempt in ("1", "0"):
        ids = active_exemption_teacher_ids()
        qs = qs.filter(pk__in=ids) if exempt == "1" else qs.exclude(pk__in=ids)
    query = (query or "").strip()
    if query:
        if len(query) == 18:
            qs = qs.filter(national_id=query.upper())
        else:
            qs = qs.filter(name__icontains=query)
    return qs.order_by("school__code", "name", "pk")


def teacher_get(*, actor: Actor, teacher_id: int) -> Teacher:
    return get_visible(actor, Teacher.objects.select_related("school", "school__county", "user"), pk=teacher_id)


def active_exemption_teacher_ids(on=None):
    """Ids of teachers exempt on ``on`` (today by default): the one definition of 'exempt'."""
    on = on or timezone.localdate()
    return Exemption.objects.filter(
        Q(revoked_at__isnull=True, starts_on__lte=on) & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))
    ).values("teacher_id")


def import_list(*, actor: Actor, query: str = "", status: str = "") -> QuerySet[RosterImport]:
    require(actor, "roster.import")
    qs = visible(actor, RosterImport.objects.select_related("created_by", "school", "region"))
    if status:
        qs = qs.filter(status=status)
    query = (query or "").strip()
    if query:
        qs = qs.filter(
            Q(original_name__icontains=query)
            | Q(created_by__username__icontains=query)
            | Q(created_by__display_name__icontains=query)
        )
    return qs.order_by("-created_at", "-pk")


def import_get(*, actor: Actor, import_id: int) -> RosterImport:
    require(actor, "roster.import")
    return get_visible(
        actor,
        RosterImport.objects.select_related("created_by", "applied_by", "school", "region", "job", "apply_job"),
        pk=import_id,
    )


def import_errors(*, actor: Actor, roster_import: RosterImport) -> QuerySet[RosterImportError]:
    """Every problem of an import, by line (the import must be visible to the actor)."""
    require(actor, "roster.import", roster_import)
    return RosterImportError.objects.filter(roster_import_id=roster_import.pk).order_by("line", "pk")
