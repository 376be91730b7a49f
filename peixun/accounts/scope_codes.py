"""Resolve the scope code typed in account forms to the region, school or institution it names."""

from django.utils.translation import gettext as _

from peixun.core.errors import InvalidInput
from peixun.core.roles import INSTITUTION_ROLES, SCHOOL_ROLES
from peixun.orgs.models import Institution, Region, School


def resolve_scope(role: str, code: str) -> dict:
    code = (code or "").strip()
    if role in SCHOOL_ROLES:
        school = School.objects.filter(code=code).select_related("county").first()
        if school is None:
            raise InvalidInput(_("No school has this code."), details={"field": "scope_code"})
        return {"school": school}
    if role in INSTITUTION_ROLES:
        institution = Institution.objects.filter(code=code).first()
        if institution is None:
            raise InvalidInput(_("No institution has this code."), details={"field": "scope_code"})
        return {"institution": institution}
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise InvalidInput(_("No region has this code."), details={"field": "scope_code"})
    return {"region": region}
