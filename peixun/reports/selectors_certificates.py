"""Reads of credit statements and class certificates, scoped to the actor."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from peixun.core.scopes import Actor, get_visible, require, visible
from peixun.credits import selectors as credit_selectors

from .models import IssuedCertificate


def issued_list(*, actor: Actor, teacher_id: int | None = None, kind: str = "", query: str = "") -> QuerySet:
    """Statements and certificates issued for teachers in the actor's scope, newest first."""
    require(actor, "reports.certificate.issue")
    qs = visible(actor, IssuedCertificate.objects.select_related("teacher", "teacher__school", "issued_by"))
    if teacher_id:
        qs = qs.filter(teacher_id=teacher_id)
    if kind in IssuedCertificate.Kind.values:
        qs = qs.filter(kind=kind)
    query = (query or "").strip()
    if query:
        qs = (
            qs.filter(serial=query.upper())
            if len(query) == 12 and query.isalnum()
            else qs.filter(teacher__name__icontains=query)
        )
    return qs.order_by("-issued_at", "-pk")


def issued_get(*, actor: Actor, serial: str) -> IssuedCertificate:
    require(actor, "reports.certificate.issue")
    return get_visible(
        actor,
        IssuedCertificate.objects.select_related("teacher", "teacher__school", "project_class"),
        serial=serial,
    )


def statement_cycles() -> list[tuple[int, str]]:
    """Cycles a statement can be asked for: the current one and the previous (if the policy has it)."""
    rules = credit_selectors.active_rules()
    current = rules.cycle_of(timezone.localdate())
    cycles = [current]
    if current - rules.length >= rules.start_year:
        cycles.append(current - rules.length)
    return [(c, f"{c}–{rules.cycle_bounds(c)[1].year}") for c in cycles]
