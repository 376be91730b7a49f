"""The menu each role sees. Apps add their entries here, next to the role that uses them."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    icon: str = "circle"
    roles: frozenset[str] = frozenset()

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return "#"


def _item(label, url_name, icon, *roles) -> MenuItem:
    return MenuItem(label=label, url_name=url_name, icon=icon, roles=frozenset(roles))


BUREAUS = (Role.PROVINCE, Role.CITY, Role.COUNTY)

MENU: list[MenuItem] = [
    _item(_("Home"), "home", "house", *Role.values),
    _item(
        _("Dashboard"),
        "reports:dashboard",
        "speedometer2",
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.MONITOR,
        Role.INSTITUTION,
    ),
    _item(_("Institution statistics"), "reports:institutions", "clipboard-data", Role.PROVINCE, Role.MONITOR),
    _item(_("Regions"), "orgs:region_list", "diagram-3", Role.PROVINCE, Role.CITY, Role.COUNTY),
    _item(_("Schools"), "orgs:school_list", "building", Role.PROVINCE, Role.CITY, Role.COUNTY),
    _item(_("Institutions"), "orgs:institution_list", "bank", Role.PROVINCE, Role.MONITOR),
    _item(
        _("Teachers"), "roster:teacher_list", "people", Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR
    ),
    _item(_("Roster import"), "roster:import_list", "upload", Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL),
    _item(_("Accounts"), "accounts:user_list", "person-gear", Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL),
    _item(_("My credits"), "credits:my_credits", "award", Role.TEACHER),
    _item(
        _("Credit statements"),
        "reports:certificate_home",
        "file-earmark-check",
        Role.TEACHER,
        Role.SCHOOL,
        Role.COUNTY,
        Role.CITY,
        Role.PROVINCE,
    ),
    _item(
        _("Completion certificates"),
        "reports:certificate_classes",
        "award",
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
    ),
    _item(_("Degree offsets"), "credits:degree_list", "mortarboard", Role.TEACHER, Role.COUNTY, Role.SCHOOL),
    _item(
        _("Credit standings"),
        "credits:standing_list",
        "award",
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.MONITOR,
    ),
    _item(
        _("Credit report"), "credits:region_report", "bar-chart", Role.PROVINCE, Role.CITY, Role.COUNTY, Role.MONITOR
    ),
    _item(_("Floor training"), "credits:floor_list", "life-preserver", Role.PROVINCE, Role.CITY, Role.COUNTY),
    _item(_("Credit policies"), "credits:policy_list", "sliders", Role.PROVINCE),
    _item(_("Order demands"), "orders:order_list", "clipboard-check", Role.COUNTY),
    _item(_("County orders"), "orders:order_list", "clipboard-check", Role.INSTITUTION),
    _item(_("My order responses"), "orders:my_responses", "reply-all", Role.INSTITUTION),
    _item(_("Order board"), "orders:order_list", "kanban", Role.PROVINCE, Role.CITY, Role.MONITOR),
    _item(_("Orders per county"), "orders:coverage", "bar-chart", Role.PROVINCE, Role.CITY, Role.MONITOR),
    _item(_("Results registration"), "results:class_list", "ui-checks-grid", Role.INSTITUTION),
    _item(_("Results review"), "results:class_list", "patch-check", Role.INSTITUTION_REVIEWER),
    _item(_("Training results"), "results:class_list", "ui-checks-grid", *BUREAUS, Role.MONITOR),
    _item(_("My training results"), "results:my_results", "card-checklist", Role.TEACHER),
    _item(_("Classes to check"), "monitoring:class_list", "binoculars", Role.MONITOR),
    _item(
        _("Spot checks"),
        "monitoring:spotcheck_list",
        "clipboard2-pulse",
        Role.MONITOR,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.INSTITUTION,
    ),
    _item(
        _("Training discipline"),
        "monitoring:misconduct_list",
        "exclamation-octagon",
        Role.MONITOR,
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.INSTITUTION,
    ),
    _item(_("Institution scorecard"), "monitoring:scorecard", "clipboard-data", Role.PROVINCE, Role.MONITOR),
    _item(
        _("School-based training"),
        "schoolbased:plan_list",
        "journal-bookmark",
        Role.PROVINCE,
        Role.CITY,
        Role.COUNTY,
        Role.SCHOOL,
        Role.MONITOR,
    ),
    # Training projects (catalog) and the term calendar (terms).
    _item(_("Training catalog"), "catalog:browse", "journal-bookmark", *(r for r in Role.values if r != Role.AUDITOR)),
    _item(_("My projects"), "catalog:project_list", "folder2-open", Role.INSTITUTION, Role.INSTITUTION_REVIEWER),
    _item(_("Project review"), "catalog:project_list", "clipboard-check", *BUREAUS, Role.MONITOR),
    _item(_("Lecturer sampling"), "catalog:sampling", "person-check", Role.EXPERT, *BUREAUS),
    _item(_("Change requests"), "catalog:change_list", "arrow-left-right", Role.INSTITUTION, *BUREAUS, Role.MONITOR),
    _item(_("Class schedules"), "catalog:schedules", "calendar-week", Role.INSTITUTION, *BUREAUS, Role.MONITOR),
    _item(_("Project leaders"), "catalog:staff_list", "person-badge", Role.INSTITUTION),
    _item(
        _("Expert database"),
        "catalog:lecturer_db",
        "person-lines-fill",
        Role.INSTITUTION,
        *BUREAUS,
        Role.EXPERT,
        Role.MONITOR,
    ),
    _item(_("Project quotas"), "catalog:quota_list", "speedometer2", Role.PROVINCE, Role.MONITOR, Role.INSTITUTION),
    _item(_("Local project caps"), "catalog:region_caps", "sliders", *BUREAUS),
    _item(_("Institutions' change log"), "catalog:change_log", "clock-history", Role.PROVINCE, Role.MONITOR),
    # Course selection (enrollment).
    _item(_("Select classes"), "enrollment:select", "ui-checks", Role.TEACHER),
    _item(_("My selections"), "enrollment:mine", "list-check", Role.TEACHER),
    _item(_("Selection review"), "enrollment:review", "person-check", Role.SCHOOL),
    _item(
        _("Class enrollment"),
        "enrollment:class_list",
        "people-fill",
        Role.INSTITUTION,
        Role.INSTITUTION_REVIEWER,
        *BUREAUS,
        Role.MONITOR,
    ),
    _item(_("Class expansions"), "enrollment:expansion_list", "plus-square", Role.INSTITUTION, *BUREAUS),
    # Fair allocation mode (ranked preferences for round 1).
    _item(_("My preferences"), "enrollment:allocation_mine", "list-ol", Role.TEACHER),
    _item(
        _("Fair allocation"),
        "enrollment:allocation_home",
        "shuffle",
        *BUREAUS,
        Role.SCHOOL,
        Role.INSTITUTION,
        Role.MONITOR,
    ),
    _item(_("Terms and calendar"), "terms:term_list", "calendar3", *(r for r in Role.values if r != Role.AUDITOR)),
    _item(_("Audit log"), "core:audit_list", "journal-text", Role.AUDITOR),
    _item(_("Background jobs"), "core:job_list", "hourglass-split", *Role.values),
]


def menu_for(actor) -> list[MenuItem]:
    return [item for item in MENU if actor.role in item.roles]


# The page a switch to another role opens when the menu offers that role (else the home page):
# a principal signed in as a teacher finds 选课审核 in one click.
ROLE_SHORTCUTS: dict[str, tuple[str, str, str]] = {
    Role.TEACHER: (_("Select classes"), "enrollment:select", "ui-checks"),
    Role.SCHOOL: (_("Selection review"), "enrollment:review", "person-check"),
    Role.INSTITUTION: (_("Class enrollment"), "enrollment:class_list", "people-fill"),
}


@dataclass(frozen=True)
class RoleSwitch:
    grant_id: int
    role_label: str
    scope: str
    label: str
    url: str
    icon: str


def other_roles(grants, actor) -> list[RoleSwitch]:
    """The user's other active roles (``grants``: the request's ``role_grants``), each with where a switch leads."""
    out = []
    for grant in grants:
        if not grant.is_active or (actor.grant is not None and grant.pk == actor.grant.pk):
            continue
        label, url_name, icon = ROLE_SHORTCUTS.get(grant.role, (grant.get_role_display(), "home", "arrow-left-right"))
        out.append(
            RoleSwitch(
                grant_id=grant.pk,
                role_label=str(grant.get_role_display()),
                scope=str(grant.scope_object or ""),
                label=str(label),
                url=reverse(url_name),
                icon=icon,
            )
        )
    return out
