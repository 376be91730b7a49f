"""The application rules of SPEC §4, as reads: quotas, caps, leader limits, qualifications.

Services call ``submission_problems`` before a project is submitted and refuse on the first
problem; the project page shows the whole checklist so an institution can fix everything
at once.

Quota counting (a decision, documented in the README): a project counts against its
institution's quota from the moment it is *submitted* (申报) — submitted, returned,
approved, published, running and finished projects count; drafts, withdrawn and deleted
projects do not. Only province-wide projects (国家/省级) count against the institution
quota; city and county projects count against the responsible region's cap instead.
B证 projects never count (they are an additional plan), and order projects count only
when the term says ``order_projects_use_quota``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.choices import TITLE_RANK, SubjectCategory, Title, TrainingFormat, TrainingLevel
from peixun.core.errors import Conflict, DomainError, InvalidInput
from peixun.orgs.models import Institution, Region
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import get_window

from .conversion import ONLINE_SHARE_CAP, project_conversion
from .models import Project, ProjectClass, Quota, RegionCap, StaffMember

S = Project.Status
COUNTED_STATUSES = (S.SUBMITTED, S.RETURNED, S.APPROVED, S.PUBLISHED, S.RUNNING, S.FINISHED)
EDITABLE_STATUSES = (S.DRAFT, S.RETURNED)
PROVINCE_WIDE_LEVELS = (TrainingLevel.NATIONAL, TrainingLevel.PROVINCIAL)
LOCAL_LEVELS = (TrainingLevel.CITY, TrainingLevel.COUNTY)
MAX_CLASSES_PER_LEADER = 4
MIN_LEADER_TITLE = Title.ASSOCIATE_SENIOR

DEFAULT_QUOTA = {
    Institution.Type.FLAGSHIP: 40,
    Institution.Type.UNIVERSITY: 25,
    Institution.Type.PROVINCIAL: 25,
    Institution.Type.REMOTE: 35,
    Institution.Type.COUNTY_SCHOOL: 0,  # county schools run local projects, capped by their region
}
UNDER_ONE_YEAR_QUOTA = 5


# --- quotas ---------------------------------------------------------------------------------


def quota_reference_date(term: Term) -> date:
    """'Qualified under one year' is judged on the day the term's application opens."""
    window = get_window(term, WindowKind.PROJECT_APPLY)
    return timezone.localdate(window.starts_at) if window else timezone.localdate()


def default_quota(institution: Institution, term: Term) -> int:
    if institution.qualified_under_one_year(quota_reference_date(term)):
        return UNDER_ONE_YEAR_QUOTA
    return DEFAULT_QUOTA.get(institution.type, 0)


def quota_limit(term: Term, institution: Institution) -> int:
    row = Quota.objects.filter(term=term, institution=institution).first()
    return row.limit if row else default_quota(institution, term)


def counted_q(term: Term) -> Q:
    """Projects that count against a quota or cap (see the module docstring)."""
    q = Q(status__in=COUNTED_STATUSES, is_b_certificate=False)
    if not term.order_projects_use_quota:
        q &= Q(is_order_project=False)
    return q


def quota_used(term: Term, institution: Institution, exclude: Project | None = None) -> int:
    qs = Project.objects.filter(counted_q(term), term=term, institution=institution, level__in=PROVINCE_WIDE_LEVELS)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return qs.count()


@dataclass
class QuotaUsage:
    institution: Institution
    limit: int
    used: int
    is_default: bool

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def percent(self) -> int:
        return min(int(self.used * 100 / self.limit), 100) if self.limit else 100


def quota_usage(term: Term, institutions: QuerySet[Institution] | list[Institution]) -> list[QuotaUsage]:
    """Limit / used / remaining for many institutions in three queries."""
    institutions = list(institutions)
    ids = [i.pk for i in institutions]
    rows = {q.institution_id: q.limit for q in Quota.objects.filter(term=term, institution_id__in=ids)}
    used = dict(
        Project.objects.filter(counted_q(term), term=term, institution_id__in=ids, level__in=PROVINCE_WIDE_LEVELS)
        .order_by()
        .values_list("institution_id")
        .annotate(n=Count("id"))
        .values_list("institution_id", "n")
    )
    return [
        QuotaUsage(
            institution=i,
            limit=rows[i.pk] if i.pk in rows else default_quota(i, term),
            used=used.get(i.pk, 0),
            is_default=i.pk not in rows,
        )
        for i in institutions
    ]


def region_cap_used(term: Term, region: Region, exclude: Project | None = None) -> int:
    qs = Project.objects.filter(counted_q(term), term=term, region=region, level__in=LOCAL_LEVELS)
    if exclude is not None and exclude.pk:
        qs = qs.exclude(pk=exclude.pk)
    return qs.count()


# --- leaders --------------------------------------------------------------------------------


