"""Signal receivers and home panels of the credits app."""

from __future__ import annotations

from django.utils.translation import gettext as _


def reverse_deleted_project_credits(sender, project, actor=None, reason="", **kwargs):
    """A published project was soft-deleted: reverse every credit it produced (never drop them silently)."""
    from .services import ledger_reverse_project

    text = _("Project deleted: %(reason)s") % {"reason": reason} if reason else _("Project deleted")
    ledger_reverse_project(actor=actor, project=project, reason=text)


def register_panels() -> None:
    from peixun.core.home import register_home_panel

    from . import panels

    register_home_panel(panels.teacher_panel)
    register_home_panel(panels.bureau_panel)
