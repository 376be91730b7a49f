"""Home-page panels: the reviewer's results awaiting review; the institution's classes whose results are due."""

from __future__ import annotations

from django.utils.translation import gettext as _

from peixun.core.roles import Role

from . import selectors

PANEL_ROWS = 5


def reviewer_stale(actor) -> dict | None:
    """Approved results whose project's credit attributes were corrected since: the FAQ's repair path."""
    if actor.role != Role.INSTITUTION_REVIEWER:
        return None
    qs = selectors.class_list(actor=actor, status=selectors.STALE)
    count = qs.count()
    if not count:
        return None
    return {
        "template": "results/_panel_classes.html",
        "order": 14,
        "title": _("Credit attributes corrected: cancel the approval and approve again"),
        "rows": list(qs[:PANEL_ROWS]),
        "count": count,
        "more": "?status=stale",
        "empty": "",
    }


def reviewer_queue(actor) -> dict | None:
    if actor.role != Role.INSTITUTION_REVIEWER:
        return None
    qs = selectors.class_list(actor=actor, status="submitted")
    return {
        "template": "results/_panel_classes.html",
        "order": 15,
        "title": _("Results awaiting your review"),
        "rows": list(qs[:PANEL_ROWS]),
        "count": qs.count(),
        "more": "?status=submitted",
        "empty": _("No results are awaiting review."),
    }


def institution_due(actor) -> dict | None:
    if actor.role != Role.INSTITUTION:
        return None
    qs = selectors.class_list(actor=actor, due=True)
    count = qs.count()
    if not count:
        return None
    return {
        "template": "results/_panel_classes.html",
        "order": 15,
        "title": _("Finished classes whose results are not submitted"),
        "rows": list(qs[:PANEL_ROWS]),
        "count": count,
        "more": "?due=1",
        "empty": "",
    }
