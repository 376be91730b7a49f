from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from peixun.core.choices import Stage, split_codes
from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import xlsx_response
from peixun.core.lists import paginate
from peixun.core.scopes import can, require

from . import selectors, services
from .forms import InstitutionForm, RegionForm, SchoolForm
from .models import Institution, Region


@actor_required
def region_list(request):
    actor = request.actor
    form = None
    if can(actor, "orgs.region.create"):
        parents = selectors.region_list(actor=actor).exclude(level=Region.Level.COUNTY)
        form = RegionForm(request.POST or None, parents=parents)
        if request.method == "POST" and form.is_valid():
            try:
                region = services.region_create(actor=actor, **form.cleaned_data)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("Region %(name)s has been added.") % {"name": region.name})
                return redirect("orgs:region_list")
    return render(request, "orgs/region_list.html", {"tree": selectors.region_tree(actor=actor), "form": form})


def _school_rows(qs):
    for s in qs.iterator(chunk_size=2000):
        yield [
            s.code,
            s.name,
            s.city.name,
            s.county.name,
            s.stage_labels,
            _("Yes") if s.is_rural else _("No"),
            _("Yes") if s.is_remote else _("No"),
            _("Yes") if s.is_active else _("No"),
        ]


@actor_required
def school_list(request):
    actor = request.actor
    qs = selectors.school_list(
        actor=actor,
        county_id=request.GET.get("county") or None,
        stage=request.GET.get("stage", ""),
        rural=request.GET.get("rural", ""),
        query=request.GET.get("q", "").strip(),
    )
    if request.GET.get("export"):
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
        return xlsx_response(_("schools"), headers, _school_rows(qs))
    return render(
        request,
        "orgs/school_list.html",
        {
            "state": paginate(request, qs),
            "counties": selectors.counties(actor=actor),
            "stages": Stage.choices,
            "can_create": can(actor, "orgs.school.create"),
        },
    )


@actor_required
def school_create(request):
    actor = request.actor
    require(actor, "orgs.school.create")
    form = SchoolForm(request.POST or None, counties=selectors.counties(actor=actor))
    if request.method == "POST" and form.is_valid():
        try:
            school = services.school_create(actor=actor, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("School %(name)s has been created.") % {"name": school.name})
            return redirect("orgs:school_list")
    return render(request, "generic_form.html", {"form": form, "title": _("New school")})


@actor_required
def school_edit(request, pk):
    actor = request.actor
    school = selectors.school_get(actor=actor, school_id=pk)
    require(actor, "orgs.school.edit", school)
    initial = {
        "name": school.name,
        "stages": split_codes(school.stages),
        "is_rural": school.is_rural,
        "is_remote": school.is_remote,
        "address": school.address,
        "is_active": school.is_active,
    }
    form = SchoolForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.school_update(actor=actor, school=school, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orgs:school_list")
    return render(request, "generic_form.html", {"form": form, "title": school.name})


def _institution_rows(qs):
    for i in qs.iterator(chunk_size=2000):
        yield [
            i.code,
            i.name,
            i.get_type_display(),
            i.qualified_on.isoformat(),
            i.scope_labels,
            _("Yes") if i.province_wide else _("No"),
            _("Yes") if i.may_blended else _("No"),
            _("Yes") if i.may_online else _("No"),
            _("Yes") if i.may_take_orders else _("No"),
        ]


@actor_required
def institution_list(request):
    actor = request.actor
    qs = selectors.institution_list(
        actor=actor, type=request.GET.get("type", ""), query=request.GET.get("q", "").strip()
    )
    if request.GET.get("export"):
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
        return xlsx_response(_("institutions"), headers, _institution_rows(qs))
    return render(
        request,
        "orgs/institution_list.html",
        {
            "state": paginate(request, qs),
            "types": Institution.Type.choices,
            "can_create": can(actor, "orgs.institution.create"),
        },
    )


@actor_required
def institution_create(request):
    require(request.actor, "orgs.institution.create")
    form = InstitutionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            institution = services.institution_create(actor=request.actor, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Institution %(name)s has been created.") % {"name": institution.name})
            return redirect("orgs:institution_list")
    return render(request, "generic_form.html", {"form": form, "title": _("New institution")})


@actor_required
def institution_edit(request, pk):
    institution = selectors.institution_get(actor=request.actor, institution_id=pk)
    require(request.actor, "orgs.institution.edit", institution)
    initial = {f: getattr(institution, f) for f in services._INSTITUTION_FIELDS}
    initial["qualification_scope"] = institution.scope_list
    form = InstitutionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.institution_update(actor=request.actor, institution=institution, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("orgs:institution_list")
    return render(request, "generic_form.html", {"form": form, "title": institution.name})
