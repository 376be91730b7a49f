"""Home panels of the foundation: what a role manages, and the auditor's latest records."""

from django.urls import reverse
from django.utils.translation import gettext as _

from .home import register_home_panel
from .roles import Role
from .scopes import visible


@register_home_panel
def overview(actor):
    from peixun.orgs.models import Institution, School
    from peixun.roster.models import Teacher

    if actor.role not in (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.MONITOR):
        return None
    teachers = visible(actor, Teacher.objects.filter(status=Teacher.Status.ACTIVE))
    stats = [(_("Teachers in post"), teachers.count(), reverse("roster:teacher_list"))]
    if actor.role == Role.SCHOOL:
        stats.append(
            (_("Teachers without a login"), teachers.filter(user__isnull=True).count(), reverse("roster:teacher_list"))
        )
    else:
        stats.insert(
            0,
            (_("Schools"), visible(actor, School.objects.filter(is_active=True)).count(), reverse("orgs:school_list")),
        )
    if actor.role in (Role.PROVINCE, Role.MONITOR):
        stats.append(
            (_("Institutions"), Institution.objects.filter(is_active=True).count(), reverse("orgs:institution_list"))
        )
    return {"template": "core/panels/overview.html", "order": 10, "stats": stats, "title": _("Overview")}


@register_home_panel
def audit_latest(actor):
    from .models import AuditLog

    if actor.role != Role.AUDITOR:
        return None
    return {
        "template": "core/panels/audit_latest.html",
        "order": 10,
        "records": list(visible(actor, AuditLog.objects.all())[:10]),
        "width": "col-12",
    }