def leader_classes_elsewhere(term: Term, national_id: str, exclude: Project | None = None) -> int:
    """Classes this person leads in the term's applied projects (other than ``exclude``)."""
    qs = ProjectClass.objects.filter(
        project__term=term, project__leader__national_id=national_id, project__status__in=COUNTED_STATUSES
    )
    if exclude is not None and exclude.pk:
        qs = qs.exclude(project=exclude)
    return qs.count()


def leader_other_institutions(term: Term, national_id: str, institution: Institution) -> list[str]:
    return list(
        Project.objects.filter(term=term, leader__national_id=national_id, status__in=COUNTED_STATUSES)
        .exclude(institution=institution)
        .values_list("institution__name", flat=True)
        .distinct()
    )


def leader_problem(project: Project, leader: StaffMember | None, class_count: int | None = None) -> DomainError | None:
    if leader is None:
        return InvalidInput(_("Choose the project leader."), details={"field": "leader", "rule": "leader"})
    if leader.institution_id != project.institution_id:
        return InvalidInput(
            _("The project leader must be on the staff of the applying institution."),
            details={"field": "leader", "rule": "leader_institution"},
        )
    if not leader.is_formal_employee:
        return InvalidInput(
            _("The project leader must be a formal employee of the applying institution."),
            details={"field": "leader", "rule": "leader_formal"},
        )
    if TITLE_RANK.get(leader.title, 0) < TITLE_RANK[MIN_LEADER_TITLE]:
        return InvalidInput(
            _("The project leader must hold an associate senior title (副高) or higher; %(name)s holds %(title)s.")
            % {"name": leader.name, "title": leader.get_title_display()},
            details={"field": "leader", "rule": "leader_title"},
        )
    if project.subject_category not in leader.specialty_list:
        return InvalidInput(
            _("The project leader's specialty does not cover the project's subject category (%(category)s).")
            % {"category": SubjectCategory(project.subject_category).label if project.subject_category else "—"},
            details={"field": "leader", "rule": "leader_specialty"},
        )
    others = leader_other_institutions(project.term, leader.national_id, project.institution)
    if others:
        return Conflict(
            _("%(name)s already leads projects of %(others)s this term; a leader may not lead at two institutions.")
            % {"name": leader.name, "others": "、".join(others)},
            details={"field": "leader", "rule": "leader_two_institutions"},
        )
    mine = project.classes.count() if class_count is None else class_count
    elsewhere = leader_classes_elsewhere(project.term, leader.national_id, exclude=project)
    if elsewhere + mine > MAX_CLASSES_PER_LEADER:
        return Conflict(
            _(
                "%(name)s would lead %(total)s classes this term (%(elsewhere)s in other projects, %(mine)s here); "
                "a leader may lead at most %(max)s classes per term."
            )
            % {
                "name": leader.name,
                "total": elsewhere + mine,
                "elsewhere": elsewhere,
                "mine": mine,
                "max": MAX_CLASSES_PER_LEADER,
            },
            details={"field": "leader", "rule": "leader_classes"},
        )
    return None


# --- the whole checklist -------------------------------------------------------------------


def _training_window_problem(project: Project, classes: list[ProjectClass]) -> DomainError | None:
    window = get_window(project.term, WindowKind.TRAINING)
    if window is None:
        return None
    first = timezone.localdate(window.starts_at)
    last = timezone.localdate(window.ends_at - timedelta(microseconds=1))
    for c in classes:
        if c.starts_on < first or c.ends_on > last:
            return InvalidInput(
                _("Class %(number)s must take place within the term's training period (%(first)s to %(last)s).")
                % {"number": c.number, "first": first.isoformat(), "last": last.isoformat()},
                details={"field": "classes", "rule": "class_dates"},
            )
    return None


def content_problems(project: Project) -> list[DomainError]:
    """Field-level problems a draft may still have (also checked on submission)."""
    problems: list[DomainError] = []

    def bad(message, field, rule="field"):
        problems.append(InvalidInput(message, details={"field": field, "rule": rule}))

    for field, label in (("name", _("project name")), ("theme", _("theme")), ("content", _("course content"))):
        if not (getattr(project, field) or "").strip():
            bad(_("Enter the %(field)s.") % {"field": label}, field)
    if not (project.goals or "").strip():
        bad(_("Enter the goals."), "goals")
    elif len(project.goals) > 200:
        bad(_("The goals may be at most 200 characters (now %(n)s).") % {"n": len(project.goals)}, "goals")
    if not project.days or project.days < 1:
        bad(_("Enter the number of days."), "days")
    if (project.hours_offline or 0) + (project.hours_online or 0) <= 0:
        bad(_("Enter the training hours (学时)."), "hours_offline")
    if project.format == TrainingFormat.FACE_TO_FACE and (project.hours_online or 0) > 0:
        bad(_("A face-to-face project has no online hours."), "hours_online")
    if project.format == TrainingFormat.ONLINE and (project.hours_offline or 0) > 0:
        bad(_("An online project has no offline hours."), "hours_offline")
    if project.format == TrainingFormat.BLENDED and not (
        (project.hours_offline or 0) > 0 and (project.hours_online or 0) > 0
    ):
        bad(_("A blended project has both offline and online hours."), "hours_online")
    fees = (project.fee_training or 0) + (project.fee_accommodation or 0) + (project.fee_meals or 0)
    if fees != (project.fee_total or 0):
        bad(
            _(
                "The fee components (training %(t)s + accommodation %(a)s + meals %(m)s = %(sum)s) must add up to the total %(total)s."
            )
            % {
                "t": project.fee_training,
                "a": project.fee_accommodation,
                "m": project.fee_meals,
                "sum": fees,
                "total": project.fee_total,
            },
            "fee_total",
            "fees",
        )
    return problems


