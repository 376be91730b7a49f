"""Reads behind the dashboards, drill-down and report exports, each scoped to the actor.

Credit standings come from the credits app (``sqlreport`` compiles them to one SQL statement;
the engine is the fallback for policies it does not compile); term, order, quota and
institution figures from the catalog, orders, terms and monitoring apps. Nothing here
recomputes a standing by itself.

A *node* is one place in the drill-down: the province, a city, a county or a school. Its
rows are the next level down (cities, counties, schools, teachers).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.catalog.models import Project, ProjectClass
from peixun.core.errors import NotFound, PermissionDenied
from peixun.core.roles import Role
from peixun.core.scopes import PUBLIC_PROJECT_STATUSES, Actor, can, get_visible, require, visible
from peixun.credits import selectors as credit_selectors
from peixun.credits import sqlreport
from peixun.credits.models import CreditTotal
from peixun.credits.policy import Rules
from peixun.enrollment.models import Enrollment
from peixun.orgs.models import Region, School
from peixun.roster.models import Teacher
from peixun.terms.models import Term

ZERO = Decimal("0")
STATUSES = ("compliant", "on_track", "at_risk", "exempt")
CHILD_KIND = {"province": "city", "city": "county", "county": "school", "school": "teacher"}
# Lookup from a teacher to the id of the row it falls in, per kind of row.
ROW_KEY = {"city": "school__city_id", "county": "school__county_id", "school": "school_id", "teacher": "id"}


def status_labels() -> dict[str, str]:
    return {
        "compliant": _("Requirements met"),
        "on_track": _("On track"),
        "at_risk": _("At risk"),
        "exempt": _("Exempt"),
    }


# --- nodes of the drill-down ----------------------------------------------------------------


@dataclass
class Node:
    kind: str  # province / city / county / school
    region: Region | None = None
    school: School | None = None

    @property
    def pk(self) -> int:
        return self.school.pk if self.school is not None else self.region.pk

    @property
    def name(self) -> str:
        return self.school.name if self.school is not None else self.region.name

    @property
    def child_kind(self) -> str:
        return CHILD_KIND[self.kind]

    @property
    def county_id(self) -> int | None:
        if self.school is not None:
            return self.school.county_id
        return self.region.pk if self.kind == "county" else None

    def teacher_filter(self) -> Q:
        if self.school is not None:
            return Q(school=self.school)
        if self.kind == "province":
            return Q()
        if self.kind == "city":
            return Q(school__city=self.region)
        return Q(school__county=self.region)


def may_view(actor: Actor) -> bool:
    return can(actor, "reports.dashboard.view")


def home_node(actor: Actor) -> Node:
    """Where the actor's dashboard starts: their school, their region, or the province."""
    require(actor, "reports.dashboard.view")
    if actor.role == Role.INSTITUTION:
        raise PermissionDenied(_("Your role may not perform this operation."))
    if actor.school is not None:
        return Node("school", school=actor.school)
    region = actor.region
    if region is None or actor.role in (Role.PROVINCE, Role.MONITOR):
        region = region if region is not None and region.level == Region.Level.PROVINCE else None
        region = region or Region.objects.filter(level=Region.Level.PROVINCE).order_by("pk").first()
    if region is None:
        raise NotFound(_("The object does not exist or is outside your scope."))
    return Node(region.level, region=region)


def node_get(actor: Actor, *, region_id: int | None = None, school_id: int | None = None) -> Node:
    """A node inside the actor's scope (404 outside it)."""
    if school_id:
        require(actor, "reports.dashboard.view")
        school = get_visible(actor, School.objects.select_related("county", "county__parent"), pk=school_id)
        return Node("school", school=school)
    if region_id:
        require(actor, "reports.dashboard.view")
        if actor.role in (Role.PROVINCE, Role.MONITOR):
            region = Region.objects.filter(pk=region_id).first()
            if region is None:
                raise NotFound(_("The object does not exist or is outside your scope."))
        else:
            region = get_visible(actor, Region.objects.all(), pk=region_id)
        return Node(region.level, region=region)
    return home_node(actor)


