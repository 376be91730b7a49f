"""Dashboards and drill-down pages (thin: parse, call the selectors, render; exports via ``export_or_job``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import Project, ProjectClass
from peixun.catalog.selectors import teacher_match_q
from peixun.core.decorators import actor_required
from peixun.core.exports import export_or_job
from peixun.core.masking import mask_national_id
from peixun.core.roles import Role
from peixun.core.scopes import can, get_visible, require
from peixun.credits import selectors as credit_selectors
from peixun.orgs.models import Institution
from peixun.roster.models import Teacher

from . import selectors
from .exports import filters_from, node_from, show_full_id

KEEP = ("term", "status", "category")  # filters carried down the drill-down


def _keep(request, **extra) -> str:
    params = {k: request.GET[k] for k in KEEP if request.GET.get(k)}
    params.update({k: v for k, v in extra.items() if v not in (None, "")})
    return urlencode(params)


def node_url(node: selectors.Node, query: str = "") -> str:
    if node.kind == "school":
        url = reverse("reports:school", args=[node.school.pk])
    else:
        url = reverse("reports:region", args=[node.region.pk])
    return f"{url}?{query}" if query else url


def _f(value) -> float:
    return float(value or 0)


def _status_chart(data: dict) -> dict:
    labels = selectors.status_labels()
    names = [r.get("name", "") for r in data["rows"]]
    colours = {"compliant": "#198754", "on_track": "#0d6efd", "at_risk": "#dc3545"}
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "value", "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "yAxis": {"type": "category", "data": names, "inverse": True},
        "series": [
            {
                "name": str(labels[s]),
                "type": "bar",
                "stack": "share",
                "itemStyle": {"color": colours[s]},
                "data": [r[f"share_{s}"] for r in data["rows"]],
            }
            for s in ("compliant", "on_track", "at_risk")
        ],
    }


def _trend_chart(data: dict) -> dict:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": [p["label"] for p in data["trend"]]},
        "yAxis": {"type": "value", "name": _("Credits")},
        "series": [
            {
                "name": str(c["label"]),
                "type": "bar",
                "data": [_f(p["credits"].get(c["code"])) for p in data["trend"]],
            }
            for c in data["categories"]
        ],
    }


def _coverage_chart(rows: list[dict]) -> dict:
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
        "xAxis": {"type": "category", "data": [r["county"].name for r in rows], "axisLabel": {"rotate": 30}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {"name": _("Orders posted"), "type": "bar", "data": [r["posted"] for r in rows]},
            {
                "name": _("Minimum"),
                "type": "line",
                "symbol": "none",
                "data": [r["minimum"] for r in rows],
                "lineStyle": {"type": "dashed"},
            },
        ],
    }


ROW_SORTS = ("name", "teachers", "compliant", "share_compliant", "at_risk", "share_at_risk", "missing_projected")


def _sort_rows(rows: list[dict], sort: str) -> tuple[list[dict], str]:
    key = sort.lstrip("-")
    if key not in ROW_SORTS:
        return rows, ""
    reverse_ = sort.startswith("-")
    if key == "name":
        return sorted(rows, key=lambda r: r.get("code") or r.get("name", ""), reverse=reverse_), sort
    return sorted(rows, key=lambda r: (r[key], r.get("code", "")), reverse=reverse_), sort


@actor_required
def dashboard(request):
    """The actor's own dashboard: an institution's page, or the top of their drill-down."""
    actor = request.actor
    if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER):
        return institution_dashboard(request)
    return _node_page(request, selectors.home_node(actor))


@actor_required
def region(request, pk: int):
    return _node_page(request, selectors.node_get(request.actor, region_id=pk))


@actor_required
def school(request, pk: int):
    return _node_page(request, selectors.node_get(request.actor, school_id=pk))


def _node_page(request, node: selectors.Node):
    actor = request.actor
    params = {"region": node.region.pk if node.region else "", "school": node.school.pk if node.school else ""}
    params.update({k: request.GET.get(k, "") for k in ("term",)})
    export = request.GET.get("export")
    if export in ("completion", "progress", "coverage", "quotas"):
        return export_or_job(request, f"reports.{export}", params)
    term = selectors.term_for(request.GET.get("term"))
    rules = credit_selectors.active_rules()
    data = selectors.completion(actor, node, rules=rules)
    q = (request.GET.get("q") or "").strip()
    rows = data["rows"]
    if q:
        rows = [r for r in rows if q in r.get("name", "")]
    rows, sort = _sort_rows(rows, request.GET.get("sort", "name"))
    keep = _keep(request)
    for r in rows:
        if data["kind"] == "teacher":
            r["url"] = reverse("reports:teacher", args=[r["id"]])
        elif data["kind"] == "school":
            r["url"] = reverse("reports:school", args=[r["id"]]) + (f"?{keep}" if keep else "")
        else:
            r["url"] = reverse("reports:region", args=[r["id"]]) + (f"?{keep}" if keep else "")
    coverage = selectors.order_coverage(actor, node, term)
    quota = selectors.quota_usage(actor, term) if node == selectors.home_node(actor) else None
    sort_params = request.GET.copy()
    for k in ("sort", "export", "page"):
        sort_params.pop(k, None)
    teacher_state = None
    if data["kind"] == "teacher":
        # A school's teachers: a paginated, sortable list instead of a chart.
        rows = sorted(rows, key=lambda r: (-r["missing_projected"], r["name"]))
        if sort:
            rows, sort = _sort_rows(rows, sort)
        teacher_state = Paginator(rows, 50).get_page(request.GET.get("page"))
        rows = list(teacher_state.object_list)
    node_params = {"school": node.school.pk} if node.school else {"region": node.region.pk}
    return render(
        request,
        "reports/node.html",
        {
            "node": node,
            "crumbs": [(c, node_url(c, keep)) for c in selectors.breadcrumbs(actor, node)],
            "data": data,
            "rows": rows,
            "teacher_page": teacher_state,
            "sort": sort,
            "sort_params": sort_params.urlencode(),
            "keep": keep,
            "term": term,
            "terms": selectors.terms(),
            "progress": selectors.term_progress(actor, node, term),
            "coverage": coverage,
            "quota": quota,
            "charts": {
                "status": _status_chart({"rows": rows}) if data["kind"] != "teacher" and rows else None,
                "trend": _trend_chart(data) if data["trend"] else None,
                "coverage": _coverage_chart(coverage) if coverage else None,
            },
            "teachers_url": reverse("reports:teacher_list") + "?" + urlencode({**node_params, "status": "at_risk"}),
            "all_teachers_url": reverse("reports:teacher_list") + "?" + urlencode(node_params),
            "can_institutions": can(actor, "reports.institutions.view"),
        },
    )


@actor_required
def teacher_list(request):
    """Teachers at a node with their standings: filter by status (the at-risk list), category, name; sort; page."""
    actor = request.actor
    node = node_from(actor, request.GET)
    filters = filters_from(request.GET)
    if request.GET.get("export"):
        params = {k: request.GET.get(k, "") for k in ("region", "school", "status", "category", "q", "in_school")}
        return export_or_job(request, "reports.teachers", params)
    rules = credit_selectors.active_rules()
    sort = filters.sort if filters.sort.lstrip("-") in selectors.ORDER_SQL else "-missing"
    filters.sort = sort
    page = Paginator(selectors.TeacherPages(actor, node, filters, rules), 25).get_page(request.GET.get("page"))
    teachers = selectors.teachers_by_id([line.standing.teacher_id for line in page.object_list])
    classes = selectors.open_classes(rules)
    full = show_full_id(actor)
    lines = []
    for line in page.object_list:
        s = line.standing
        t = teachers[s.teacher_id]
        count, first = selectors.suggestions(t, s, classes, rules) if s.status == "at_risk" else (0, [])
        lines.append(
            {
                "teacher": t,
                "national_id": t.national_id if full else mask_national_id(t.national_id),
                "standing": s,
                "options": count,
                "first": first,
            }
        )
    params = request.GET.copy()
    for k in ("page", "export"):
        params.pop(k, None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    schools = []
    if node.kind == "county":
        from peixun.orgs.models import School

        schools = School.objects.filter(county=node.region).order_by("code").only("pk", "name")
    return render(
        request,
        "reports/teacher_list.html",
        {
            "node": node,
            "node_url": node_url(node, _keep(request)),
            "crumbs": [(c, node_url(c, _keep(request))) for c in selectors.breadcrumbs(actor, node)],
            "page": page,
            "lines": lines,
            "filters": filters,
            "sort": sort,
            "params": params.urlencode(),
            "sort_params": sort_params.urlencode(),
            "categories": [c for c in rules.categories if not c.separate],
            "statuses": selectors.status_labels(),
            "schools": schools,
        },
    )


@actor_required
def teacher(request, pk: int):
    """The last level of the drill-down: one teacher's standing and the classes still open to them."""
    actor = request.actor
    require(actor, "credits.standing.view")
    teacher = get_visible(actor, Teacher.objects.select_related("school", "school__county"), pk=pk)
    standing, _entries = credit_selectors.teacher_standing(actor=actor, teacher=teacher)
    short = [c for c in standing.categories if not c.separate and c.projected < c.required]
    codes = {c.code for c in short} or {c.code for c in standing.categories if not c.separate}
    rules = credit_selectors.active_rules()
    today = timezone.localdate()
    aliases = [k for k, v in rules.aliases.items() if v in codes]
    classes = (
        ProjectClass.objects.filter(
            project__in=Project.objects.filter(
                teacher_match_q(teacher),
                status=Project.Status.PUBLISHED,
                deleted_at__isnull=True,
                credit_category__in=[*codes, *aliases],
            ),
            starts_on__gt=today,
        )
        .select_related("project", "project__institution")
        .order_by("starts_on", "pk")[:50]
    )
    node = selectors.Node("school", school=teacher.school)
    keep = _keep(request)
    return render(
        request,
        "reports/teacher.html",
        {
            "teacher": teacher,
            "national_id": teacher.national_id if show_full_id(actor) else mask_national_id(teacher.national_id),
            "standing": standing,
            "short": short,
            "classes": [c for c in classes if c.seats_left > 0],
            "crumbs": [(c, node_url(c, keep)) for c in selectors.breadcrumbs(actor, node)],
        },
    )


