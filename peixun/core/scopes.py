"""Who is acting, and what they may see and do: the one permissions module.

* ``Actor`` is a user acting in one of their role grants (a principal who is also a
  teacher acts in one role at a time).
* ``SCOPES`` says, per model, how a row relates to a region, school, institution or
  teacher; ``visible(actor, queryset)`` filters any queryset to the actor's scope.
* ``ACTIONS`` says which roles may perform each action; ``require(actor, action, obj)``
  checks the role and that ``obj`` lies inside the actor's scope.

Every selector filters with ``visible``; every service starts with ``require``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from .errors import NotFound, PermissionDenied
from .roles import Role

if TYPE_CHECKING:
    from peixun.accounts.models import RoleGrant, User
    from peixun.orgs.models import Institution, Region, School

ALL_READERS = {Role.PROVINCE, Role.MONITOR}  # see every row of every scoped model


@dataclass(frozen=True)
class Actor:
    user: User
    role: str
    grant: RoleGrant | None = None
    region: Region | None = None
    school: School | None = None
    institution: Institution | None = None
    teacher_id: int | None = None

    @classmethod
    def from_grant(cls, grant: RoleGrant) -> Actor:
        teacher_id = None
        if grant.role == Role.TEACHER:
            teacher = getattr(grant.user, "teacher", None)
            teacher_id = teacher.pk if teacher is not None else None
        return cls(
            user=grant.user,
            role=grant.role,
            grant=grant,
            region=grant.region,
            school=grant.school,
            institution=grant.institution,
            teacher_id=teacher_id,
        )

    @property
    def scope_label(self) -> str:
        target = self.region or self.school or self.institution
        return str(target) if target is not None else ""

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label)

    def is_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def county_id(self) -> int | None:
        """The county this actor works in (bureau officer or school staff)."""
        if self.school is not None:
            return self.school.county_id
        if self.region is not None and self.region.level == "county":
            return self.region.pk
        return None


@dataclass(frozen=True)
class ScopePaths:
    """Lookups from a model to the things scopes are made of. ``""`` means the row itself."""

    region: tuple[str, ...] = ()  # lookups to a Region; the row is in scope if that region is in the actor's subtree
    school: tuple[str, ...] = ()
    institution: tuple[str, ...] = ()
    teacher: tuple[str, ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)  # extra roles that see every row (besides ALL_READERS)
    public: Q | None = None  # rows any signed-in user may see
    distinct: bool = False  # set when a lookup crosses a to-many relation


def _paths(*items: str) -> tuple[str, ...]:
    return tuple(items)


PUBLIC_PROJECT_STATUSES = ("published", "running", "finished")


SCOPES: dict[str, ScopePaths] = {
    "orgs.region": ScopePaths(region=_paths("")),
    "orgs.school": ScopePaths(region=_paths("county"), school=_paths("")),
    "orgs.institution": ScopePaths(institution=_paths(""), public=Q(is_active=True)),
    "accounts.user": ScopePaths(
        region=_paths("grants__region", "grants__school__county"),
        school=_paths("grants__school"),
        institution=_paths("grants__institution"),
        distinct=True,
    ),
    "roster.teacher": ScopePaths(region=_paths("school__county"), school=_paths("school"), teacher=_paths("")),
    "roster.exemption": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    "roster.rosterimport": ScopePaths(region=_paths("region", "school__county"), school=_paths("school")),
    # Published projects are public; drafts and reviews belong to the institution and the
    # responsible bureau's region subtree (the province sees all).
    "catalog.project": ScopePaths(
        region=_paths("region"), institution=_paths("institution"), public=Q(status__in=PUBLIC_PROJECT_STATUSES)
    ),
    "catalog.projectclass": ScopePaths(
        region=_paths("project__region"),
        institution=_paths("project__institution"),
        public=Q(project__status__in=PUBLIC_PROJECT_STATUSES),
    ),
    # Quality monitoring: findings belong to the class's institution and the project's responsible
    # bureau; misconduct reports to the reporting institution and the trainee's school and county.
    "monitoring.spotcheck": ScopePaths(
        region=_paths("project_class__project__region"), institution=_paths("project_class__project__institution")
    ),
    "monitoring.spotcheckattachment": ScopePaths(
        region=_paths("spot_check__project_class__project__region"),
        institution=_paths("spot_check__project_class__project__institution"),
    ),
    "monitoring.misconductreport": ScopePaths(
        region=_paths("school__county"),
        school=_paths("school"),
        institution=_paths("project_class__project__institution"),
    ),
    "core.auditlog": ScopePaths(roles=frozenset({Role.AUDITOR})),
    # Course selection: the teacher, the teacher's school and county, the class's institution and the
    # project's responsible bureau (its region subtree).
    "enrollment.enrollment": ScopePaths(
        region=_paths("teacher__school__county", "project_class__project__region"),
        school=_paths("teacher__school"),
        institution=_paths("project_class__project__institution"),
        teacher=_paths("teacher"),
    ),
    "enrollment.enrollmentevent": ScopePaths(
        region=_paths("enrollment__teacher__school__county", "enrollment__project_class__project__region"),
        school=_paths("enrollment__teacher__school"),
        institution=_paths("enrollment__project_class__project__institution"),
        teacher=_paths("enrollment__teacher"),
    ),
    "enrollment.classexpansion": ScopePaths(
        region=_paths("project_class__project__region"), institution=_paths("project_class__project__institution")
    ),
    # credits
    "credits.policy": ScopePaths(public=Q(status="active")),
    "credits.ledgerentry": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    "credits.adjustment": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    "credits.degreeoffset": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    "credits.floorprogramme": ScopePaths(region=_paths("county")),
    "credits.floorparticipant": ScopePaths(
        region=_paths("programme__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    # school-based training
    "schoolbased.schoolplan": ScopePaths(region=_paths("school__county"), school=_paths("school")),
    "schoolbased.activityrecord": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("plan__school"), teacher=_paths("teacher")
    ),
    "schoolbased.evidence": ScopePaths(
        region=_paths("record__teacher__school__county"),
        school=_paths("record__plan__school"),
        teacher=_paths("record__teacher"),
    ),
    # Orders: the ordering county's subtree; an institution sees exactly the orders pushed to it
    # (recipients exist only once the province has published the order list).
    "orders.order": ScopePaths(region=_paths("county"), institution=_paths("recipients__institution")),
    "orders.orderrecipient": ScopePaths(region=_paths("order__county"), institution=_paths("institution")),
    "orders.orderresponse": ScopePaths(region=_paths("order__county"), institution=_paths("institution")),
    # Terms and their windows are the same for everyone.
    "terms.term": ScopePaths(public=Q()),
    "terms.window": ScopePaths(public=Q()),
    "terms.windowextension": ScopePaths(public=Q()),
    "terms.roundpause": ScopePaths(public=Q()),
    "terms.openingbatch": ScopePaths(public=Q()),
    "catalog.quota": ScopePaths(institution=_paths("institution")),
    "catalog.regioncap": ScopePaths(region=_paths("region")),
    "catalog.staffmember": ScopePaths(institution=_paths("institution")),
    "catalog.lecturer": ScopePaths(
        institution=_paths("created_by_institution", "projects__institution"),
        roles=frozenset({Role.CITY, Role.COUNTY, Role.EXPERT}),
        distinct=True,
    ),
    "catalog.lecturercheck": ScopePaths(region=_paths("project__region"), institution=_paths("project__institution")),
    "catalog.changerequest": ScopePaths(region=_paths("project__region"), institution=_paths("project__institution")),
    "catalog.projectevent": ScopePaths(region=_paths("project__region"), institution=_paths("project__institution")),
    # certificates (reports)
    "reports.issuedcertificate": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    # Fair allocation mode: a teacher's ranked preferences belong to the teacher, the school and its
    # county; a run is public (its summary); each outcome also to the class's institution.
    "enrollment.preferencelist": ScopePaths(
        region=_paths("teacher__school__county"), school=_paths("teacher__school"), teacher=_paths("teacher")
    ),
    "enrollment.preference": ScopePaths(
        region=_paths("preference_list__teacher__school__county"),
        school=_paths("preference_list__teacher__school"),
        teacher=_paths("preference_list__teacher"),
    ),
    "enrollment.allocationrun": ScopePaths(public=Q()),
    "enrollment.allocationresult": ScopePaths(
        region=_paths("school__county"),
        school=_paths("school"),
        teacher=_paths("teacher"),
        institution=_paths("project_class__project__institution"),
    ),
    # Results (成绩登记): the class's institution and the project's responsible bureau; a trainee's
    # own result also reaches the trainee, their school and their county.
    "results.resultsheet": ScopePaths(
        region=_paths("project_class__project__region"), institution=_paths("project_class__project__institution")
    ),
    "results.traineeresult": ScopePaths(
        region=_paths("sheet__project_class__project__region", "teacher__school__county"),
        school=_paths("teacher__school"),
        institution=_paths("sheet__project_class__project__institution"),
        teacher=_paths("teacher"),
    ),
    "results.resultupload": ScopePaths(
        region=_paths("sheet__project_class__project__region"),
        institution=_paths("sheet__project_class__project__institution"),
    ),
}

# action -> roles allowed to perform it (the object, if any, must also be in scope).
ACTIONS: dict[str, set[str]] = {
    "orgs.region.create": {Role.PROVINCE},
    "orgs.school.create": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    "orgs.school.edit": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    "orgs.institution.create": {Role.PROVINCE},
    "orgs.institution.edit": {Role.PROVINCE},
    "accounts.grant.bureau": {Role.PROVINCE},  # city / county / province / monitor / auditor / expert accounts
    "accounts.grant.institution": {Role.PROVINCE},
    "accounts.grant.school": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    "accounts.teacher_login.manage": {Role.SCHOOL, Role.COUNTY, Role.PROVINCE},
    "accounts.user.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.INSTITUTION},
    "roster.teacher.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR},
    "roster.teacher.edit_local": {Role.SCHOOL, Role.COUNTY, Role.PROVINCE},
    "roster.teacher.view_full_id": {Role.SCHOOL, Role.COUNTY, Role.PROVINCE},
    "roster.import": {Role.SCHOOL, Role.COUNTY, Role.CITY, Role.PROVINCE},
    "roster.exemption.manage": {Role.SCHOOL, Role.COUNTY, Role.PROVINCE},
    # Quality monitoring (SPEC §10).
    "monitoring.class.view": {Role.MONITOR, Role.INSTITUTION},  # classes to check / to report trainees of
    "monitoring.spotcheck.view": {Role.MONITOR, Role.PROVINCE, Role.CITY, Role.COUNTY, Role.INSTITUTION},
    "monitoring.spotcheck.record": {Role.MONITOR},
    "monitoring.spotcheck.answer": {Role.INSTITUTION},
    "monitoring.spotcheck.close": {Role.MONITOR},
    "monitoring.misconduct.view": {
        Role.MONITOR,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.INSTITUTION,
    },
    "monitoring.misconduct.report": {Role.INSTITUTION},
    "monitoring.misconduct.acknowledge": {Role.SCHOOL, Role.COUNTY},
    "monitoring.scorecard.view": {Role.PROVINCE, Role.MONITOR},
    # Reports and dashboards (SPEC §11): each role's own node of the drill-down.
    "reports.dashboard.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR, Role.INSTITUTION},
    "reports.institutions.view": {Role.PROVINCE, Role.MONITOR, Role.INSTITUTION},
    "core.audit.view": {Role.AUDITOR},
    "terms.term.manage": {Role.PROVINCE},
    "terms.window.extend": {Role.PROVINCE},
    # Pause a selection round: the province for everyone, a city or county bureau for its own teachers.
    "terms.round.pause": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    # credits
    "credits.ledger.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.TEACHER, Role.MONITOR},
    "credits.ledger.post": {
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
    },
    "credits.adjust": {Role.PROVINCE, Role.COUNTY},
    "credits.standing.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR},
    "credits.policy.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.TEACHER, Role.MONITOR},
    "credits.policy.manage": {Role.PROVINCE},
    "credits.degree.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.TEACHER, Role.MONITOR},
    "credits.degree.apply": {Role.TEACHER},
    "credits.degree.review": {Role.COUNTY},
    "credits.floor.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.MONITOR},
    "credits.floor.propose": {Role.COUNTY},
    "credits.floor.decide": {Role.CITY},
    # school-based training
    "schoolbased.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR},
    "schoolbased.plan.edit": {Role.SCHOOL},
    "schoolbased.plan.review": {Role.COUNTY},
    "schoolbased.record.edit": {Role.SCHOOL},
    "schoolbased.record.approve": {Role.SCHOOL},
    "orders.order.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.INSTITUTION, Role.MONITOR},
    "orders.order.manage": {Role.COUNTY},  # post, edit, cancel its own orders
    "orders.board.view": {Role.PROVINCE, Role.CITY, Role.MONITOR},  # every county's orders and coverage
    "orders.list.publish": {Role.PROVINCE},  # publish the order list, remind counties below the minimum
    "orders.response.manage": {Role.INSTITUTION},  # respond, submit, withdraw, formally apply
    "orders.response.select": {Role.COUNTY},  # compare and choose; review and publish the order project
    # Projects: the institution applies; the responsible bureau (by 培训层次) reviews and publishes.
    "catalog.project.apply": {Role.INSTITUTION},  # create, edit, submit, withdraw, classes, lecturers
    "catalog.project.run": {Role.INSTITUTION},  # schedules, start / finish, change requests
    "catalog.project.review": {Role.PROVINCE, Role.CITY, Role.COUNTY},  # approve, return, publish
    "catalog.project.manage_list": {
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.EXPERT,
        Role.MONITOR,
    },
    "catalog.project.delete": {Role.PROVINCE, Role.CITY, Role.COUNTY},  # the advanced panel's soft delete
    "catalog.project.correct_credits": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    "catalog.change.decide": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    "catalog.changelog.view": {Role.PROVINCE, Role.MONITOR},
    "catalog.staff.manage": {Role.INSTITUTION},
    "catalog.lecturer.view": {Role.PROVINCE, Role.CITY, Role.COUNTY, Role.EXPERT, Role.MONITOR, Role.INSTITUTION},
    "catalog.lecturer.sample": {Role.EXPERT, Role.PROVINCE, Role.CITY, Role.COUNTY},
    "catalog.quota.view": {Role.PROVINCE, Role.MONITOR, Role.INSTITUTION},
    "catalog.quota.manage": {Role.PROVINCE},
    "catalog.regioncap.manage": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    # credit statements and class certificates (reports): a teacher their own, officers for teachers in scope
    "reports.certificate.issue": {Role.TEACHER, Role.SCHOOL, Role.COUNTY, Role.CITY, Role.PROVINCE},
    "reports.certificate.batch": {Role.SCHOOL, Role.COUNTY, Role.CITY, Role.PROVINCE},
    # all completion certificates of a class, by the class's training institution (or the province)
    "reports.certificate.class_batch": {Role.INSTITUTION, Role.INSTITUTION_REVIEWER, Role.PROVINCE},
    # Fair allocation mode (round 1 by ranked preferences).
    "enrollment.preference.edit": {Role.TEACHER},
    "enrollment.allocation.run": {Role.PROVINCE},
    # a run's outcomes in the actor's scope, as on the run's page (teachers see theirs on their own page)
    "enrollment.allocation.export": {
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.INSTITUTION,
        Role.MONITOR,
    },
    "enrollment.allocation.view": {
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.TEACHER,
        Role.INSTITUTION,
        Role.MONITOR,
    },
    # Course selection (SPEC §6).
    "enrollment.select": {Role.TEACHER},  # select a class, join its waitlist
    "enrollment.withdraw": {Role.TEACHER},
    "enrollment.review": {Role.SCHOOL},  # 校长审核: approve / reject the school's teachers' selections
    "enrollment.confirm": {Role.INSTITUTION},  # 复核: confirm / decline approved enrollments
    "enrollment.expansion.request": {Role.INSTITUTION},  # 扩班
    "enrollment.expansion.decide": {Role.PROVINCE, Role.CITY, Role.COUNTY},
    "enrollment.view": {
        Role.TEACHER,
        Role.SCHOOL,
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.MONITOR,
    },
    "enrollment.roster.view": {
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.MONITOR,
    },
    # results (成绩登记): the institution enters and submits, its reviewer approves (审核) or cancels it.
    "results.view": {
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.MONITOR,
    },
    "results.register": {Role.INSTITUTION},
    "results.approve": {Role.INSTITUTION_REVIEWER},
    "results.mine": {Role.TEACHER},
}


def _model_label(model: type[Model]) -> str:
    return model._meta.label_lower


def _scope_q(actor: Actor, paths: ScopePaths) -> Q | None:
    """The Q restricting rows to the actor's scope, or None when nothing is visible."""
    q: Q | None = None

    def either(lookups: tuple[str, ...], value: Any, suffix: str = "") -> Q | None:
        result: Q | None = None
        for lookup in lookups:
            key = f"{lookup}__{suffix}" if lookup and suffix else (suffix or lookup or "pk")
            part = Q(**{key: value})
            result = part if result is None else result | part
        return result

    if actor.role in (Role.CITY, Role.COUNTY, Role.EXPERT) and actor.region is not None:
        q = either(paths.region, actor.region.path, "path__startswith")
    elif actor.role == Role.SCHOOL and actor.school is not None:
        q = either(paths.school, actor.school.pk)
    elif actor.role in (Role.INSTITUTION, Role.INSTITUTION_REVIEWER) and actor.institution is not None:
        q = either(paths.institution, actor.institution.pk)
    elif actor.role == Role.TEACHER and actor.teacher_id is not None:
        q = either(paths.teacher, actor.teacher_id)
    if paths.public is not None:
        q = paths.public if q is None else (q | paths.public)
    return q