def breadcrumbs(actor: Actor, node: Node) -> list[Node]:
    """The nodes from the actor's own starting point down to ``node``."""
    top = home_node(actor)
    chain: list[Node] = [node]
    region = node.school.county if node.school is not None else node.region.parent
    while region is not None and not (top.region is not None and chain[0].region == top.region):
        if top.school is not None:
            break
        chain.insert(0, Node(region.level, region=region))
        if top.region is not None and region.pk == top.region.pk:
            break
        region = region.parent
    return chain


def node_teachers(actor: Actor, node: Node) -> QuerySet[Teacher]:
    """Teachers in post at the node, within the actor's scope."""
    require(actor, "credits.standing.view")
    return visible(actor, Teacher.objects.filter(status=Teacher.Status.ACTIVE)).filter(node.teacher_filter())


def child_rows(actor: Actor, node: Node) -> list[dict]:
    """The next level down: id and name of each city / county / school (teachers are listed apart)."""
    kind = node.child_kind
    if kind == "school":
        schools = visible(actor, School.objects.filter(county=node.region)).order_by("code")
        return [{"id": s.pk, "name": s.name, "code": s.code} for s in schools]
    if kind == "teacher":
        return []
    level = Region.Level.CITY if kind == "city" else Region.Level.COUNTY
    regions = Region.objects.filter(parent=node.region, level=level)
    if actor.role not in (Role.PROVINCE, Role.MONITOR):
        regions = visible(actor, regions)
    return [{"id": r.pk, "name": r.name, "code": r.code} for r in regions.order_by("code")]


# --- per-teacher standings ------------------------------------------------------------------


@dataclass
class TeacherStanding:
    teacher_id: int
    row_id: int | None
    status: str
    counted: dict[str, Decimal]
    projected: dict[str, Decimal]
    missing_now: Decimal
    missing_projected: Decimal
    categories_met: set[str] = field(default_factory=set)


def groups(rules: Rules) -> list[tuple[str, ...]]:
    """Interchange groups, every other cycle category alone."""
    cycle = [c.code for c in rules.categories if not c.separate]
    grouped = {code for g in rules.interchange for code in g}
    out = [tuple(c for c in g if c in cycle) for g in rules.interchange]
    return [g for g in out if g] + [(c,) for c in cycle if c not in grouped]


def _met(rules: Rules, counted: dict[str, Decimal]) -> set[str]:
    """Categories whose minimum is met (a group's members together)."""
    met: set[str] = set()
    for g in groups(rules):
        need = sum((rules.category(c).minimum for c in g), ZERO)
        if sum((counted.get(c, ZERO) for c in g), ZERO) >= need:
            met.update(g)
    return met


def _dec(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def teacher_standings(
    rules: Rules, teachers: QuerySet[Teacher], *, row_key: str = "id", as_of: date | None = None
) -> Iterator[TeacherStanding]:
    """Each teacher's status, counted and projected credits per category and shortfalls, streamed."""
    as_of = as_of or timezone.localdate()
    cats = [c.code for c in rules.categories if not c.separate]
    if sqlreport.supported(rules):
        compiled = sqlreport.compile_standings(rules, teachers, as_of=as_of, region=row_key)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params)
            while batch := cursor.fetchmany(2000):
                for tid, row_id, status, *values in batch:
                    counted = {c: _dec(v) for c, v in zip(cats, values[: len(cats)])}
                    projected = {c: _dec(v) for c, v in zip(cats, values[len(cats) : 2 * len(cats)])}
                    yield TeacherStanding(
                        tid,
                        row_id,
                        status,
                        counted,
                        projected,
                        _dec(values[2 * len(cats)]),
                        _dec(values[2 * len(cats) + 1]),
                        _met(rules, counted),
                    )
        return
    from peixun.credits.reports import status_of

    pairs = list(teachers.order_by().values_list("pk", row_key))
    for i in range(0, len(pairs), 2000):
        part = dict(pairs[i : i + 2000])
        for tid, s in credit_selectors.standings_for(list(part), rules=rules, as_of=as_of).items():
            counted = {c: s.category(c).counted for c in cats}
            projected = {c: s.category(c).projected for c in cats}
            short = sum((max(ZERO, s.category(c).required - s.category(c).projected) for c in cats), ZERO)
            if s.total is not None:
                short = max(short, max(ZERO, s.total.required - s.total.projected))
            yield TeacherStanding(
                tid, part[tid], status_of(s), counted, projected, s.shortfall, short, _met(rules, counted)
            )


