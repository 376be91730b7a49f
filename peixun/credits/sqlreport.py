"""Standings of many teachers in one SQL statement, compiled from the policy.

The statement reproduces the engine's sums (see ``engine.py``) over ``CreditTotal``:
per-year and per-cycle source caps, category weights and caps, interchange groups (a
group is met when its counted credits reach its minimums together), the total and annual
minimums, and the pace projection. It runs on PostgreSQL and SQLite and is what the
province-wide report, the what-if and the status filters use; tests check it against the
engine teacher by teacher.

Policies with level minimums on a cycle category are not compiled (``supported`` is
False); callers then use the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import F, QuerySet

from peixun.roster.models import Teacher
from peixun.roster.selectors import active_exemption_teacher_ids

from .engine import PACE_SOURCES, elapsed_fraction, pace_factor
from .policy import Rules

STATUSES = ("exempt", "compliant", "on_track", "at_risk")


def supported(rules: Rules) -> bool:
    return not any(c.level_minimums and not c.levels_interchangeable and not c.separate for c in rules.categories)


def _least(a: str, b: str) -> str:
    return f"(CASE WHEN ({a}) < ({b}) THEN ({a}) ELSE ({b}) END)"


def _lit(value: Decimal) -> str:
    return f"CAST({Decimal(value):f} AS NUMERIC)" if connection.vendor == "postgresql" else f"{Decimal(value):f}"


@dataclass
class Compiled:
    sql: str
    params: list
    categories: list[str]


def compile_standings(
    rules: Rules, teachers: QuerySet[Teacher], *, as_of: date, region: str = "school__county_id"
) -> Compiled:
    """SQL yielding one row per teacher of ``teachers``: (teacher_id, region_id, status, counted per cycle category...)."""
    cycle = rules.cycle_of(as_of)
    years = rules.cycle_years(cycle)
    cats = list(rules.categories)
    cycle_cats = [c for c in cats if not c.separate]
    known = {c.code for c in cats}
    factor = pace_factor(elapsed_fraction(rules, cycle, as_of))

    scoped = teachers.order_by().annotate(region_id=F(region)).values("id", "region_id")
    teacher_sql, teacher_params = scoped.query.sql_with_params()
    exempt_sql, exempt_params = active_exemption_teacher_ids(as_of).query.sql_with_params()

    alias_cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in rules.aliases.items() if v in known)
    cat_expr = f"(CASE ct.category {alias_cases} ELSE ct.category END)" if alias_cases else "ct.category"

    # Source caps apply to (category, source) pairs; everything else is summed straight.
    capped_pairs = [(src.category, src.source_type, src) for src in rules.sources.values()]
    capped_cond = (
        " OR ".join(f"({cat_expr} = '{c}' AND ct.source_type = '{t}')" for c, t, _s in capped_pairs) or "1 = 0"
    )
    ycap_cases, ccap_cases = [], []
    for c, t, source in capped_pairs:
        cond = f"cat = '{c}' AND src = '{t}'"
        if source.cap_per_year is not None:
            ycap_cases.append(f"WHEN {cond} AND amt > 0 THEN {_least('amt', _lit(source.cap_per_year))}")
        if source.cap_per_cycle is not None:
            ccap_cases.append(f"WHEN {cond} AND v > 0 THEN {_least('v', _lit(source.cap_per_cycle))}")
    ycap = f"(CASE {' '.join(ycap_cases)} ELSE amt END)" if ycap_cases else "amt"
    ccap = f"(CASE {' '.join(ccap_cases)} ELSE v END)" if ccap_cases else "v"
    weight = "(CASE cat " + " ".join(f"WHEN '{c.code}' THEN {_lit(c.weight)}" for c in cats) + " ELSE 0 END)"
    capped_cat = "(CASE cat " + " ".join(
        f"WHEN '{c.code}' THEN {_least('raw * ' + _lit(c.weight), _lit(c.cap_per_cycle))}"
        for c in cats
        if c.cap_per_cycle is not None
    )
    capped_cat = f"{capped_cat} ELSE raw * {weight} END)" if "WHEN" in capped_cat else f"(raw * {weight})"
    projected_raw = f"(ROUND({capped_cat}, 2) + pace * {weight} * {_lit(factor)})"
    proj_cap = "(CASE cat " + " ".join(
        f"WHEN '{c.code}' THEN {_least(projected_raw, _lit(c.cap_per_cycle))}"
        for c in cats
        if c.cap_per_cycle is not None
    )
    proj_cap = f"{proj_cap} ELSE {projected_raw} END)" if "WHEN" in proj_cap else projected_raw
    pace_list = ", ".join(f"'{s}'" for s in PACE_SOURCES)
    known_list = ", ".join(f"'{c}'" for c in known)
    capped_sources = ", ".join(f"'{t}'" for _c, t, _s in capped_pairs) or "''"
    # The per-cycle summary (about two rows a teacher) serves policies with the active cycle
    # definition once it is complete for it; another definition (a what-if), or the active one while
    # the activation job rebuilds the summary, sums the per-school-year totals instead.
    from .selectors import cycle_totals_definition

    coarse = cycle_totals_definition() == (rules.start_year, rules.length)
    if coarse:
        agg_source = (
            "credits_cycletotal ct INNER JOIN t ON t.id = ct.teacher_id "
            f"WHERE ct.cycle_start = %s AND ct.cycle_length = %s AND {cat_expr} IN ({known_list})"
        )
        agg_params = [cycle, rules.length]
    else:
        agg_source = (
            "credits_credittotal ct INNER JOIN t ON t.id = ct.teacher_id "
            f"WHERE ct.school_year >= %s AND ct.school_year <= %s AND {cat_expr} IN ({known_list})"
        )
        agg_params = [years[0], years[-1]]

    per_cat = []
    for c in cats:
        per_cat.append(f"COALESCE(SUM(CASE WHEN cv.cat = '{c.code}' THEN cv.counted END), 0) AS c_{c.code}")
        per_cat.append(f"COALESCE(SUM(CASE WHEN cv.cat = '{c.code}' THEN cv.projected END), 0) AS p_{c.code}")

    # Groups: interchange groups, every other cycle category alone.
    grouped: set[str] = set()
    groups: list[list] = []
    for g in rules.interchange:
        members = [c for c in cycle_cats if c.code in g]
        grouped.update(c.code for c in members)
        if members:
            groups.append(members)
    groups += [[c] for c in cycle_cats if c.code not in grouped]
    met, proj_met = [], []
    for members in groups:
        need = _lit(sum((c.minimum for c in members), Decimal(0)))
        met.append(f"({' + '.join('c_' + c.code for c in members)}) >= {need}")
        proj_met.append(f"({' + '.join('p_' + c.code for c in members)}) >= {need}")
    if rules.total_minimum is not None:
        met.append(f"({' + '.join('c_' + c.code for c in cycle_cats)}) >= {_lit(rules.total_minimum)}")
        proj_met.append(f"({' + '.join('p_' + c.code for c in cycle_cats)}) >= {_lit(rules.total_minimum)}")
    done_years = [y for y in years if date(y + 1, 8, 31) <= as_of]
    years_ok = "1 = 1"
    yearly_cte = ""
    yearly_join = ""
    if rules.annual_minimum is not None and done_years:
        cycle_list = ", ".join(f"'{c.code}'" for c in cycle_cats)
        year_list = ", ".join(str(y) for y in done_years)
        yearly_cte = f""",
