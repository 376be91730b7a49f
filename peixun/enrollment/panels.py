"""Home-page panels: the teacher's selections and the round, a school's selections to review, an
institution's classes awaiting 复核, a bureau's 扩班 requests to decide."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.roles import Role

from . import selectors
from .models import ClassExpansion, Enrollment

S = Enrollment.State


def _school(actor):
    from peixun.roster.models import Teacher

    teacher = Teacher.objects.select_related("school__county").filter(pk=actor.teacher_id).first()
    return teacher.school if teacher is not None else None


def teacher_selection(actor) -> dict | None:
    if actor.role != Role.TEACHER or actor.teacher_id is None:
        return None
    term = selectors.term_for()
    rows = selectors.with_waitlist_ranks(
        selectors.my_enrollments(actor=actor, term=term).filter(state__in=Enrollment.ACTIVE).order_by("created_at")[:5]
    )
    return {
        "template": "enrollment/_panel_teacher.html",
        "order": 10,
        "title": _("Course selection"),
        "term": term,
        "rounds": selectors.round_state(term, school=_school(actor)),
        "rows": rows,
        "now": timezone.now(),
    }


def school_review(actor) -> dict | None:
    if actor.role != Role.SCHOOL:
        return None
    term = selectors.term_for()
    count = selectors.review_list(actor=actor, term=term).count()
    if not count:
        return None
    return {
        "template": "enrollment/_panel_count.html",
        "order": 15,
        "icon": "person-check",
        "title": _("Selections awaiting your review"),
        "count": count,
        "link": reverse("enrollment:review"),
        "windows": selectors.stage_windows(term, ("principal_r1", "principal_r2")),
        "elsewhere": selectors.open_elsewhere(term, ("principal_r1", "principal_r2")),
        "extra": "&state=selected",
    }


def principal_in_teacher_role(actor) -> dict | None:
    """A principal signed in with the teacher role active: point to 选课审核 (one click switches role)."""
    if actor.role == Role.SCHOOL:
        return None
    from peixun.accounts.models import RoleGrant
    from peixun.core.scopes import Actor

    grant = (
        RoleGrant.objects.filter(user=actor.user, role=Role.SCHOOL, is_active=True)
        .select_related("user", "school")
        .order_by("pk")
        .first()
    )
    if grant is None:
        return None
    term = selectors.term_for()
    count = selectors.review_list(actor=Actor.from_grant(grant), term=term).count()
    return {
        "template": "enrollment/_panel_switch.html",
        "order": 5,
        "grant": grant,
        "count": count,
        "term": term,
        "next": reverse("enrollment:review"),
        "windows": selectors.stage_windows(term, ("select_r1", "principal_r1", "select_r2", "principal_r2")),
    }


def institution_confirm(actor) -> dict | None:
    if actor.role != Role.INSTITUTION:
        return None
    count = Enrollment.objects.filter(project_class__project__institution=actor.institution, state=S.APPROVED).count()
    if not count:
        return None
    term = selectors.term_for()
    return {
        "template": "enrollment/_panel_count.html",
        "order": 15,
        "icon": "clipboard-check",
        "title": _("Approved trainees awaiting your confirmation (复核)"),
        "count": count,
        "link": reverse("enrollment:class_list"),
        "windows": selectors.stage_windows(term, ("confirm_r1", "confirm_r2")),
        "elsewhere": selectors.open_elsewhere(term, ("confirm_r1", "confirm_r2")),
    }


def bureau_expansions(actor) -> dict | None:
    if actor.role not in (Role.PROVINCE, Role.CITY, Role.COUNTY) or actor.region is None:
        return None
    count = ClassExpansion.objects.filter(
        status=ClassExpansion.Status.PENDING, project_class__project__region=actor.region
    ).count()
    if not count:
        return None
    return {
        "template": "enrollment/_panel_count.html",
        "order": 15,
        "icon": "plus-square",
        "title": _("Class expansion requests to decide"),
        "count": count,
        "link": reverse("enrollment:expansion_list") + "?status=pending",
        "windows": selectors.stage_windows(selectors.term_for(), ("expand_accept",)),
        "elsewhere": selectors.open_elsewhere(selectors.term_for(), ("expand_accept",)),
        "base": reverse("enrollment:expansion_list"),
        "extra": "&status=pending",
    }
