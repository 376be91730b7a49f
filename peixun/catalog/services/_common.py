"""Helpers shared by the catalog services: locking, responsibility, events, notifications."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from peixun.accounts.models import User
from peixun.core.errors import Conflict, PermissionDenied
from peixun.core.roles import BUREAU_ROLES, Role
from peixun.core.scopes import Actor
from peixun.core.services import notify
from peixun.orgs.models import Institution, Region

from ..models import Project, ProjectEvent

S = Project.Status


def lock_project(project: Project) -> Project:
    """Re-read the project under a row lock (the one lock order: project, then quota/cap, then staff)."""
    locked = Project.objects.select_for_update().get(pk=project.pk)
    # Keep cached relations the caller already loaded (term windows, institution).
    for name in ("term", "institution", "region"):
        if name in project._state.fields_cache:
            locked._state.fields_cache[name] = project._state.fields_cache[name]
    return locked


def require_status(project: Project, *allowed: str, message: str | None = None) -> None:
    if project.status not in allowed:
        raise Conflict(
            message
            or _("This is not possible while the project is %(status)s.") % {"status": project.get_status_display()},
            details={"status": project.status},
        )


def is_responsible(actor: Actor, project: Project) -> bool:
    """The bureau matching the project's 培训层次 and region reviews, publishes and approves changes."""
    return actor.role in BUREAU_ROLES and actor.region is not None and actor.region.pk == project.region_id


def require_responsible(actor: Actor, project: Project, *, province_may: bool = False) -> None:
    if is_responsible(actor, project):
        return
    if province_may and actor.role == Role.PROVINCE:
        return
    raise PermissionDenied(
        _("Only the responsible bureau (%(region)s) may do this for this project.") % {"region": project.region.name},
        details={"responsible_region": project.region_id},
    )


def province_region() -> Region:
    region = Region.objects.filter(level=Region.Level.PROVINCE).order_by("pk").first()
    if region is None:
        raise Conflict(_("The province has not been set up."))
    return region


def project_link(project: Project) -> str:
    return reverse("catalog:project_detail", args=[project.pk])


def event(project: Project, kind: str, actor: Actor | None, note: str = "", data: dict | None = None) -> ProjectEvent:
    return ProjectEvent.objects.create(
        project=project,
        kind=kind,
        user=actor.user if actor and actor.user.pk else None,
        role=actor.role if actor else "",
        note=note,
        data=data or {},
    )


def institution_users(institution: Institution):
    return User.objects.filter(
        is_active=True, grants__institution=institution, grants__role=Role.INSTITUTION, grants__is_active=True
    ).distinct()


def bureau_users(region: Region):
    return User.objects.filter(
        is_active=True, grants__region=region, grants__role__in=BUREAU_ROLES, grants__is_active=True
    ).distinct()


def notify_institution(project: Project, title: str, body: str = "", kind: str = "catalog") -> int:
    return notify(institution_users(project.institution), title=title, body=body, link=project_link(project), kind=kind)


def notify_bureau(project: Project, title: str, body: str = "", kind: str = "catalog") -> int:
    return notify(bureau_users(project.region), title=title, body=body, link=project_link(project), kind=kind)


def clean_text(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