# --- completion -----------------------------------------------------------------------------


def _empty_row(rules: Rules) -> dict:
    return {
        "teachers": 0,  # in post, exempt left out
        "exempt": 0,
        "compliant": 0,
        "on_track": 0,
        "at_risk": 0,
        "counted": defaultdict(Decimal),
        "met": defaultdict(int),
        "year": defaultdict(Decimal),
        "missing_projected": ZERO,
    }


def _finish(row: dict, cats: list) -> dict:
    n = row["teachers"]
    row["share_compliant"] = round(row["compliant"] * 100 / n, 1) if n else 0.0
    row["share_on_track"] = round(row["on_track"] * 100 / n, 1) if n else 0.0
    row["share_at_risk"] = round(row["at_risk"] * 100 / n, 1) if n else 0.0
    row["by_category"] = [
        {
            "code": c.code,
            "label": c.label,
            "average": (row["counted"][c.code] / n).quantize(Decimal("0.1")) if n else ZERO,
            "met": row["met"][c.code],
            "share_met": round(row["met"][c.code] * 100 / n, 1) if n else 0.0,
            "year": _dec(row["year"][c.code]),
        }
        for c in cats
    ]
    row["counted"] = {k: _dec(v) for k, v in row["counted"].items()}
    row["met"] = dict(row["met"])
    row["year"] = {k: _dec(v) for k, v in row["year"].items()}
    row["missing_projected"] = _dec(row["missing_projected"])
    return row


