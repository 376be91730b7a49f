"""Province and bureau settings (quotas, regional caps, credit rules), institution staff, lecturer sampling."""

from __future__ import annotations

import random

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.audit import audit_record, snapshot
from peixun.core.choices import SubjectCategory, Title, join_codes
from peixun.core.errors import Conflict, InvalidInput
from peixun.core.ids import national_id_problem, normalize_national_id
from peixun.core.scopes import Actor, require
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term

from .. import rules
from ..models import LecturerCheck, Project, Quota, RegionCap, StaffMember
from ._common import S, clean_text, require_status


@transaction.atomic
def quota_set(*, actor: Actor, term: Term, institution: Institution, limit: int) -> Quota:
    """The province sets an institution's project quota for a term (the default follows its type)."""
    require(actor, "catalog.quota.manage")
    if not isinstance(limit, int) or not 0 <= limit <= 999:
        raise InvalidInput(_("The quota is a whole number from 0 to 999."), details={"field": "limit"})
    quota = Quota.objects.select_for_update().filter(term=term, institution=institution).first()
    before = quota.limit if quota else rules.default_quota(institution, term)
    if quota is None:
        quota = Quota.objects.create(term=term, institution=institution, limit=limit)
    else:
        quota.limit = limit
        quota.save(update_fields=["limit"])
    audit_record(
        actor,
        "catalog.quota.set",
        quota,
        summary=f"{term.name} {institution.name}: {before} → {limit}",
        before={"limit": before},
        after={"limit": limit},
    )
    return quota


@transaction.atomic
def region_cap_set(*, actor: Actor, term: Term, region: Region, limit: int | None) -> RegionCap | None:
    """A bureau caps the local projects it reviews in a term (None removes the cap)."""
    require(actor, "catalog.regioncap.manage", region)
    if region.level not in (Region.Level.CITY, Region.Level.COUNTY):
        raise InvalidInput(_("Caps are set for cities and counties."), details={"field": "region"})
    if actor.role != "province" and actor.region is not None and actor.region.pk != region.pk:
        raise InvalidInput(_("A bureau sets the cap for its own region."), details={"field": "region"})
    cap = RegionCap.objects.select_for_update().filter(term=term, region=region).first()
    before = cap.limit if cap else None
    if limit is None:
        if cap is not None:
            cap.delete()
        cap = None
    else:
        if not isinstance(limit, int) or not 0 <= limit <= 9999:
            raise InvalidInput(_("The cap is a whole number from 0 to 9999."), details={"field": "limit"})
        if cap is None:
            cap = RegionCap.objects.create(term=term, region=region, limit=limit)
        else:
            cap.limit = limit
            cap.save(update_fields=["limit"])
    audit_record(
        actor,
        "catalog.regioncap.set",
        region,
        summary=f"{term.name} {region.name}: {before} → {limit}",
        before={"limit": before},
        after={"limit": limit},
    )
    return cap


def _staff_values(data: dict) -> dict:
    values = {}
    if "name" in data:
        values["name"] = clean_text(data["name"])
        if not values["name"] or len(values["name"]) > 40:
            raise InvalidInput(_("Enter a name."), details={"field": "name"})
    if "title" in data:
        if data["title"] not in Title.values:
            raise InvalidInput(_("Choose a valid option."), details={"field": "title"})
        values["title"] = data["title"]
    if "specialty" in data:
        specialty = list(data["specialty"] or [])
        if not specialty or any(s not in SubjectCategory.values for s in specialty):
            raise InvalidInput(_("Choose at least one valid subject category."), details={"field": "specialty"})
        values["specialty"] = join_codes(specialty)
    if "is_formal_employee" in data:
        values["is_formal_employee"] = bool(data["is_formal_employee"])
    if "phone" in data:
        values["phone"] = clean_text(data["phone"])[:30]
    return values


