from django.db.models import Count, Q, QuerySet

from peixun.core.scopes import Actor, get_visible, visible

from .models import Institution, Region, School


def region_list(*, actor: Actor) -> QuerySet[Region]:
    return visible(actor, Region.objects.select_related("parent")).annotate(
        school_count=Count("schools", distinct=True)
    )


def region_tree(*, actor: Actor) -> list[dict]:
    """Visible regions as nested dicts, for the tree page."""
    regions = list(region_list(actor=actor).order_by("path"))
    nodes = {r.pk: {"region": r, "children": []} for r in regions}
    roots = []
    for region in regions:
        parent = nodes.get(region.parent_id)
        (parent["children"] if parent else roots).append(nodes[region.pk])
    return roots


def counties(*, actor: Actor) -> QuerySet[Region]:
    return visible(actor, Region.objects.filter(level=Region.Level.COUNTY)).order_by("code")


def school_list(
    *, actor: Actor, county_id: int | None = None, stage: str = "", rural: str = "", query: str = ""
) -> QuerySet[School]:
    qs = visible(actor, School.objects.select_related("county", "city"))
    if county_id:
        qs = qs.filter(county_id=county_id)
    if stage:
        qs = qs.filter(stages__contains=f",{stage},")
    if rural == "1":
        qs = qs.filter(is_rural=True)
    elif rural == "0":
        qs = qs.filter(is_rural=False)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__startswith=query))
    return qs.order_by("code")


def school_get(*, actor: Actor, school_id: int) -> School:
    return get_visible(actor, School.objects.select_related("county", "city"), pk=school_id)


def institution_list(*, actor: Actor, type: str = "", query: str = "") -> QuerySet[Institution]:
    qs = visible(actor, Institution.objects.select_related("region"))
    if type:
        qs = qs.filter(type=type)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(code__startswith=query))
    return qs.order_by("code")


def institution_get(*, actor: Actor, institution_id: int) -> Institution:
    return get_visible(actor, Institution.objects.select_related("region"), pk=institution_id)


def region_get(*, actor: Actor, region_id: int) -> Region:
    return get_visible(actor, Region.objects.select_related("parent"), pk=region_id)