def year_credits(rules: Rules, teachers: QuerySet[Teacher], *, row_key: str, years: Iterable[int]) -> list[tuple]:
    """Net credits earned per (row, school year, category) by these teachers (the ledger's totals)."""
    key = "teacher_id" if row_key == "id" else f"teacher__{row_key}"
    rows = (
        CreditTotal.objects.filter(teacher__in=teachers.order_by().values("pk"), school_year__in=list(years))
        .values_list(key, "school_year", "category")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return [(row_id, year, rules.effective_category(cat), total or ZERO) for row_id, year, cat, total in rows]


def _aggregate(rules: Rules, teachers: QuerySet[Teacher], *, row_key: str, as_of: date) -> dict[int, dict]:
    """Per row: teachers by status, and (exempt left out) counted credits, minimums met, projected shortfall."""
    compiled = sqlreport.compile_standings(rules, teachers, as_of=as_of, region=row_key)
    cats = [c.code for c in rules.categories if not c.separate]
    live = "status <> 'exempt'"
    cols = [f"SUM(CASE WHEN status = '{s}' THEN 1 ELSE 0 END)" for s in ("exempt", "compliant", "on_track", "at_risk")]
    cols.append(f"SUM(CASE WHEN {live} THEN missing_projected ELSE 0 END)")
    cols += [f"SUM(CASE WHEN {live} THEN c_{c} ELSE 0 END)" for c in cats]
    met_of: dict[str, str] = {}
    for g in groups(rules):
        need = sum((rules.category(c).minimum for c in g), ZERO)
        condition = f"({' + '.join('c_' + c for c in g)}) >= {need:f}"
        for c in g:
            met_of[c] = condition
    cols += [f"SUM(CASE WHEN {live} AND {met_of[c]} THEN 1 ELSE 0 END)" for c in cats]
    sql = f"SELECT region_id, {', '.join(cols)} FROM ({compiled.sql}) s GROUP BY region_id"
    out: dict[int, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, compiled.params)
        for rid, exempt, compliant, on_track, at_risk, missing, *rest in cursor.fetchall():
            n = len(cats)
            out[rid] = {
                "exempt": int(exempt or 0),
                "compliant": int(compliant or 0),
                "on_track": int(on_track or 0),
                "at_risk": int(at_risk or 0),
                "teachers": int(compliant or 0) + int(on_track or 0) + int(at_risk or 0),
                "missing_projected": _dec(missing),
                "counted": {c: _dec(v) for c, v in zip(cats, rest[:n])},
                "met": {c: int(v or 0) for c, v in zip(cats, rest[n:])},
            }
    return out


def completion(actor: Actor, node: Node, *, rules: Rules | None = None, as_of: date | None = None) -> dict:
    """Completion at ``node`` by the next level down and by category, for the current cycle and year.

    Per row: teachers in post (exempt counted apart and left out of the rest), teachers by status
    (met / on track / at risk), per category the average counted credits and how many met the
    category's minimum, credits earned this school year, and credits projected to be missing.
    """
    rules = rules or credit_selectors.active_rules()
    as_of = as_of or timezone.localdate()
    teachers = node_teachers(actor, node)
    kind = node.child_kind
    key = ROW_KEY[kind]
    cats = [c for c in rules.categories if not c.separate]
    rows: dict[int, dict] = {}
    names: dict[int, dict] = {r["id"]: r for r in child_rows(actor, node)} if kind != "teacher" else {}
    for rid, info in names.items():
        rows[rid] = {**info, **_empty_row(rules)}
    total = _empty_row(rules)
    if kind != "teacher" and sqlreport.supported(rules):
        # Regions and schools: the sums are taken in the database (one GROUP BY over the standings).
        for rid, agg in _aggregate(rules, teachers, row_key=key, as_of=as_of).items():
            for target in [total] + ([rows[rid]] if rid in rows else []):
                for name in ("teachers", "exempt", "compliant", "on_track", "at_risk"):
                    target[name] += agg[name]
                target["missing_projected"] += agg["missing_projected"]
                for code, value in agg["counted"].items():
                    target["counted"][code] += value
                for code, value in agg["met"].items():
                    target["met"][code] += value
    for ts in (
        teacher_standings(rules, teachers, row_key=key, as_of=as_of)
        if kind == "teacher" or not sqlreport.supported(rules)
        else ()
    ):
        row = rows.get(ts.row_id)
        if row is None:
            if kind != "teacher":
                continue
            row = rows[ts.row_id] = {"id": ts.row_id, **_empty_row(rules)}
        for target in (row, total):
            target[ts.status] += 1
            if ts.status == "exempt":
                continue
            target["teachers"] += 1
            target["missing_projected"] += ts.missing_projected
            for code, value in ts.counted.items():
                target["counted"][code] += value
            for code in ts.categories_met:
                target["met"][code] += 1
    year = rules.school_year_of(as_of)
    cycle = rules.cycle_of(as_of)
    trend: dict[int, dict[str, Decimal]] = {y: defaultdict(Decimal) for y in rules.cycle_years(cycle)}
    for rid, y, cat, amount in year_credits(rules, teachers, row_key=key, years=rules.cycle_years(cycle)):
        trend[y][cat] += amount
        if y == year:
            total["year"][cat] += amount
            if rid in rows:
                rows[rid]["year"][cat] += amount
    if kind == "teacher":
        info = {t.pk: t for t in teachers.filter(pk__in=list(rows)).only("pk", "name")}
        for rid, row in rows.items():
            row["name"] = info[rid].name if rid in info else ""
    out_rows = [_finish(r, cats) for r in rows.values()]
    return {
        "node": node,
        "kind": kind,
        "rows": out_rows,
        "total": _finish(total, cats),
        "categories": [{"code": c.code, "label": c.label, "minimum": c.minimum} for c in cats],
        "cycle": cycle,
        "cycle_label": f"{cycle}–{cycle + rules.length}",
        "year": year,
        "year_label": f"{year}–{year + 1}",
        "trend": [
            {"year": y, "label": f"{y}–{y + 1}", "credits": {c.code: _dec(trend[y][c.code]) for c in cats}}
            for y in sorted(trend)
            if y <= year
        ],
    }


# --- teachers at a node (the last level of the drill-down) and the at-risk list -------------

TEACHER_SORTS = {
    "name": lambda r: (r["teacher"].name, r["teacher"].pk),
    "school": lambda r: (r["teacher"].school.code, r["teacher"].name),
    "missing": lambda r: (r["standing"].missing_projected, r["teacher"].pk),
    "missing_now": lambda r: (r["standing"].missing_now, r["teacher"].pk),
}


@dataclass
class TeacherFilters:
    query: str = ""
    status: str = ""
    category: str = ""  # only teachers projected short in this category
    school_id: int | None = None
    sort: str = "-missing"


def teacher_list(
    actor: Actor, node: Node, filters: TeacherFilters, *, rules: Rules | None = None, as_of: date | None = None
) -> list[TeacherStanding]:
    """Standings of the node's teachers matching ``filters``, sorted (teachers themselves fetched by the caller)."""
    rules = rules or credit_selectors.active_rules()
    qs = node_teachers(actor, node)
    if filters.query.strip():
        q = filters.query.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(national_id=q) | Q(school__name__icontains=q))
    if filters.school_id:
        qs = qs.filter(school_id=filters.school_id)
    out = []
    for ts in teacher_standings(rules, qs, row_key="school_id", as_of=as_of):
        if filters.status and ts.status != filters.status:
            continue
        if filters.category and (ts.projected.get(filters.category, ZERO) >= _required(rules, filters.category)):
            continue
        out.append(ts)
    return out