@actor_required
def institutions(request):
    """Institution statistics (province, monitors; an institution sees its own row)."""
    actor = request.actor
    require(actor, "reports.institutions.view")
    if request.GET.get("export"):
        return export_or_job(request, "reports.institutions", request.GET.dict())
    term = selectors.term_for(request.GET.get("term"))
    sort = request.GET.get("sort", "name")
    rows = selectors.institution_stats(
        actor, term, sort=sort, query=request.GET.get("q", ""), type=request.GET.get("type", "")
    )
    params = request.GET.copy()
    for k in ("sort", "export"):
        params.pop(k, None)
    chart = None
    if rows:
        chart = {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
            "yAxis": {
                "type": "category",
                "data": [r.institution.name for r in rows],
                "inverse": True,
                "axisLabel": {"width": 140, "overflow": "truncate"},
            },
            "xAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"name": _("Projects applied"), "type": "bar", "data": [r.applied for r in rows]},
                {"name": _("Projects approved"), "type": "bar", "data": [r.approved for r in rows]},
                {"name": _("Changes after publication"), "type": "bar", "data": [r.changes for r in rows]},
                {"name": _("Late schedules"), "type": "bar", "data": [r.late_schedules for r in rows]},
            ],
        }
    return render(
        request,
        "reports/institutions.html",
        {
            "term": term,
            "terms": selectors.terms(),
            "rows": rows,
            "sort": sort,
            "params": params.urlencode(),
            "types": Institution.Type.choices,
            "chart": chart,
            "show_filters": actor.role not in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER),
        },
    )