def submission_problems(project: Project) -> list[DomainError]:
    """Every rule a project must meet to be submitted, in the order they are reported."""
    problems = content_problems(project)
    institution = project.institution
    classes = list(project.classes.all())
    if not classes:
        problems.append(
            InvalidInput(_("Add at least one class (班期)."), details={"field": "classes", "rule": "classes"})
        )
    elif (p := _training_window_problem(project, classes)) is not None:
        problems.append(p)
    if not project.lecturers.exists():
        problems.append(
            InvalidInput(_("Enter at least one lecturer."), details={"field": "lecturers", "rule": "lecturers"})
        )
    if project.subject_category not in institution.scope_list:
        problems.append(
            InvalidInput(
                _("%(category)s is outside the institution's qualified subject categories (%(scope)s).")
                % {
                    "category": SubjectCategory(project.subject_category).label if project.subject_category else "—",
                    "scope": institution.scope_labels or "—",
                },
                details={"field": "subject_category", "rule": "scope"},
            )
        )
    if project.format == TrainingFormat.BLENDED and not institution.may_blended:
        problems.append(
            InvalidInput(
                _("The institution is not qualified to run blended training."),
                details={"field": "format", "rule": "format_qualification"},
            )
        )
    if project.format == TrainingFormat.ONLINE and not institution.may_online:
        problems.append(
            InvalidInput(
                _("The institution is not qualified to run online training."),
                details={"field": "format", "rule": "format_qualification"},
            )
        )
    if project.level in PROVINCE_WIDE_LEVELS and not institution.province_wide and not project.is_order_project:
        problems.append(
            InvalidInput(
                _("The institution is not qualified for province-wide training; apply a city or county project."),
                details={"field": "level", "rule": "level_qualification"},
            )
        )
    if project.is_order_project and not institution.can_take_orders(quota_reference_date(project.term)):
        problems.append(
            InvalidInput(
                _("The institution may not take order projects (qualified under one year or not qualified)."),
                details={"field": "is_order_project", "rule": "orders"},
            )
        )
    conversion = project_conversion(project)
    if not conversion.share_ok:
        problems.append(
            InvalidInput(
                _(
                    "In a blended project online credits may be at most %(cap)s%% of the project's credits "
                    "(now %(online)s of %(total)s)."
                )
                % {
                    "cap": int(ONLINE_SHARE_CAP * 100),
                    "online": conversion.online_part,
                    "total": conversion.offline_part + conversion.online_part,
                },
                details={"field": "hours_online", "rule": "online_share"},
            )
        )
    leader = leader_problem(project, project.leader, class_count=len(classes))
    if leader is not None:
        problems.append(leader)
    quota = quota_problem(project)
    if quota is not None:
        problems.append(quota)
    return problems


def quota_problem(project: Project) -> DomainError | None:
    term = project.term
    counted = Project.objects.filter(counted_q(term), pk=project.pk).exists() if project.pk else False
    would_count = not project.is_b_certificate and (term.order_projects_use_quota or not project.is_order_project)
    if not would_count or counted:
        return None  # B证 / order projects, or a resubmission that already counts
    if project.level in PROVINCE_WIDE_LEVELS:
        limit = quota_limit(term, project.institution)
        used = quota_used(term, project.institution, exclude=project)
        if used + 1 > limit:
            return Conflict(
                _("%(institution)s may apply %(limit)s province-wide projects in %(term)s and has applied %(used)s.")
                % {"institution": project.institution.name, "limit": limit, "term": term.name, "used": used},
                details={"rule": "quota", "limit": limit, "used": used},
            )
    elif project.level in LOCAL_LEVELS:
        cap = RegionCap.objects.filter(term=term, region_id=project.region_id).first()
        if cap is not None:
            used = region_cap_used(term, project.region, exclude=project)
            if used + 1 > cap.limit:
                return Conflict(
                    _("%(region)s accepts at most %(limit)s local projects in %(term)s and %(used)s are applied.")
                    % {"region": project.region.name, "limit": cap.limit, "term": term.name, "used": used},
                    details={"rule": "region_cap", "limit": cap.limit, "used": used},
                )
    return None


def checklist(project: Project) -> list[dict]:
    """The rules as a list for the project page: each with ok and the message when not."""
    problems = submission_problems(project)
    return [{"rule": p.details.get("rule"), "message": p.message} for p in problems]
