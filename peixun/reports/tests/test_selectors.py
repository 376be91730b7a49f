"""Dashboard figures equal independent aggregates: raw SQL over the ledger and rosters, the engine per teacher."""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from peixun.catalog.models import Project
from peixun.catalog.selectors import teacher_match_q
from peixun.core.errors import NotFound
from peixun.credits import selectors as credit_selectors
from peixun.credits.reports import status_of
from peixun.enrollment.models import Enrollment
from peixun.reports import selectors
from peixun.roster.models import Teacher
from tests.factories import EnrollmentFactory, ProjectClassFactory, ProjectFactory, TermFactory

pytestmark = pytest.mark.django_db
ZERO = Decimal("0")


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def engine_standings(actor, teachers):
    """Each teacher's standing from their own ledger rows (credits' single-teacher path)."""
    return {t.pk: credit_selectors.teacher_standing(actor=actor, teacher=t)[0] for t in teachers}


def alias_case(rules, column="category"):
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in rules.aliases.items())
    return f"(CASE {column} {cases} ELSE {column} END)" if cases else column


def test_county_dashboard_equals_independent_aggregates(area, county_actor):
    rules = credit_selectors.active_rules()
    today = timezone.localdate()
    node = selectors.home_node(county_actor)
    assert node.kind == "county" and node.region == area["counties"]["a1"]
    data = selectors.completion(county_actor, node, rules=rules)
    rows = {r["id"]: r for r in data["rows"]}
    assert set(rows) == {s.pk for s in area["schools"]["a1"]}

    # teachers in post per school, straight from the roster table
    in_post = dict(
        raw(
            "SELECT school_id, COUNT(*) FROM roster_teacher WHERE status = 'active' AND school_id IN (%s, %s) "
            "GROUP BY school_id",
            [s.pk for s in area["schools"]["a1"]],
        )
    )
    teachers = list(Teacher.objects.filter(school__county=node.region, status="active"))
    standings = engine_standings(county_actor, teachers)
    for school in area["schools"]["a1"]:
        row = rows[school.pk]
        mine = [t for t in teachers if t.school_id == school.pk]
        assert row["teachers"] + row["exempt"] == in_post[school.pk]
        for status in ("compliant", "on_track", "at_risk", "exempt"):
            assert row[status] == sum(1 for t in mine if status_of(standings[t.pk]) == status), status
        counted = [standings[t.pk] for t in mine if not standings[t.pk].exempt]
        for cat in row["by_category"]:
            total = sum((s.category(cat["code"]).counted for s in counted), ZERO)
            assert abs(row["counted"].get(cat["code"], ZERO) - total) < Decimal("0.01")
            assert cat["met"] == sum(
                1 for s in counted if s.category(cat["code"]).counted >= s.category(cat["code"]).required
            )

    # credits earned this school year per school and category: raw SQL over the ledger itself
    year = rules.school_year_of(today)
    earned = raw(
        f"SELECT t.school_id, {alias_case(rules, 'l.category')}, SUM(l.amount) FROM credits_ledgerentry l "
        "JOIN roster_teacher t ON t.id = l.teacher_id JOIN orgs_school s ON s.id = t.school_id "
        "WHERE s.county_id = %s AND t.status = 'active' AND l.school_year = %s GROUP BY 1, 2",
        [node.region.pk, year],
    )
    expected = defaultdict(Decimal)
    for school_id, cat, amount in earned:
        expected[(school_id, cat)] += Decimal(str(amount))
    for school in area["schools"]["a1"]:
        for cat in rules.categories:
            if cat.separate:
                continue
            assert rows[school.pk]["year"].get(cat.code, ZERO) == expected[(school.pk, cat.code)]

    # the trend over the cycle: per school year, raw SQL
    trend = raw(
        f"SELECT l.school_year, {alias_case(rules, 'l.category')}, SUM(l.amount) FROM credits_ledgerentry l "
        "JOIN roster_teacher t ON t.id = l.teacher_id JOIN orgs_school s ON s.id = t.school_id "
        "WHERE s.county_id = %s AND t.status = 'active' GROUP BY 1, 2",
        [node.region.pk],
    )
    by_year = defaultdict(Decimal)
    for y, cat, amount in trend:
        by_year[(y, cat)] += Decimal(str(amount))
    assert data["trend"], "the cycle has started"
    for point in data["trend"]:
        for code, value in point["credits"].items():
            assert value == by_year[(point["year"], code)], (point["year"], code)


