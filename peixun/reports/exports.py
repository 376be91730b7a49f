"""Excel exports of every report and list, with Chinese headers, scoped to the exporting actor.

Teacher lists stream from one SQL statement (``selectors.teacher_lines``), so a 600,000-row
export keeps memory flat; ``core.exports.export_or_job`` runs anything over 5,000 rows as a
background job and audits every export. National IDs are masked unless the role needs them.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.masking import mask_national_id
from peixun.core.scopes import Actor, can
from peixun.credits import selectors as credit_selectors

from . import selectors


def int_param(value) -> int | None:
    value = str(value or "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def node_from(actor: Actor, params) -> selectors.Node:
    return selectors.node_get(
        actor, region_id=int_param(params.get("region")), school_id=int_param(params.get("school"))
    )


def filters_from(params) -> selectors.TeacherFilters:
    status = params.get("status", "")
    return selectors.TeacherFilters(
        query=(params.get("q") or "")[:50],
        status=status if status in selectors.STATUSES else "",
        category=(params.get("category") or "")[:20],
        school_id=int_param(params.get("in_school")),
        sort=params.get("sort") or "-missing",
    )


def show_full_id(actor: Actor) -> bool:
    return can(actor, "roster.teacher.view_full_id")


def _pct(value) -> str:
    return f"{value}%"


@register_exporter("reports.completion")
def completion(actor: Actor, params: dict) -> Export:
    node = node_from(actor, params)
    data = selectors.completion(actor, node)
    level = {
        "city": _("City"),
        "county": _("County"),
        "school": _("School"),
        "teacher": _("Teacher"),
    }[data["kind"]]
    headers = [level, _("Teachers in post"), _("Requirements met"), _("Share met"), _("On track"), _("At risk")]
    headers += [_("Share at risk"), _("Exempt"), _("Credits projected missing")]
    for c in data["categories"]:
        headers += [
            _("%(category)s average counted") % {"category": c["label"]},
            _("%(category)s minimum met") % {"category": c["label"]},
            _("%(category)s earned in %(year)s") % {"category": c["label"], "year": data["year_label"]},
        ]

    def line(name, r):
        out = [name, r["teachers"], r["compliant"], _pct(r["share_compliant"]), r["on_track"], r["at_risk"]]
        out += [_pct(r["share_at_risk"]), r["exempt"], r["missing_projected"]]
        for c in r["by_category"]:
            out += [c["average"], c["met"], c["year"]]
        return out

    rows = [line(r.get("name", ""), r) for r in data["rows"]]
    rows.append(line(_("Total"), data["total"]))
    name = _("completion") + f"-{node.name}"
    return Export(filename=name, headers=headers, rows=rows, total=len(rows), title=node.name)


@register_exporter("reports.teachers")
def teachers(actor: Actor, params: dict) -> Export:
    """The node's teachers with their standings (the at-risk list with ``status=at_risk``)."""
    node = node_from(actor, params)
    filters = filters_from(params)
    rules = credit_selectors.active_rules()
    cats = [c for c in rules.categories if not c.separate]
    labels = selectors.status_labels()
    full = show_full_id(actor)
    headers = [_("Name"), _("National ID number"), _("School code"), _("School"), _("County"), _("Status")]
    for c in cats:
        headers += [
            _("%(category)s counted") % {"category": c.label},
            _("%(category)s projected at cycle end") % {"category": c.label},
        ]
    headers += [_("Credits missing now"), _("Credits projected missing at cycle end")]
    total = selectors.teacher_count(actor, node, filters, rules=rules)

    def rows():
        for line in selectors.teacher_lines(actor, node, filters, rules=rules):
            s = line.standing
            out = [
                line.name,
                line.national_id if full else mask_national_id(line.national_id),
                line.school_code,
                line.school_name,
                line.county_name,
                labels[s.status],
            ]
            for c in cats:
                out += [float(s.counted.get(c.code, 0)), float(s.projected.get(c.code, 0))]
            out += [float(s.missing_now), float(s.missing_projected)]  # numbers in Excel (floats write faster)
            yield out

    base = _("at-risk-teachers") if filters.status == "at_risk" else _("teacher-credit-standings")
    return Export(filename=f"{base}-{node.name}", headers=headers, rows=rows(), total=total, title=node.name)


@register_exporter("reports.progress")
def progress(actor: Actor, params: dict) -> Export:
    node = node_from(actor, params)
    term = selectors.term_for(params.get("term"))
    data = selectors.term_progress(actor, node, term)
    headers = [_("Item"), _("Value")]
    rows: list[list] = []
    if data is not None:
        p = data["projects"]
        rows += [
            [_("Term"), term.name],
            [_("Projects applied"), p["applied"]],
            [_("Awaiting review"), p["pending"]],
            [_("Returned"), p["returned"]],
            [_("Projects approved"), p["approved"]],
            [_("Projects published"), p["published"]],
            [_("Classes"), data["classes"]],
            [_("Seats offered"), data["capacity"]],
            [_("Seats taken"), data["taken"]],
            [_("Teachers holding a seat"), data["teachers_selecting"]],
        ]
        for r in data["rounds"]:
            rows += [
                [_("Round %(n)s: selections") % {"n": r["round"]}, r["selected"]],
                [_("Round %(n)s: awaiting principal review") % {"n": r["round"]}, r["awaiting_review"]],
                [_("Round %(n)s: approved by the school") % {"n": r["round"]}, r["approved"]],
                [_("Round %(n)s: confirmed by the institution") % {"n": r["round"]}, r["confirmed"]],
            ]
        for w in data["windows"]:
            rows.append([w.label, f"{w.window.starts_at:%Y-%m-%d} – {w.window.ends_at:%Y-%m-%d}"])
    return Export(filename=_("term-progress") + f"-{node.name}", headers=headers, rows=rows, total=len(rows))


@register_exporter("reports.coverage")
def coverage(actor: Actor, params: dict) -> Export:
    node = node_from(actor, params)
    term = selectors.term_for(params.get("term"))
    data = selectors.order_coverage(actor, node, term) or []
    headers = [_("City"), _("County"), _("Orders posted"), _("Drafts"), _("Minimum"), _("Missing")]
    rows = [
        [r["county"].parent.name if r["county"].parent else "", r["county"].name, r["posted"], r["drafts"]]
        + [r["minimum"], r["missing"]]
        for r in data
    ]
    return Export(filename=_("order-coverage") + f"-{node.name}", headers=headers, rows=rows, total=len(rows))


@register_exporter("reports.quotas")
def quotas(actor: Actor, params: dict) -> Export:
    term = selectors.term_for(params.get("term"))
    data = selectors.quota_usage(actor, term) or []
    headers = [_("Name"), _("Limit"), _("Used"), _("Remaining")]
    rows = [[r["name"], r["limit"], r["used"], r["left"]] for r in data]
    return Export(filename=_("quota-usage"), headers=headers, rows=rows, total=len(rows))


@register_exporter("reports.institutions")
def institutions(actor: Actor, params: dict) -> Export:
    from peixun.monitoring.exports import SCORECARD_HEADERS, scorecard_row_values

    term = selectors.term_for(params.get("term"))
    rows = selectors.institution_stats(
        actor, term, sort=params.get("sort") or "name", query=params.get("q", ""), type=params.get("type", "")
    )
    headers = [str(label) for _key, label in SCORECARD_HEADERS]
    name = _("institution-statistics") + (f"-{term.code}" if term else "")
    return Export(filename=name, headers=headers, rows=[scorecard_row_values(r) for r in rows], total=len(rows))
