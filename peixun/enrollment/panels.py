"""Home-page panels: the teacher's selections and the round, a school's selections to review, an
institution's classes awaiting 复核, a bureau's 扩班 requests to decide.

Each counts what the actor can act on now, in every term whose window for it is open (several terms may
have one open at once, e.g. the demo's step terms), with one line per term linking to that term's page."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.roles import Role

from . import selectors
from .models import Enrollment


def teacher_selection(actor) -> dict | None:
    """The rounds open to the teacher now, one line per term when several terms have one open; else the
    current term's round (upcoming or over)."""
    if actor.role != Role.TEACHER or actor.teacher_id is None:
        return None
    from peixun.roster.models import Teacher

    teacher = Teacher.objects.select_related("school__county").filter(pk=actor.teacher_id).first()
    if teacher is None:
        return None
    work = selectors.selection_work(actor=actor, teacher=teacher)
    single = work[0] if len(work) == 1 else None
    term = single.term if single else (None if work else selectors.term_for())
    mine = selectors.my_enrollments(actor=actor).filter(state__in=Enrollment.ACTIVE)
    if work:
        mine = mine.filter(project_class__project__term__in=[w.term for w in work])
    elif term is not None:
        mine = mine.filter(project_class__project__term=term)
    return {
        "template": "enrollment/_panel_teacher.html",
        "order": 10,
        "title": _("Course selection"),
        "term": term,
        "work": work,
        "link": single.link if single else reverse("enrollment:select"),
        "rounds": single.rounds if single else selectors.round_state(term, school=teacher.school),
        "rows": selectors.with_waitlist_ranks(mine.order_by("created_at")[:5]),
        "now": timezone.now(),
    }


def _count_panel(work, *, icon: str, title: str, link: str) -> dict | None:
    if not work:
        return None
    return {
        "template": "enrollment/_panel_count.html",
        "order": 15,
        "icon": icon,
        "title": title,
        "count": sum(w.count for w in work),
        "work": work,
        "link": work[0].link if len(work) == 1 else link,
    }


def school_review(actor) -> dict | None:
    if actor.role != Role.SCHOOL:
        return None
    return _count_panel(
        selectors.review_work(actor=actor),
        icon="person-check",
        title=_("Selections awaiting your review"),
        link=reverse("enrollment:review"),
    )


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
    work = selectors.review_work(actor=Actor.from_grant(grant))
    return {
        "template": "enrollment/_panel_switch.html",
        "order": 5,
        "grant": grant,
        "count": sum(w.count for w in work),
        "work": work,
        "next": work[0].link if len(work) == 1 else reverse("enrollment:review"),
    }


def institution_confirm(actor) -> dict | None:
    if actor.role != Role.INSTITUTION:
        return None
    return _count_panel(
        selectors.confirm_work(actor=actor),
        icon="clipboard-check",
        title=_("Approved trainees awaiting your confirmation (复核)"),
        link=reverse("enrollment:class_list"),
    )


def bureau_expansions(actor) -> dict | None:
    if actor.role not in (Role.PROVINCE, Role.CITY, Role.COUNTY) or actor.region is None:
        return None
    return _count_panel(
        selectors.expansion_work(actor=actor),
        icon="plus-square",
        title=_("Class expansion requests to decide"),
        link=reverse("enrollment:expansion_list") + "?status=pending",
    )