def visible(actor: Actor, queryset: QuerySet) -> QuerySet:
    """Filter ``queryset`` to the rows the actor may see."""
    label = _model_label(queryset.model)
    paths = SCOPES.get(label)
    if paths is None:
        raise LookupError(f"no scope registered for {label}")
    if actor.role in paths.roles or (actor.role in ALL_READERS and label != "core.auditlog"):
        return queryset
    q = _scope_q(actor, paths)
    if q is None:
        return queryset.none()
    filtered = queryset.filter(q)
    return filtered.distinct() if paths.distinct else filtered


def in_scope(actor: Actor, obj: Model) -> bool:
    return visible(actor, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def can(actor: Actor, action: str, obj: Model | None = None) -> bool:
    roles = ACTIONS.get(action)
    if roles is None:
        raise LookupError(f"unknown action {action}")
    if actor.role not in roles:
        return False
    return obj is None or in_scope(actor, obj)


def require(actor: Actor | None, action: str, obj: Model | None = None) -> None:
    """Raise unless the actor may perform ``action`` (on ``obj``).

    Objects outside the actor's scope raise NotFound, so their existence does not leak.
    """
    if actor is None:
        raise PermissionDenied(_("Please sign in first."))
    roles = ACTIONS.get(action)
    if roles is None:
        raise LookupError(f"unknown action {action}")
    if actor.role not in roles:
        raise PermissionDenied(_("Your role may not perform this operation."))
    if obj is not None and not in_scope(actor, obj):
        raise NotFound(_("The object does not exist or is outside your scope."))


# Background jobs. The owner sees their own. A job attached to an object (``Job.subject_type`` /
# ``subject_id``) is also seen, with its progress, by every actor who may perform the action below
# on that object: a policy's recomputation after activation by every province officer, not only by
# the one who clicked. Seeing is shared; retrying a job and downloading its file stay with the
# owner (an export's file was written in the owner's scope, and exports are never attached).
JOB_SUBJECTS: dict[str, str] = {
    "credits.policy": "credits.policy.manage",
    "enrollment.allocationrun": "enrollment.allocation.run",
}


def visible_jobs(actor: Actor, queryset: QuerySet) -> QuerySet:
    """Filter a ``core.Job`` queryset to the jobs the actor may watch (the rule above)."""
    from django.apps import apps

    q = Q(owner=actor.user)
    for label, action in JOB_SUBJECTS.items():
        if actor.role in ACTIONS[action]:
            subjects = visible(actor, apps.get_model(label)._default_manager.all()).values("pk")
            q |= Q(subject_type=label, subject_id__in=subjects)
    return queryset.filter(q)


def get_visible(actor: Actor, queryset: QuerySet, **lookup: Any) -> Any:
    """Fetch one row inside the actor's scope, or raise NotFound."""
    try:
        return visible(actor, queryset).get(**lookup)
    except queryset.model.DoesNotExist:
        raise NotFound(_("The object does not exist or is outside your scope.")) from None