def _required(rules: Rules, code: str) -> Decimal:
    c = rules.category(code)
    return c.minimum if c is not None else ZERO


def teacher_rows(standings: list[TeacherStanding], sort: str) -> tuple[list[TeacherStanding], str]:
    """Sort standings by ``sort`` (``-`` descending); teacher-field sorts need the teachers, done by the caller."""
    key = sort.lstrip("-") or "missing"
    if key not in ("missing", "missing_now", "name", "school"):
        key, sort = "missing", "-missing"
    descending = sort.startswith("-")
    if key in ("missing", "missing_now"):
        attr = "missing_projected" if key == "missing" else "missing_now"
        return sorted(standings, key=lambda s: (getattr(s, attr), -s.teacher_id), reverse=descending), sort
    return standings, sort


def teachers_by_id(ids: list[int]) -> dict[int, Teacher]:
    return {t.pk: t for t in Teacher.objects.filter(pk__in=ids).select_related("school", "school__county")}


def sort_by_teacher_field(standings: list[TeacherStanding], sort: str, teachers: dict[int, Teacher]):
    key = sort.lstrip("-")
    if key == "name":
        k = lambda s: (teachers[s.teacher_id].name, s.teacher_id)  # noqa: E731
    else:
        k = lambda s: (teachers[s.teacher_id].school.code, teachers[s.teacher_id].name, s.teacher_id)  # noqa: E731
    return sorted(standings, key=k, reverse=sort.startswith("-"))


# --- what an at-risk teacher could still take -----------------------------------------------


@dataclass
class OpenClass:
    klass: ProjectClass
    stages: str
    subjects: str
    rural_only: bool
    target_region_ids: set[int]
    category: str

    @property
    def seats_left(self) -> int:
        return self.klass.capacity - self.klass.seats_taken


def open_classes(rules: Rules, *, today: date | None = None) -> list[OpenClass]:
    """Classes of published projects that have not started and have seats left (two queries)."""
    today = today or timezone.localdate()
    classes = list(
        ProjectClass.objects.filter(
            project__status__in=(Project.Status.PUBLISHED,),
            project__deleted_at__isnull=True,
            starts_on__gt=today,
            seats_taken__lt=F("capacity"),
        )
        .select_related("project", "project__institution")
        .order_by("starts_on", "pk")
    )
    through = Project.target_regions.through.objects.filter(project_id__in={c.project_id for c in classes})
    targets: dict[int, set[int]] = defaultdict(set)
    for project_id, region_id in through.values_list("project_id", "region_id"):
        targets[project_id].add(region_id)
    return [
        OpenClass(
            klass=c,
            stages=c.project.target_stages,
            subjects=c.project.target_subjects,
            rural_only=c.project.rural_only,
            target_region_ids=targets.get(c.project_id, set()),
            category=rules.effective_category(c.project.credit_category),
        )
        for c in classes
    ]


def _region_ids_on_path(region: Region) -> set[int]:
    return {int(pk) for pk in region.path.strip("/").split("/") if pk}


def matches(teacher: Teacher, oc: OpenClass, county_path_ids: set[int]) -> bool:
    """The catalog's target conditions (``catalog.selectors.teacher_match_q``) for one class.

    A targeted project matches a teacher whose county is a target, lies under one, or contains
    one; schools never hold regions below a county, so 'contains' reduces to the path.
    """
    if oc.stages and f",{teacher.stage}," not in oc.stages:
        return False
    if oc.subjects and f",{teacher.subject}," not in oc.subjects:
        return False
    if oc.target_region_ids and not (oc.target_region_ids & county_path_ids):
        return False
    return not (oc.rural_only and not (teacher.school.is_rural or teacher.school.is_remote))