def test_province_rows_are_cities_and_add_up(area, province_actor):
    node = selectors.home_node(province_actor)
    assert node.kind == "province"
    data = selectors.completion(province_actor, node)
    assert {r["id"] for r in data["rows"]} == {c.pk for c in area["cities"].values()}
    count = raw("SELECT COUNT(*) FROM roster_teacher WHERE status = 'active'")[0][0]
    total = data["total"]
    assert total["teachers"] + total["exempt"] == count
    assert sum(r["teachers"] for r in data["rows"]) == total["teachers"]
    assert sum(r["at_risk"] for r in data["rows"]) == total["at_risk"]
    city = selectors.node_get(province_actor, region_id=area["cities"]["a"].pk)
    child = selectors.completion(province_actor, city)
    assert {r["id"] for r in child["rows"]} == {area["counties"]["a1"].pk, area["counties"]["a2"].pk}
    row_a = next(r for r in data["rows"] if r["id"] == area["cities"]["a"].pk)
    assert row_a["at_risk"] == child["total"]["at_risk"]


def test_school_node_lists_teachers(area, school_actor):
    node = selectors.home_node(school_actor)
    assert node.kind == "school"
    data = selectors.completion(school_actor, node)
    assert {r["id"] for r in data["rows"]} == {t.pk for t in area["teachers"] if t.school_id == node.school.pk}


def test_county_officer_never_reaches_another_county(area, county_actor):
    other = area["counties"]["a2"]
    with pytest.raises(NotFound):
        selectors.node_get(county_actor, region_id=other.pk)
    with pytest.raises(NotFound):
        selectors.node_get(county_actor, school_id=area["schools"]["b1"][0].pk)
    with pytest.raises(NotFound):
        selectors.node_get(county_actor, region_id=area["province"].pk)
    node = selectors.home_node(county_actor)
    ids = {s.teacher_id for s in selectors.teacher_list(county_actor, node, selectors.TeacherFilters())}
    allowed = {t.pk for t in area["teachers"] if t.school.county_id == node.region.pk}
    assert ids == allowed


def test_city_drills_to_its_counties_only(area, city_actor):
    node = selectors.home_node(city_actor)
    assert node.kind == "city"
    data = selectors.completion(city_actor, node)
    assert {r["id"] for r in data["rows"]} == {area["counties"]["a1"].pk, area["counties"]["a2"].pk}
    with pytest.raises(NotFound):
        selectors.node_get(city_actor, region_id=area["counties"]["b1"].pk)
    crumbs = selectors.breadcrumbs(city_actor, selectors.node_get(city_actor, school_id=area["schools"]["a2"][1].pk))
    assert [c.kind for c in crumbs] == ["city", "county", "school"]


def test_projected_shortfall_matches_the_engine(area, county_actor):
    node = selectors.home_node(county_actor)
    rows = selectors.teacher_list(county_actor, node, selectors.TeacherFilters())
    teachers = {t.pk: t for t in Teacher.objects.filter(pk__in=[r.teacher_id for r in rows])}
    standings = engine_standings(county_actor, teachers.values())
    for r in rows:
        s = standings[r.teacher_id]
        cats = [c for c in s.categories if not c.separate]
        projected_short = sum((max(ZERO, c.required - c.projected) for c in cats), ZERO)
        assert abs(r.missing_projected - projected_short) < Decimal("0.02"), r.teacher_id
        assert abs(r.missing_now - s.shortfall) < Decimal("0.02")
        assert r.status == status_of(s)
    at_risk = selectors.teacher_list(county_actor, node, selectors.TeacherFilters(status="at_risk"))
    assert at_risk and all(r.status == "at_risk" and r.missing_projected > 0 for r in at_risk)


def upcoming(project, days, **kwargs):
    start = timezone.localdate() + timedelta(days=days)
    return ProjectClassFactory(project=project, starts_on=start, ends_on=start + timedelta(days=3), **kwargs)


