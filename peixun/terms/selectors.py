"""Reads of terms and windows. Terms are public to every signed-in role."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from peixun.core.scopes import Actor, get_visible, visible

from .models import OpeningBatch, RoundPause, Term, Window, WindowExtension


def term_list(*, actor: Actor) -> QuerySet[Term]:
    return visible(actor, Term.objects.annotate(window_count=Count("windows"))).order_by("-code")


def term_get(*, actor: Actor, term_id: int) -> Term:
    return get_visible(actor, Term.objects.prefetch_related("windows"), pk=term_id)


def window_get(*, actor: Actor, window_id: int) -> Window:
    return get_visible(actor, Window.objects.select_related("term"), pk=window_id)


def extensions(*, actor: Actor, term: Term) -> QuerySet[WindowExtension]:
    return visible(actor, WindowExtension.objects.filter(window__term=term).select_related("window", "created_by"))


def pauses(*, actor: Actor, term: Term) -> QuerySet[RoundPause]:
    return visible(
        actor,
        RoundPause.objects.filter(window__term=term).select_related("window", "region", "started_by", "ended_by"),
    ).order_by("-started_at", "-pk")


def pause_get(*, actor: Actor, term: Term, pause_id) -> RoundPause:
    try:
        pk = int(pause_id)
    except (TypeError, ValueError):
        pk = 0
    return get_visible(actor, RoundPause.objects.filter(window__term=term).select_related("window__term"), pk=pk)


def batches(*, actor: Actor, term: Term) -> QuerySet[OpeningBatch]:
    return visible(
        actor,
        OpeningBatch.objects.filter(window__term=term).select_related("window").prefetch_related("regions", "schools"),
    ).order_by("window__starts_at", "opens_at", "pk")


def batch_get(*, actor: Actor, batch_id) -> OpeningBatch:
    try:
        pk = int(batch_id)
    except (TypeError, ValueError):
        pk = 0
    return get_visible(actor, OpeningBatch.objects.select_related("window__term"), pk=pk)
