"""Excel exports of credit standings and the report by region (scoped to the exporting actor)."""

from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter

from . import reports, selectors


def standing_queryset(actor, params: dict):
    qs = selectors.standing_teachers(
        actor=actor, school_id=params.get("school") or None, county_id=params.get("county") or None
    )
    query = (params.get("q") or "").strip()
    if query:
        qs = qs.filter(name__icontains=query)
    status = params.get("status", "")
    if status in ("compliant", "at_risk", "on_track", "exempt"):
        qs = qs.filter(pk__in=reports.teacher_ids_with_status(qs, rules=selectors.active_rules(), status=status))
    return qs


@register_exporter("credits.standings")
def standings(actor, params: dict) -> Export:
    rules = selectors.active_rules()
    qs = standing_queryset(actor, params)
    cats = [c for c in rules.categories if not c.separate]
    headers = [_("Name"), _("School"), _("County")]
    for c in cats:
        headers += [
            _("%(category)s counted") % {"category": c.label},
            _("%(category)s missing") % {"category": c.label},
        ]
    headers.append(_("Status"))

    def rows():
        for i in range(0, qs.count(), 2000):
            teachers = list(qs[i : i + 2000])
            found = selectors.standings_for([t.pk for t in teachers], rules=rules)
            for t in teachers:
                s = found[t.pk]
                row = [t.name, t.school.name, t.school.county.name]
                for c in cats:
                    cs = s.category(c.code)
                    row += [cs.counted, cs.missing]
                row.append(reports.status_label(s))
                yield row

    return Export(filename=_("credit-standings"), headers=headers, rows=rows(), total=qs.count())


@register_exporter("credits.report")
def region_report(actor, params: dict) -> Export:
    data = reports.region_report(actor=actor, rules=selectors.active_rules())
    headers = [_("Region"), _("Teachers in post"), _("Exempt"), _("Requirements met"), _("On track"), _("At risk")]
    headers += [_("%(category)s average counted") % {"category": c["label"]} for c in data["categories"]]
    rows = [
        [r["name"], r["teachers"], r["exempt"], r["compliant"], r["on_track"], r["at_risk"], *r["averages"]]
        for r in data["rows"]
    ]
    return Export(filename=_("credit-report"), headers=headers, rows=rows, total=len(rows))