def suggestions(
    teacher: Teacher, standing: TeacherStanding, classes: list[OpenClass], rules: Rules, *, limit: int = 3
) -> tuple[int, list[OpenClass]]:
    """Open classes matching the teacher in a category they are projected to miss: (how many, the first few)."""
    short = {c.code for c in rules.categories if not c.separate and standing.projected.get(c.code, ZERO) < c.minimum}
    if not short and standing.missing_projected > 0:
        short = {c.code for c in rules.categories if not c.separate}
    path_ids = _region_ids_on_path(teacher.school.county)
    found = [oc for oc in classes if oc.category in short and matches(teacher, oc, path_ids)]
    return len(found), found[:limit]


# --- term progress --------------------------------------------------------------------------

APPLIED = ("submitted", "returned", "approved", "published", "running", "finished")
DECIDED = ("returned", "approved", "published", "running", "finished")
APPROVED = ("approved", "published", "running", "finished")


def terms() -> QuerySet[Term]:
    return Term.objects.order_by("-code")


def term_for(term_id) -> Term | None:
    from peixun.terms.windows import current_term

    if term_id:
        try:
            return Term.objects.filter(pk=int(term_id)).first()
        except (TypeError, ValueError):
            return None
    return current_term()


def _node_projects(actor: Actor, node: Node, term: Term) -> QuerySet[Project]:
    """Projects of the term the node's bureau is responsible for (everything for the province)."""
    qs = Project.objects.filter(term=term, deleted_at__isnull=True)
    if node.kind in ("city", "county"):
        qs = qs.filter(region__path__startswith=node.region.path)
    elif node.kind == "school":
        return qs.none()
    return qs


def term_progress(actor: Actor, node: Node, term: Term | None) -> dict | None:
    """Applications, reviews, publications, seats and selections by round, and the term's windows."""
    from peixun.terms.windows import states

    require(actor, "reports.dashboard.view")
    if term is None:
        return None
    projects = _node_projects(actor, node, term)
    counts = projects.aggregate(
        applied=Count("pk", filter=Q(status__in=APPLIED)),
        pending=Count("pk", filter=Q(status="submitted")),
        returned=Count("pk", filter=Q(status="returned")),
        approved=Count("pk", filter=Q(status__in=APPROVED)),
        published=Count("pk", filter=Q(status__in=PUBLIC_PROJECT_STATUSES)),
    )
    seats = ProjectClass.objects.filter(
        project__in=projects.filter(status__in=PUBLIC_PROJECT_STATUSES).values("pk")
    ).aggregate(classes=Count("pk"), capacity=Sum("capacity"), taken=Sum("seats_taken"))
    capacity, taken = seats["capacity"] or 0, seats["taken"] or 0
    teachers = Teacher.objects.filter(node.teacher_filter(), status=Teacher.Status.ACTIVE)
    selections = (
        Enrollment.objects.filter(project_class__project__term=term, teacher__in=teachers.values("pk"))
        .values_list("round", "state")
        .annotate(n=Count("pk"))
        .order_by("round", "state")
    )
    rounds: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for rnd, state, n in selections:
        rounds[rnd][state] += n
    round_rows = []
    for rnd in sorted(rounds):
        by_state = rounds[rnd]
        round_rows.append(
            {
                "round": rnd,
                "selected": sum(by_state.values()),
                "awaiting_review": by_state.get("selected", 0),
                "approved": by_state.get("approved", 0),
                "confirmed": by_state.get("confirmed", 0),
                "waitlisted": by_state.get("waitlisted", 0),
                "rejected": by_state.get("rejected", 0) + by_state.get("declined", 0),
                "withdrawn": by_state.get("withdrawn", 0) + by_state.get("cancelled", 0),
            }
        )
    teachers_selecting = (
        Enrollment.objects.filter(
            project_class__project__term=term, teacher__in=teachers.values("pk"), state__in=Enrollment.SEAT_HOLDING
        )
        .values("teacher_id")
        .distinct()
        .count()
    )
    return {
        "term": term,
        "projects": counts,
        "bureau": node.kind != "school",
        "classes": seats["classes"],
        "capacity": capacity,
        "taken": taken,
        "fill_rate": round(taken * 100 / capacity, 1) if capacity else None,
        "rounds": round_rows,
        "teachers_selecting": teachers_selecting,
        "windows": states(term),
    }


