"""Standings over many teachers: summaries, the report by region, what-if comparisons.

Everything here is computed from ``CreditTotal`` (a few rows per teacher) by the same
engine that explains a single teacher's page; ``sqlreport`` computes the province-wide
report by county and category in one SQL statement for the national scale.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.scopes import Actor, visible
from peixun.orgs.models import Region
from peixun.roster.models import Teacher

from . import selectors, sqlreport
from .engine import Standing
from .policy import Rules

CHUNK = 5000


def status_of(standing: Standing) -> str:
    if standing.exempt:
        return "exempt"
    if standing.compliant:
        return "compliant"
    if standing.projected_compliant:
        return "on_track"
    return "at_risk"


def status_label(standing: Standing) -> str:
    return {
        "exempt": _("Exempt"),
        "compliant": _("Requirements met"),
        "on_track": _("On track"),
        "at_risk": _("At risk"),
    }[status_of(standing)]


def _iter_standings(teacher_ids: list[int], rules: Rules):
    for i in range(0, len(teacher_ids), CHUNK):
        part = teacher_ids[i : i + CHUNK]
        yield from selectors.standings_for(part, rules=rules).items()


def statuses(qs: QuerySet[Teacher], *, rules: Rules) -> dict[int, str]:
    """Each teacher's status (exempt / compliant / on_track / at_risk) today: one SQL statement."""
    as_of = timezone.localdate()
    if sqlreport.supported(rules):
        return sqlreport.teacher_statuses(rules, qs, as_of=as_of)
    ids = list(qs.values_list("pk", flat=True))
    return {tid: status_of(s) for tid, s in _iter_standings(ids, rules)}


def teacher_ids_with_status(qs: QuerySet[Teacher], *, rules: Rules, status: str) -> list[int]:
    return [tid for tid, s in statuses(qs, rules=rules).items() if s == status]


def at_risk_teacher_ids(*, county: Region, rules: Rules) -> list[int]:
    qs = Teacher.objects.filter(school__county=county, status=Teacher.Status.ACTIVE)
    return teacher_ids_with_status(qs, rules=rules, status="at_risk")


def scope_summary(qs: QuerySet[Teacher], *, rules: Rules) -> dict:
    counts = {"teachers": 0, "exempt": 0, "compliant": 0, "on_track": 0, "at_risk": 0}
    for status in statuses(qs, rules=rules).values():
        counts["teachers"] += 1
        counts[status] += 1
    return counts


def _regions_for(actor: Actor) -> tuple[list[Region], str]:
    """The rows of the report: cities for the province, else the counties in scope."""
    if actor.school is not None:
        return list(Region.objects.filter(pk=actor.school.county_id)), "county"
    regions = visible(actor, Region.objects.all())
    if actor.role in ("province", "monitor"):
        return list(regions.filter(level=Region.Level.CITY).order_by("code")), "city"
    return list(regions.filter(level=Region.Level.COUNTY).order_by("code")), "county"


def region_report(*, actor: Actor, rules: Rules, by: str = "") -> dict:
    """Per region (cities for the province, counties for a city or county): teachers by status and
    average counted credits per category. Exempt teachers are counted apart and left out of the rest."""
    qs = visible(actor, Teacher.objects.filter(status=Teacher.Status.ACTIVE))
    if actor.school is not None:
        qs = qs.filter(school=actor.school)
    if by == "county" and actor.school is None:
        regions = list(visible(actor, Region.objects.filter(level=Region.Level.COUNTY)).order_by("code"))
        level = "county"
    else:
        regions, level = _regions_for(actor)
    key = "school__county_id" if level == "county" else "school__city_id"
    cats = [c for c in rules.categories if not c.separate]
    rows: dict[int, dict] = {
        r.pk: {
            "id": r.pk,
            "name": r.name,
            "teachers": 0,
            "exempt": 0,
            "compliant": 0,
            "on_track": 0,
            "at_risk": 0,
            "sums": defaultdict(Decimal),
        }
        for r in regions
    }
    if sqlreport.supported(rules):
        for region_id, data in sqlreport.region_rows(rules, qs, as_of=timezone.localdate(), region=key).items():
            row = rows.get(region_id)
            if row is None:
                continue
            for status in sqlreport.STATUSES:
                row[status] = data[status]
            row["teachers"] = data["compliant"] + data["on_track"] + data["at_risk"]
            row["sums"].update(data["sums"])
    else:
        region_of = dict(qs.values_list("pk", key))
        for tid, s in _iter_standings(list(region_of), rules):
            row = rows.get(region_of[tid])
            if row is None:
                continue
            status = status_of(s)
            row[status] += 1
            if status == "exempt":
                continue
            row["teachers"] += 1
            for c in cats:
                row["sums"][c.code] += s.category(c.code).counted
    out = []
    for row in rows.values():
        n = row["teachers"]
        row["averages"] = [(row["sums"][c.code] / n).quantize(Decimal("0.1")) if n else Decimal("0") for c in cats]
        row["share_compliant"] = round(row["compliant"] * 100 / n, 1) if n else 0
        row["share_at_risk"] = round(row["at_risk"] * 100 / n, 1) if n else 0
        out.append(row)
    return {
        "level": level,
        "rows": out,
        "categories": [{"code": c.code, "label": c.label} for c in cats],
        "cycle": rules.cycle_of(timezone.localdate()),
    }


def whatif(*, actor: Actor, draft: Rules, active: Rules, progress=None) -> dict:
    """How many teachers per region are compliant / at risk under the draft versus the active policy.

    Province-wide this reads every teacher twice, so the pages run it as a background job
    (``tasks.run_whatif``) and show its stored result (``whatif_json``)."""
    before = region_report(actor=actor, rules=active, by="county")
    if progress is not None:
        progress(1)
    after = region_report(actor=actor, rules=draft, by="county")
    if progress is not None:
        progress(2)
    rows = []
    totals = defaultdict(int)
    for b, a in zip(before["rows"], after["rows"]):
        rows.append({"name": b["name"], "teachers": b["teachers"], "before": b, "after": a})
        for k in ("teachers", "compliant", "on_track", "at_risk"):
            totals[f"before_{k}"] += b[k]
            totals[f"after_{k}"] += a[k]
    return {"rows": rows, "totals": dict(totals), "draft_cycle": after["cycle"], "active_cycle": before["cycle"]}


def whatif_json(comparison: dict) -> dict:
    """The comparison as the job stores it (plain numbers and names) and the pages and API show it."""
    keys = ("teachers", "compliant", "on_track", "at_risk")
    return {
        "rows": [
            {
                "name": r["name"],
                "teachers": r["teachers"],
                "before": {k: r["before"][k] for k in keys},
                "after": {k: r["after"][k] for k in keys},
            }
            for r in comparison["rows"]
        ],
        "totals": dict(comparison["totals"]),
        "draft_cycle": comparison["draft_cycle"],
        "active_cycle": comparison["active_cycle"],
    }
