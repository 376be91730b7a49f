"""Home-page panels: a teacher's progress; a bureau's or school's pending credit work."""

from __future__ import annotations

from peixun.core.roles import Role


def teacher_panel(actor):
    if actor.role != Role.TEACHER or actor.teacher_id is None:
        return None
    from peixun.roster.models import Teacher

    from . import selectors

    teacher = Teacher.objects.filter(pk=actor.teacher_id).first()
    if teacher is None:
        return None
    standing, _rows = selectors.teacher_standing(actor=actor, teacher=teacher)
    return {"template": "credits/_panel_teacher.html", "order": 10, "standing": standing}


def bureau_panel(actor):
    from . import selectors
    from .models import FloorProgramme, ReviewStatus

    if actor.role == Role.COUNTY:
        offsets = selectors.degree_offset_list(actor=actor, status=ReviewStatus.PENDING).count()
        return {"template": "credits/_panel_bureau.html", "order": 30, "pending_offsets": offsets}
    if actor.role == Role.CITY:
        filed = selectors.floor_list(actor=actor).filter(status=FloorProgramme.Status.FILED).count()
        return {"template": "credits/_panel_bureau.html", "order": 30, "filed_floor": filed}
    if actor.role == Role.PROVINCE:
        policy = selectors.active_policy()
        return {"template": "credits/_panel_bureau.html", "order": 30, "policy": policy, "show_policy": True}
    return None