# --- orders, quotas, institutions -----------------------------------------------------------


def order_coverage(actor: Actor, node: Node, term: Term | None) -> list[dict] | None:
    """Orders posted per county at the node against the term's minimum (None when not the actor's business)."""
    from peixun.orders.selectors import coverage

    if term is None or node.kind == "school" or not can(actor, "orders.order.view"):
        return None
    rows = coverage(actor=actor, term=term)
    if node.kind == "province":
        return rows
    return [r for r in rows if r["county"].path.startswith(node.region.path)]


def quota_usage(actor: Actor, term: Term | None) -> list | None:
    """Institution quotas (province, monitor, an institution's own) or local project caps (city, county)."""
    from peixun.catalog import selectors as catalog_selectors

    if term is None:
        return None
    if can(actor, "catalog.quota.view"):
        return [
            {
                "kind": "institution",
                "name": u.institution.name,
                "id": u.institution.pk,
                "limit": u.limit,
                "used": u.used,
                "left": u.remaining,
                "percent": u.percent,
            }
            for u in catalog_selectors.quota_overview(actor=actor, term=term)
        ]
    if can(actor, "catalog.regioncap.manage"):
        return [
            {
                "kind": "region",
                "name": r["region"].name,
                "id": r["region"].pk,
                "limit": r["limit"],
                "used": r["used"],
                "left": max(r["limit"] - r["used"], 0) if r["limit"] is not None else None,
                "percent": min(int(r["used"] * 100 / r["limit"]), 100) if r["limit"] else None,
            }
            for r in catalog_selectors.region_cap_rows(actor=actor, term=term)
        ]
    return None


def institution_stats(actor: Actor, term: Term | None, *, sort: str = "name", query: str = "", type: str = ""):
    """Per institution: applied, approved, published, enrolment rate, pass rate, changes, late schedules.

    The province and monitors see every institution; an institution sees its own row.
    """
    from peixun.monitoring import selectors as monitoring_selectors

    require(actor, "reports.institutions.view")
    if term is None:
        return []
    if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER):
        from peixun.orgs.models import Institution

        institutions = Institution.objects.filter(pk=actor.institution.pk) if actor.institution else None
        if institutions is None:
            return []
        return monitoring_selectors.scorecard_rows(term=term, institutions=institutions, sort=sort)
    return monitoring_selectors.scorecard(
        actor=actor, term=term, institution_type=type, query=query, sort=sort or "name"
    )


# --- streamed teacher rows for exports ------------------------------------------------------


@dataclass
class TeacherLine:
    standing: TeacherStanding
    name: str
    national_id: str
    school_code: str
    school_name: str
    county_name: str


def _filter_sql(rules: Rules, filters: TeacherFilters) -> tuple[str, list]:
    where, params = [], []
    if filters.status in STATUSES:
        where.append("s.status = %s")
        params.append(filters.status)
    cat = rules.category(filters.category) if filters.category else None
    if cat is not None and not cat.separate:
        where.append(f"s.p_{cat.code} < %s")
        params.append(cat.minimum)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def filtered_teachers(actor: Actor, node: Node, filters: TeacherFilters) -> QuerySet[Teacher]:
    qs = node_teachers(actor, node)
    if filters.query.strip():
        q = filters.query.strip()
        qs = qs.filter(Q(name__icontains=q) | Q(national_id=q) | Q(school__name__icontains=q))
    if filters.school_id:
        qs = qs.filter(school_id=filters.school_id)
    return qs


def teacher_count(actor: Actor, node: Node, filters: TeacherFilters, *, rules: Rules | None = None) -> int:
    rules = rules or credit_selectors.active_rules()
    qs = filtered_teachers(actor, node, filters)
    if not (filters.status or filters.category):
        return qs.count()
    if not sqlreport.supported(rules):
        return len(teacher_list(actor, node, filters, rules=rules))
    compiled = sqlreport.compile_standings(rules, qs, as_of=timezone.localdate(), region="school_id")
    where, params = _filter_sql(rules, filters)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({compiled.sql}) s{where}", [*compiled.params, *params])
        return cursor.fetchone()[0]


