"""Writes to the organisation tree: regions (new districts), schools, institutions."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record, snapshot
from peixun.core.choices import Stage, SubjectCategory, join_codes
from peixun.core.errors import Conflict, InvalidInput
from peixun.core.scopes import Actor, require

from .models import Institution, Region, School

_CHILD_LEVEL = {Region.Level.PROVINCE: Region.Level.CITY, Region.Level.CITY: Region.Level.COUNTY}


def _clean_code(code: str, field: str = "code") -> str:
    code = (code or "").strip()
    if not code or not code.isalnum():
        raise InvalidInput(_("The code must be letters and digits."), details={"field": field})
    return code


@transaction.atomic
def region_create(*, actor: Actor, parent: Region, name: str, code: str) -> Region:
    """The province adds a city or a new district (county level) under a city."""
    require(actor, "orgs.region.create", parent)
    level = _CHILD_LEVEL.get(parent.level)
    if level is None:
        raise InvalidInput(_("A county has no sub-regions."), details={"field": "parent"})
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Enter a name."), details={"field": "name"})
    code = _clean_code(code)
    if Region.objects.filter(code=code).exists():
        raise Conflict(_("This administrative code is already used."), details={"field": "code"})
    if Region.objects.filter(parent=parent, name=name).exists():
        raise Conflict(_("A region with this name already exists here."), details={"field": "name"})
    region = Region.objects.create(parent=parent, name=name, code=code, level=level)
    audit_record(actor, "orgs.region.create", region, summary=f"{parent} / {name}", after=snapshot(region))
    return region


def _validate_stages(stages: list[str]) -> str:
    valid = set(Stage.values)
    if not stages or any(s not in valid for s in stages):
        raise InvalidInput(_("Choose at least one valid stage."), details={"field": "stages"})
    return join_codes(stages)


@transaction.atomic
def school_create(
    *,
    actor: Actor,
    county: Region,
    code: str,
    name: str,
    stages: list[str],
    is_rural: bool = False,
    is_remote: bool = False,
    address: str = "",
) -> School:
    require(actor, "orgs.school.create", county)
    if county.level != Region.Level.COUNTY:
        raise InvalidInput(_("A school belongs to a county."), details={"field": "county"})
    code = _clean_code(code)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Enter a name."), details={"field": "name"})
    if School.objects.filter(code=code).exists():
        raise Conflict(_("This school code is already used."), details={"field": "code"})
    school = School(
        county=county,
        code=code,
        name=name,
        stages=_validate_stages(stages),
        is_rural=is_rural,
        is_remote=is_remote,
        address=address.strip(),
    )
    try:
        with transaction.atomic():
            school.save()
    except IntegrityError:
        raise Conflict(_("This school code is already used."), details={"field": "code"}) from None
    audit_record(actor, "orgs.school.create", school, summary=name, after=snapshot(school))
    return school


@transaction.atomic
def school_update(
    *,
    actor: Actor,
    school: School,
    name: str,
    stages: list[str],
    is_rural: bool,
    is_remote: bool,
    address: str = "",
    is_active: bool = True,
) -> School:
    require(actor, "orgs.school.edit", school)
    before = snapshot(school)
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Enter a name."), details={"field": "name"})
    school.name = name
    school.stages = _validate_stages(stages)
    school.is_rural = is_rural
    school.is_remote = is_remote
    school.address = address.strip()
    school.is_active = is_active
    school.save()
    audit_record(actor, "orgs.school.update", school, summary=name, before=before, after=snapshot(school))
    return school


def _validate_scope(scope: list[str]) -> str:
    valid = set(SubjectCategory.values)
    if not scope or any(s not in valid for s in scope):
        raise InvalidInput(_("Choose at least one valid subject category."), details={"field": "qualification_scope"})
    return join_codes(scope)


_INSTITUTION_FIELDS = (
    "name",
    "type",
    "region",
    "qualified_on",
    "province_wide",
    "may_blended",
    "may_online",
    "may_take_orders",
    "contact_person",
    "contact_phone",
    "is_active",
)


def _apply_institution_fields(institution: Institution, data: dict) -> None:
    for key in _INSTITUTION_FIELDS:
        if key in data:
            setattr(institution, key, data[key])
    if "qualification_scope" in data:
        institution.qualification_scope = _validate_scope(data["qualification_scope"])
    if not (institution.name or "").strip():
        raise InvalidInput(_("Enter a name."), details={"field": "name"})
    if institution.type not in Institution.Type.values:
        raise InvalidInput(_("Choose an institution type."), details={"field": "type"})
    if not isinstance(institution.qualified_on, date):
        raise InvalidInput(_("Enter the date qualified."), details={"field": "qualified_on"})


@transaction.atomic
def institution_create(*, actor: Actor, code: str, **data) -> Institution:
    require(actor, "orgs.institution.create")
    code = _clean_code(code)
    if Institution.objects.filter(code=code).exists():
        raise Conflict(_("This institution code is already used."), details={"field": "code"})
    if Institution.objects.filter(name=(data.get("name") or "").strip()).exists():
        raise Conflict(_("An institution with this name already exists."), details={"field": "name"})
    institution = Institution(code=code)
    _apply_institution_fields(institution, data)
    institution.save()
    audit_record(actor, "orgs.institution.create", institution, summary=institution.name, after=snapshot(institution))
    return institution


@transaction.atomic
def institution_update(*, actor: Actor, institution: Institution, **data) -> Institution:
    require(actor, "orgs.institution.edit", institution)
    before = snapshot(institution)
    _apply_institution_fields(institution, data)
    if Institution.objects.filter(name=institution.name).exclude(pk=institution.pk).exists():
        raise Conflict(_("An institution with this name already exists."), details={"field": "name"})
    institution.save()
    audit_record(
        actor,
        "orgs.institution.update",
        institution,
        summary=institution.name,
        before=before,
        after=snapshot(institution),
    )
    return institution
