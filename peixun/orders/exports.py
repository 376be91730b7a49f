"""The province's order board as Excel (scoped to the exporting actor)."""

from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter

from . import selectors


@register_exporter("orders.board")
def board(actor, params: dict) -> Export:
    term = selectors.term_for(params.get("term") or None)
    qs = selectors.order_list(
        actor=actor,
        term=term,
        county_id=params.get("county") or None,
        stage=params.get("stage", ""),
        level=params.get("level", ""),
        query=params.get("q", ""),
    )
    rows = (
        [
            o.code,
            o.county.parent.name if o.county.parent_id else "",
            o.county.name,
            o.name,
            o.theme,
            o.target_trainees,
            o.stage_labels,
            o.subject_labels or _("All subjects"),
            o.get_field_display(),
            o.trainee_count,
            o.days,
            o.get_level_display(),
            o.get_format_display(),
            o.goals,
            o.course_requirements,
            "、".join(i.name for i in o.intended_institutions.all()) or _("None"),
            o.contact_person,
            o.contact_phone,
            o.stage_label,
            o.response_count or 0,
            o.chosen_institution or "",
        ]
        for o in qs.iterator(chunk_size=1000)
    )
    headers = [
        _("Order code"),
        _("City"),
        _("County"),
        _("Project name"),
        _("Training theme"),
        _("Target trainees"),
        _("Stages"),
        _("Subjects"),
        _("Training field"),
        _("Number of trainees"),
        _("Training days"),
        _("Training level"),
        _("Training format"),
        _("Training goals"),
        _("Course requirements"),
        _("Intended institutions"),
        _("Contact person"),
        _("Mobile phone"),
        _("Status"),
        _("Responses"),
        _("Chosen institution"),
    ]
    title = _("orders")
    if term is not None:
        title = f"{title}-{term.name}"
    return Export(filename=title, headers=headers, rows=rows, total=qs.count(), title=_("Orders"))