ORDER_SQL = {
    "missing": "s.missing_projected {d}, t.id",
    "missing_now": "s.missing_now {d}, t.id",
    "name": "t.name {d}, t.id",
    "school": "sc.code {d}, t.name, t.id",
}


def order_sql(sort: str) -> str:
    key = (sort or "").lstrip("-")
    if key not in ORDER_SQL:
        return "sc.code, t.id"
    return ORDER_SQL[key].format(d="DESC" if sort.startswith("-") else "ASC")


class TeacherPages:
    """The node's filtered, sorted teachers for a Paginator: ``count()`` and slices are SQL (LIMIT/OFFSET)."""

    def __init__(self, actor: Actor, node: Node, filters: TeacherFilters, rules: Rules):
        self.actor, self.node, self.filters, self.rules = actor, node, filters, rules
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = teacher_count(self.actor, self.node, self.filters, rules=self.rules)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            raise TypeError("TeacherPages supports slices only")
        start, stop = key.start or 0, key.stop if key.stop is not None else self.count()
        return list(
            teacher_lines(
                self.actor,
                self.node,
                self.filters,
                rules=self.rules,
                order=self.filters.sort or "-missing",
                offset=start,
                limit=max(stop - start, 0),
            )
        )


def teacher_lines(
    actor: Actor,
    node: Node,
    filters: TeacherFilters,
    *,
    rules: Rules | None = None,
    as_of: date | None = None,
    order: str = "",
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[TeacherLine]:
    """The node's teachers with their standings, ordered by school and teacher, streamed in one statement
    (a server-side cursor on PostgreSQL), so memory stays flat however many rows there are."""
    rules = rules or credit_selectors.active_rules()
    as_of = as_of or timezone.localdate()
    qs = filtered_teachers(actor, node, filters)
    cats = [c.code for c in rules.categories if not c.separate]
    if not sqlreport.supported(rules):
        standings = teacher_list(actor, node, filters, rules=rules, as_of=as_of)
        teachers = teachers_by_id([ts.teacher_id for ts in standings])
        if order.lstrip("-") in ("name", "school"):
            standings = sort_by_teacher_field(standings, order, teachers)
        elif order:
            standings, _sort = teacher_rows(standings, order)
        else:
            standings = sort_by_teacher_field(standings, "school", teachers)
        end = None if limit is None else offset + limit
        for ts in standings[offset:end]:
            t = teachers[ts.teacher_id]
            yield TeacherLine(ts, t.name, t.national_id, t.school.code, t.school.name, t.school.county.name)
        return
    compiled = sqlreport.compile_standings(rules, qs, as_of=as_of, region="school_id")
    where, params = _filter_sql(rules, filters)
    sql = (
        f"SELECT s.*, t.name, t.national_id, sc.code, sc.name, co.name FROM ({compiled.sql}) s "
        "INNER JOIN roster_teacher t ON t.id = s.teacher_id INNER JOIN orgs_school sc ON sc.id = t.school_id "
        f"INNER JOIN orgs_region co ON co.id = sc.county_id{where} ORDER BY {order_sql(order)}"
    )
    if limit is not None:
        sql += " LIMIT %s OFFSET %s"
        params = [*params, int(limit), int(offset)]
    n = len(cats)
    streamed = connection.vendor == "postgresql" and limit is None
    cursor = connection.chunked_cursor() if streamed else connection.cursor()
    try:
        cursor.execute(sql, [*compiled.params, *params])
        while batch := cursor.fetchmany(2000):
            for tid, row_id, status, *values in batch:
                counted = {c: _dec(v) for c, v in zip(cats, values[:n])}
                projected = {c: _dec(v) for c, v in zip(cats, values[n : 2 * n])}
                ts = TeacherStanding(
                    tid,
                    row_id,
                    status,
                    counted,
                    projected,
                    _dec(values[2 * n]),
                    _dec(values[2 * n + 1]),
                    _met(rules, counted),
                )
                yield TeacherLine(ts, *values[2 * n + 2 :])
    finally:
        cursor.close()