@transaction.atomic
def staff_create(
    *,
    actor: Actor,
    name: str,
    national_id: str,
    title: str,
    specialty: list[str],
    is_formal_employee: bool = True,
    phone: str = "",
) -> StaffMember:
    """An institution records a person who may lead its projects."""
    require(actor, "catalog.staff.manage")
    national_id = normalize_national_id(national_id or "")
    problem = national_id_problem(national_id)
    if problem:
        raise InvalidInput(problem, details={"field": "national_id"})
    values = _staff_values(
        {"name": name, "title": title, "specialty": specialty, "is_formal_employee": is_formal_employee, "phone": phone}
    )
    if StaffMember.objects.filter(institution=actor.institution, national_id=national_id).exists():
        raise Conflict(_("This person is already on the staff list."), details={"field": "national_id"})
    staff = StaffMember.objects.create(institution=actor.institution, national_id=national_id, **values)
    audit_record(actor, "catalog.staff.create", staff, summary=staff.name, after=snapshot(staff, ["name", "title"]))
    return staff


@transaction.atomic
def staff_update(*, actor: Actor, staff: StaffMember, **data) -> StaffMember:
    require(actor, "catalog.staff.manage", staff)
    unknown = set(data) - {"name", "title", "specialty", "is_formal_employee", "phone"}
    if unknown:
        raise InvalidInput(_("Unknown field."), details={"field": sorted(unknown)[0]})
    before = snapshot(staff, ["name", "title", "specialty", "is_formal_employee", "phone"])
    for key, value in _staff_values(data).items():
        setattr(staff, key, value)
    staff.save()
    audit_record(
        actor,
        "catalog.staff.update",
        staff,
        summary=staff.name,
        before=before,
        after=snapshot(staff, ["name", "title", "specialty", "is_formal_employee", "phone"]),
    )
    return staff


SAMPLE_STATUSES = (S.SUBMITTED, S.RETURNED, S.APPROVED)


@transaction.atomic
def lecturer_sample(
    *, actor: Actor, project: Project, count: int, rng: random.Random | None = None
) -> list[LecturerCheck]:
    """A reviewer draws a random sample of the project's lecturers (not drawn before) to verify."""
    require(actor, "catalog.lecturer.sample", project)
    require_status(project, *SAMPLE_STATUSES, message=_("Lecturers are sampled while the project is under review."))
    if not isinstance(count, int) or count < 1:
        raise InvalidInput(_("Draw at least one lecturer."), details={"field": "count"})
    drawn = set(LecturerCheck.objects.filter(project=project).values_list("lecturer_id", flat=True))
    candidates = [lecturer for lecturer in project.lecturers.order_by("pk") if lecturer.pk not in drawn]
    if not candidates:
        raise Conflict(_("Every lecturer of this project has already been drawn."))
    chosen = (rng or random.SystemRandom()).sample(candidates, min(count, len(candidates)))
    checks = [
        LecturerCheck.objects.create(project=project, lecturer=lecturer, drawn_by=actor.user) for lecturer in chosen
    ]
    audit_record(
        actor,
        "catalog.lecturer.sample",
        project,
        summary=_("%(n)s lecturers drawn") % {"n": len(checks)},
        after={"lecturers": [c.lecturer_id for c in checks]},
    )
    return checks


@transaction.atomic
def lecturer_check_record(*, actor: Actor, check: LecturerCheck, result: str, note: str = "") -> LecturerCheck:
    """Record whether the drawn lecturer confirmed they teach on the project."""
    require(actor, "catalog.lecturer.sample", check.project)
    if result not in LecturerCheck.Result.values or result == LecturerCheck.Result.PENDING:
        raise InvalidInput(_("Choose the verification result."), details={"field": "result"})
    check = LecturerCheck.objects.select_for_update().get(pk=check.pk)
    before = {"result": check.result, "note": check.note}
    check.result = result
    check.note = clean_text(note)[:300]
    check.checked_at = timezone.now()
    check.checked_by = actor.user
    check.save()
    audit_record(
        actor,
        "catalog.lecturer.check",
        check,
        summary=f"{check.lecturer.name}: {result}",
        before=before,
        after={"result": result, "note": check.note},
    )
    return check
