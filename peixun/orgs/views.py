from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from peixun.core.choices import Stage, split_codes
from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.exports import export_or_job
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
        return export_or_job(request, "orgs.schools", request.GET.dict())
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


@actor_required
def institution_list(request):
    actor = request.actor
    qs = selectors.institution_list(
        actor=actor, type=request.GET.get("type", ""), query=request.GET.get("q", "").strip()
    )
    if request.GET.get("export"):
        return export_or_job(request, "orgs.institutions", request.GET.dict())
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
