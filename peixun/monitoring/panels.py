"""Home-page panels: the monitor's open follow-ups, an institution's findings awaiting its answer,
a school's or county's unacknowledged misconduct reports."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from peixun.core.roles import Role

from . import selectors

PANEL_ROWS = 5


def monitor_follow_ups(actor) -> dict | None:
    if actor.role != Role.MONITOR:
        return None
    qs = selectors.follow_ups_open(actor=actor)
    return {
        "template": "monitoring/_panel_spotchecks.html",
        "order": 20,
        "title": _("Open follow-ups"),
        "rows": list(qs[:PANEL_ROWS]),
        "count": qs.count(),
        "more": "?status=pending",
        "empty": _("No follow-up is open."),
        "today": timezone.localdate(),
    }


def institution_findings(actor) -> dict | None:
    if actor.role != Role.INSTITUTION:
        return None
    qs = selectors.findings_awaiting_answer(actor=actor)
    count = qs.count()
    if not count:
        return None
    return {
        "template": "monitoring/_panel_spotchecks.html",
        "order": 20,
        "title": _("Spot-check findings awaiting your answer"),
        "rows": list(qs[:PANEL_ROWS]),
        "count": count,
        "more": "?status=open",
        "empty": "",
        "today": timezone.localdate(),
    }


def unacknowledged_reports(actor) -> dict | None:
    if actor.role not in (Role.SCHOOL, Role.COUNTY):
        return None
    qs = selectors.misconduct_unacknowledged(actor=actor)
    count = qs.count()
    if not count:
        return None
    return {
        "template": "monitoring/_panel_misconduct.html",
        "order": 20,
        "title": _("Misconduct reports to acknowledge"),
        "rows": list(qs[:PANEL_ROWS]),
        "count": count,
    }
