"""Excel exports of the organisation lists (scoped to the exporting actor)."""

from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter

from . import selectors


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


@register_exporter("orgs.schools")
def schools(actor, params: dict) -> Export:
    qs = selectors.school_list(
        actor=actor,
        county_id=params.get("county") or None,
        stage=params.get("stage", ""),
        rural=params.get("rural", ""),
        query=(params.get("q") or "").strip(),
    )
    rows = (
        [
            s.code,
            s.name,
            s.city.name,
            s.county.name,
            s.stage_labels,
            _yes(s.is_rural),
            _yes(s.is_remote),
            _yes(s.is_active),
        ]
        for s in qs.iterator(chunk_size=2000)
    )
    headers = [
        _("School code"),
        _("School name"),
        _("City"),
        _("County"),
        _("Stages"),
        _("Rural"),
        _("Mountain / island"),
        _("Active"),
    ]
    return Export(filename=_("schools"), headers=headers, rows=rows, total=qs.count())


@register_exporter("orgs.institutions")
def institutions(actor, params: dict) -> Export:
    qs = selectors.institution_list(actor=actor, type=params.get("type", ""), query=(params.get("q") or "").strip())
    rows = (
        [
            i.code,
            i.name,
            i.get_type_display(),
            i.qualified_on.isoformat(),
            i.scope_labels,
            _yes(i.province_wide),
            _yes(i.may_blended),
            _yes(i.may_online),
            _yes(i.may_take_orders),
        ]
        for i in qs.iterator(chunk_size=2000)
    )
    headers = [
        _("Institution code"),
        _("Institution name"),
        _("Institution type"),
        _("Date qualified"),
        _("Qualified subject categories"),
        _("Province-wide"),
        _("Blended"),
        _("Online"),
        _("Orders"),
    ]
    return Export(filename=_("institutions"), headers=headers, rows=rows, total=qs.count())
