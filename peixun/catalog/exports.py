"""Excel exports of the catalog lists (scoped to the exporting actor), and the query each list page
and its export share: the filters come from the page's GET parameters."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.exports import Export, register_exporter
from peixun.core.roles import Role
from peixun.roster.models import Teacher
from peixun.terms.models import Term
from peixun.terms.windows import current_term

from . import selectors
from .forms import CatalogFilterForm, ProjectFilterForm


def term_from(actor, params) -> Term | None:
    from peixun.terms.selectors import term_get

    value = params.get("term")
    if value and str(value).isdigit():
        return term_get(actor=actor, term_id=int(value))
    return current_term()


def actor_teacher(actor) -> Teacher | None:
    if not actor.teacher_id:
        return None
    return Teacher.objects.select_related("school__county").filter(pk=actor.teacher_id).first()


def catalog_query(actor, params, teacher: Teacher | None = None):
    """The catalog page's results for its GET parameters: (queryset, filter form, term)."""
    form = CatalogFilterForm(params or None, teacher=teacher is not None)
    filters = form.cleaned_data if form.is_valid() else {}
    term = term_from(actor, params)
    qs = selectors.catalog_list(
        actor=actor,
        query=(params.get("q") or "").strip(),
        term_id=term.pk if term else None,
        stage=filters.get("stage", ""),
        subject=filters.get("subject", ""),
        field=filters.get("field", ""),
        level=filters.get("level", ""),
        format=filters.get("format", ""),
        region_id=filters["region"].pk if filters.get("region") else None,
        institution_id=filters["institution"].pk if filters.get("institution") else None,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        seats_only=bool(filters.get("seats")),
        teacher=teacher if filters.get("mine") else None,
        sort=params.get("sort", ""),
    )
    return qs, form, term


def project_query(actor, params, terms, institutions):
    """The management list's results for its GET parameters: (queryset, filter form, term)."""
    term = term_from(actor, params)
    data = params.copy() if hasattr(params, "copy") else dict(params)
    if "term" not in data and term is not None:
        data["term"] = str(term.pk)
    bureau = actor.role in (Role.CITY, Role.COUNTY)
    form = ProjectFilterForm(data, terms=terms, institutions=institutions, bureau=bureau)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.project_list(
        actor=actor,
        query=(params.get("q") or "").strip(),
        term_id=term.pk if term else None,
        status=filters.get("status", ""),
        institution_id=filters["institution"].pk if filters.get("institution") else None,
        level=filters.get("level", ""),
        format=filters.get("format", ""),
        field=filters.get("field", ""),
        responsible=bool(filters.get("responsible")),
    )
    return qs, form, term


@register_exporter("catalog.catalog")
def catalog_export(actor, params: dict) -> Export:
    qs, _form, _term = catalog_query(actor, params, actor_teacher(actor))
    headers = [
        _("Project code"),
        _("Project name"),
        _("Institution"),
        _("Training level"),
        _("Format"),
        _("Training field"),
        _("Target stages"),
        _("Target subjects"),
        _("Credits"),
        _("Total fee (yuan)"),
        _("Classes"),
        _("Seats left"),
        _("First class starts"),
    ]
    rows = (
        [
            p.code,
            p.name,
            p.institution.name,
            p.get_level_display(),
            p.get_format_display(),
            p.get_field_display(),
            p.stage_labels,
            p.subject_labels,
            p.credits,
            p.fee_total,
            p.class_count,
            max(p.seats_left, 0),
            p.first_start.isoformat() if p.first_start else "",
        ]
        for p in qs.iterator(chunk_size=500)
    )
    return Export(filename=_("training-catalog"), headers=headers, rows=rows, total=qs.count())


@register_exporter("catalog.projects")
def projects_export(actor, params: dict) -> Export:
    from peixun.orgs.models import Institution
    from peixun.terms.selectors import term_list

    institutions = None if actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER) else Institution.objects.all()
    qs, _form, _term = project_query(actor, params, term_list(actor=actor), institutions)
    headers = [
        _("Project code"),
        _("Project name"),
        _("Institution"),
        _("Status"),
        _("Training level"),
        _("Responsible bureau"),
        _("Format"),
        _("Credits"),
        _("Classes"),
        _("Capacity"),
        _("First class starts"),
        _("Project leader"),
    ]
    rows = (
        [
            p.code,
            p.name,
            p.institution.name,
            p.get_status_display(),
            p.get_level_display(),
            p.region.name,
            p.get_format_display(),
            p.credits,
            p.class_count,
            p.seats_total,
            p.first_start.isoformat() if p.first_start else "",
            p.leader.name if p.leader_id else "",
        ]
        for p in qs.iterator(chunk_size=500)
    )
    return Export(filename=_("training-projects"), headers=headers, rows=rows, total=qs.count())


@register_exporter("catalog.lecturers")
def lecturers_export(actor, params: dict) -> Export:
    qs = selectors.lecturer_list(actor=actor, query=(params.get("q") or "").strip())
    full_phone = actor.role != Role.INSTITUTION
    headers = [_("Name"), _("Organisation"), _("Title"), _("Expertise"), _("Contact phone"), _("Projects"), _("Checks")]
    rows = (
        [
            lec.name,
            lec.organisation,
            lec.title,
            lec.expertise,
            lec.phone if full_phone else "",
            lec.project_count,
            lec.check_count,
        ]
        for lec in qs.iterator(chunk_size=1000)
    )
    return Export(filename=_("expert-database"), headers=headers, rows=rows, total=qs.count())


@register_exporter("catalog.change_log")
def change_log_export(actor, params: dict) -> Export:
    term = term_from(actor, params)
    institution_id = params.get("institution")
    qs = selectors.change_log(
        actor=actor,
        term_id=term.pk if term else None,
        institution_id=int(institution_id) if str(institution_id or "").isdigit() else None,
    )
    headers = [_("Time"), _("Institution"), _("Project code"), _("Project name"), _("Event"), _("Note"), _("By")]
    rows = (
        [
            timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
            e.project.institution.name,
            e.project.code,
            e.project.name,
            e.get_kind_display(),
            e.note,
            str(e.user or ""),
        ]
        for e in qs.iterator(chunk_size=1000)
    )
    return Export(filename=_("change-log"), headers=headers, rows=rows, total=qs.count())


@register_exporter("catalog.quotas")
def quotas_export(actor, params: dict) -> Export:
    term = term_from(actor, params)
    usage = selectors.quota_overview(actor=actor, term=term) if term else []
    headers = [_("Institution"), _("Institution type"), _("Quota"), _("Applied"), _("Remaining")]
    rows = [[u.institution.name, u.institution.get_type_display(), u.limit, u.used, u.remaining] for u in usage]
    return Export(filename=_("quotas"), headers=headers, rows=rows, total=len(rows))