def institution_dashboard(request):
    """An institution's own figures: statistics, quota, and the fill of its classes this term."""
    actor = request.actor
    require(actor, "reports.institutions.view")
    term = selectors.term_for(request.GET.get("term"))
    rows = selectors.institution_stats(actor, term)
    classes = []
    if term is not None and actor.institution is not None:
        classes = list(
            ProjectClass.objects.filter(
                project__term=term, project__institution=actor.institution, project__deleted_at__isnull=True
            )
            .select_related("project")
            .order_by("starts_on", "pk")[:200]
        )
    fill = None
    if classes:
        fill = {
            "tooltip": {"trigger": "axis"},
            "legend": {"top": 0},
            "grid": {"left": 8, "right": 16, "bottom": 8, "top": 36, "containLabel": True},
            "yAxis": {
                "type": "category",
                "data": [str(c) for c in classes],
                "inverse": True,
                "axisLabel": {"width": 140, "overflow": "truncate"},
            },
            "xAxis": {"type": "value", "minInterval": 1},
            "series": [
                {"name": _("Seats offered"), "type": "bar", "data": [c.capacity for c in classes]},
                {"name": _("Seats taken"), "type": "bar", "data": [c.seats_taken for c in classes]},
            ],
        }
    return render(
        request,
        "reports/institution.html",
        {
            "term": term,
            "terms": selectors.terms(),
            "row": rows[0] if rows else None,
            "quota": selectors.quota_usage(actor, term),
            "classes": classes,
            "fill": fill,
        },
    )