def test_suggestions_follow_the_catalog_target_rules(area, county_actor):
    rules = credit_selectors.active_rules()
    term = TermFactory()
    county = area["counties"]["a1"]
    kinds = [
        {},
        {"target_stages": ",senior,"},
        {"target_subjects": ",math,"},
        {"rural_only": True},
        {"credit_category": "zizhu"},
    ]
    for extra in kinds:
        upcoming(ProjectFactory(term=term, **extra), 20)
    targeted = ProjectFactory(term=term)
    targeted.target_regions.add(area["counties"]["b1"])
    upcoming(targeted, 20)
    mine = ProjectFactory(term=term)
    mine.target_regions.add(county.parent)
    upcoming(mine, 20)
    upcoming(ProjectFactory(term=term), 20, capacity=0)
    upcoming(ProjectFactory(term=term), -1)
    upcoming(ProjectFactory(term=term, status="approved"), 9)
    classes = selectors.open_classes(rules)
    for teacher in Teacher.objects.filter(school__county=county).select_related("school__county"):
        path_ids = selectors._region_ids_on_path(teacher.school.county)
        mine_py = {oc.klass.project_id for oc in classes if selectors.matches(teacher, oc, path_ids)}
        expected = set(
            Project.objects.filter(
                teacher_match_q(teacher), pk__in=[oc.klass.project_id for oc in classes]
            ).values_list("pk", flat=True)
        )
        assert mine_py == expected
    assert len(classes) == 7  # full, started and unpublished classes are not offered


def test_term_progress_equals_raw_counts(area, province_actor, county_actor):
    term = TermFactory()
    county = area["counties"]["a1"]
    ProjectFactory(term=term, status="submitted")
    ProjectFactory(term=term, status="returned")
    published = ProjectFactory(term=term)
    local = ProjectFactory(term=term, level="county", region=county)
    klass = ProjectClassFactory(project=published, capacity=30, seats_taken=4)
    ProjectClassFactory(project=local, capacity=10, seats_taken=3)
    mine = [t for t in area["teachers"] if t.school.county_id == county.pk][:3]
    for t in mine:
        EnrollmentFactory(teacher=t, project_class=klass, state="approved")
    EnrollmentFactory(teacher=area["schools"]["b1"][0].teachers.first(), project_class=klass, state="selected")

    whole = selectors.term_progress(province_actor, selectors.home_node(province_actor), term)
    statuses = dict(raw("SELECT status, COUNT(*) FROM catalog_project WHERE term_id = %s GROUP BY status", [term.pk]))
    assert whole["projects"]["pending"] == statuses.get("submitted", 0)
    assert whole["projects"]["applied"] == sum(statuses.values())
    assert whole["projects"]["published"] == statuses["published"]
    seats = raw(
        "SELECT SUM(c.capacity), SUM(c.seats_taken) FROM catalog_projectclass c JOIN catalog_project p "
        "ON p.id = c.project_id WHERE p.term_id = %s AND p.status = 'published'",
        [term.pk],
    )[0]
    assert (whole["capacity"], whole["taken"]) == (seats[0], seats[1])
    assert whole["rounds"][0]["selected"] == Enrollment.objects.count() == 4

    local_view = selectors.term_progress(county_actor, selectors.home_node(county_actor), term)
    assert local_view["projects"]["published"] == 1 and local_view["capacity"] == 10
    assert local_view["rounds"][0]["approved"] == 3 and local_view["rounds"][0]["selected"] == 3
    assert local_view["teachers_selecting"] == 3


@pytest.mark.parametrize("sort", ["-missing", "missing_now", "name", "-school"])
def test_sql_pages_equal_the_sorted_list(area, province_actor, sort):
    rules = credit_selectors.active_rules()
    node = selectors.home_node(province_actor)
    for status in ("", "at_risk"):
        filters = selectors.TeacherFilters(status=status, sort=sort)
        standings = selectors.teacher_list(province_actor, node, filters, rules=rules)
        if sort.lstrip("-") in ("name", "school"):
            teachers = selectors.teachers_by_id([s.teacher_id for s in standings])
            expected = selectors.sort_by_teacher_field(standings, sort, teachers)
            if sort.lstrip("-") == "school":  # school code, then name (ties by id in SQL)
                info = {tid: (t.school.code, t.name) for tid, t in teachers.items()}
                expected = sorted(standings, key=lambda s, info=info: (info[s.teacher_id][1], s.teacher_id))
                expected = sorted(expected, key=lambda s, info=info: info[s.teacher_id][0], reverse=True)
        else:
            attr = "missing_projected" if sort.lstrip("-") == "missing" else "missing_now"
            expected = sorted(standings, key=lambda s: s.teacher_id)
            expected = sorted(expected, key=lambda s: getattr(s, attr), reverse=sort.startswith("-"))
        pages = selectors.TeacherPages(province_actor, node, filters, rules)
        assert pages.count() == len(expected)
        got = pages[0:10] + pages[10 : len(expected)]
        assert [g.standing.teacher_id for g in got] == [e.teacher_id for e in expected], (sort, status)