yearly AS (
  SELECT teacher_id, COUNT(*) AS ok_years FROM (
    SELECT teacher_id, yr, SUM({ycap} * {weight}) AS v FROM (
      SELECT ct.teacher_id, {cat_expr} AS cat, ct.source_type AS src, ct.school_year AS yr, SUM(ct.amount) AS amt
      FROM credits_credittotal ct INNER JOIN t ON t.id = ct.teacher_id
      WHERE ct.school_year IN ({year_list})
      GROUP BY ct.teacher_id, {cat_expr}, ct.source_type, ct.school_year
    ) b WHERE cat IN ({cycle_list}) GROUP BY teacher_id, yr
  ) y WHERE ROUND(v, 2) >= {_lit(rules.annual_minimum)} GROUP BY teacher_id
)"""
        yearly_join = "LEFT JOIN yearly ON yearly.teacher_id = pt.teacher_id"
        years_ok = f"COALESCE(yearly.ok_years, 0) = {len(done_years)}"
    met_sql = " AND ".join(met) or "1 = 1"
    proj_sql = " AND ".join(proj_met) or "1 = 1"

    def shortfall(prefix: str) -> str:
        """Credits missing toward the minimums (groups fill their members; the total minimum too)."""
        parts = []
        for members in groups:
            need = _lit(sum((c.minimum for c in members), Decimal(0)))
            got = " + ".join(prefix + c.code for c in members)
            parts.append(f"(CASE WHEN ({got}) < {need} THEN {need} - ({got}) ELSE 0 END)")
        expr = " + ".join(parts) or "0"
        if rules.total_minimum is not None:
            need = _lit(rules.total_minimum)
            got = " + ".join(prefix + c.code for c in cycle_cats)
            total = f"(CASE WHEN ({got}) < {need} THEN {need} - ({got}) ELSE 0 END)"
            expr = f"(CASE WHEN ({expr}) > {total} THEN ({expr}) ELSE {total} END)"
        return expr

    # Per teacher after the status: counted per cycle category (c_*), projected at cycle end (p_*),
    # credits missing now and projected to be missing at cycle end.
    cols = ", ".join(
        [f"pt.c_{c.code}" for c in cycle_cats]
        + [f"pt.p_{c.code}" for c in cycle_cats]
        + [f"{shortfall('pt.c_')} AS missing_now", f"{shortfall('pt.p_')} AS missing_projected"]
    )

    sql = f"""
