"""Pages of course selection: teacher (phone first), school review, institution 复核 and 扩班, bureau 扩班."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from peixun.catalog.models import ProjectClass
from peixun.core.decorators import roles_required
from peixun.core.errors import DomainError, NotFound
from peixun.core.lists import paginate
from peixun.core.roles import Role
from peixun.core.scopes import get_visible

from . import selectors, services
from .models import Enrollment
from .services._common import actor_teacher

S = Enrollment.State


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _back(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


# --- teacher ------------------------------------------------------------------------------------


@roles_required(Role.TEACHER)
def select(request):
    """The classes that match the teacher, with seats, fees, credits and their effect on progress."""
    actor = request.actor
    teacher = actor_teacher(actor)
    term = selectors.term_for(_int(request.GET.get("term")))
    if request.method == "POST":
        project_class = ProjectClass.objects.filter(pk=_int(request.POST.get("class"))).first()
        back = _back(request, request.path)
        if project_class is None:
            messages.error(request, _("The object does not exist or is outside your scope."))
            return redirect(back)
        try:
            e = services.enrollment_select(
                actor=actor, project_class=project_class, request_key=request.POST.get("request_key", "")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        if e.state == S.WAITLISTED:
            messages.warning(
                request,
                _("The class is full: you are number %(rank)s on its waitlist and will be told when a seat is yours.")
                % {"rank": services.waitlist_rank(e)},
            )
        elif e.state == S.SELECTED:
            messages.success(request, _("Selected. Your school will review your selection."))
        else:
            messages.info(request, _("This request was already handled: %(state)s.") % {"state": e.get_state_display()})
        return redirect("enrollment:mine")
    rows, state, mine = [], None, []
    if term is not None:
        state = paginate(
            request,
            selectors.selectable_classes(
                actor=actor,
                teacher=teacher,
                term=term,
                query=request.GET.get("q", ""),
                seats_only=bool(request.GET.get("seats")),
            ),
            per_page=10,
        )
        mine = list(selectors.my_enrollments(actor=actor).filter(state__in=Enrollment.ACTIVE))
        held = {e.project_class_id: e for e in mine}
        preview = selectors.CreditPreview(actor, teacher)
        for pc in state.rows:
            pc.mine = held.get(pc.pk)
            pc.effect = preview.effect(pc.project)
            pc.clash = next(
                (
                    e
                    for e in mine
                    if e.project_class_id != pc.pk
                    and e.project_class.starts_on <= pc.ends_on
                    and e.project_class.ends_on >= pc.starts_on
                ),
                None,
            )
            rows.append(pc)
    rounds = selectors.round_state(term)
    return render(
        request,
        "enrollment/select.html",
        {
            "term": term,
            "state": state,
            "rows": rows,
            "rounds": rounds,
            "now": timezone.now(),
            "active_count": len([e for e in mine if e.project_class.project.term_id == getattr(term, "pk", None)]),
            "request_key": uuid.uuid4().hex,
            "fair": term is not None and term.selection_mode == term.SelectionMode.FAIR,
        },
    )


@roles_required(Role.TEACHER)
def mine(request):
    """The teacher's selections in every state, with the waitlist number, reasons and a withdraw button."""
    actor = request.actor
    actor_teacher(actor)
    term = selectors.term_for(_int(request.GET.get("term")))
    rows = selectors.with_waitlist_ranks(selectors.my_enrollments(actor=actor).order_by("-created_at", "-pk")[:100])
    today = timezone.localdate()
    for e in rows:
        pc = e.project_class
        e.can_withdraw = (
            e.state in Enrollment.ACTIVE and pc.ends_on >= today and (pc.starts_on > today or e.free_withdrawal)
        )
    return render(
        request,
        "enrollment/mine.html",
        {"rows": rows, "term": term, "rounds": selectors.round_state(term), "today": today},
    )


@roles_required(Role.TEACHER)
def withdraw(request, pk):
    actor = request.actor
    if request.method != "POST":
        return redirect("enrollment:mine")
    enrollment = get_visible(actor, Enrollment.objects.all(), pk=pk)
    try:
        services.enrollment_withdraw(actor=actor, enrollment=enrollment, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You have withdrawn."))
    return redirect("enrollment:mine")


def _not_found():
    raise NotFound(_("The object does not exist or is outside your scope."))