WITH t AS ({teacher_sql}),
agg AS (
  SELECT ct.teacher_id, {cat_expr} AS cat,
         SUM(CASE WHEN {capped_cond} THEN 0 ELSE ct.amount END) AS free,
         SUM(CASE WHEN ct.source_type IN ({pace_list}) THEN ct.amount ELSE 0 END) AS pace
  FROM {agg_source}
  GROUP BY ct.teacher_id, {cat_expr}
),
capped AS (
  SELECT teacher_id, cat, SUM({ccap}) AS v FROM (
    SELECT teacher_id, cat, src, SUM({ycap}) AS v FROM (
      SELECT ct.teacher_id, {cat_expr} AS cat, ct.source_type AS src, ct.school_year AS yr, SUM(ct.amount) AS amt
      FROM credits_credittotal ct INNER JOIN t ON t.id = ct.teacher_id
      WHERE ct.school_year >= %s AND ct.school_year <= %s AND ct.source_type IN ({capped_sources}) AND ({capped_cond})
      GROUP BY ct.teacher_id, {cat_expr}, ct.source_type, ct.school_year
    ) y GROUP BY teacher_id, cat, src
  ) s GROUP BY teacher_id, cat
),
cats AS (
  SELECT agg.teacher_id, agg.cat, agg.free + COALESCE(capped.v, 0) AS raw, agg.pace
  FROM agg LEFT JOIN capped ON capped.teacher_id = agg.teacher_id AND capped.cat = agg.cat
),
cv AS (SELECT teacher_id, cat, ROUND({capped_cat}, 2) AS counted, ROUND({proj_cap}, 2) AS projected FROM cats){yearly_cte},
pt AS (
  SELECT t.id AS teacher_id, t.region_id AS region_id, {", ".join(per_cat)}
  FROM t LEFT JOIN cv ON cv.teacher_id = t.id
  GROUP BY t.id, t.region_id
)
SELECT pt.teacher_id, pt.region_id,
  CASE
    WHEN pt.teacher_id IN ({exempt_sql}) THEN 'exempt'
    WHEN {met_sql} AND {years_ok} THEN 'compliant'
    WHEN {years_ok} AND {proj_sql} THEN 'on_track'
    ELSE 'at_risk'
  END AS status{", " + cols if cols else ""}
FROM pt {yearly_join}
"""
    return Compiled(
        sql=sql,
        params=[*teacher_params, *agg_params, years[0], years[-1], *exempt_params],
        categories=[c.code for c in cycle_cats],
    )


def teacher_statuses(rules: Rules, teachers: QuerySet[Teacher], *, as_of: date) -> dict[int, str]:
    compiled = compile_standings(rules, teachers, as_of=as_of)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT teacher_id, status FROM ({compiled.sql}) s", compiled.params)
        return dict(cursor.fetchall())


def region_rows(rules: Rules, teachers: QuerySet[Teacher], *, as_of: date, region: str) -> dict[int, dict]:
    """Per region: teachers by status and the sums of counted credits per cycle category (exempt left out)."""
    compiled = compile_standings(rules, teachers, as_of=as_of, region=region)
    sums = ", ".join(f"SUM(CASE WHEN status <> 'exempt' THEN c_{code} ELSE 0 END)" for code in compiled.categories)
    counts = ", ".join(f"SUM(CASE WHEN status = '{s}' THEN 1 ELSE 0 END)" for s in STATUSES)
    sql = f"SELECT region_id, {counts}{', ' + sums if sums else ''} FROM ({compiled.sql}) s GROUP BY region_id"
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, compiled.params)
        for row in cursor.fetchall():
            region_id, *values = row
            status_counts = dict(zip(STATUSES, (int(v or 0) for v in values[: len(STATUSES)])))
            out[region_id] = {
                **status_counts,
                "sums": {code: Decimal(str(v or 0)) for code, v in zip(compiled.categories, values[len(STATUSES) :])},
            }
    return out
