"""Pages of course selection: teacher (phone first), school review, institution 复核 and 扩班, bureau 扩班."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from peixun.core.decorators import roles_required
from peixun.core.errors import DomainError, NotFound
from peixun.core.lists import paginate
from peixun.core.roles import Role
from peixun.core.scopes import get_visible

from . import selectors, services
from .models import ClassExpansion, Enrollment
from .services._common import actor_teacher

S = Enrollment.State
ES = ClassExpansion.Status


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
    if request.method == "POST":
        # The rush's page path: the service reads the teacher and the class itself (scoped), so nothing
        # is read here first.
        class_id = _int(request.POST.get("class"))
        back = _back(request, request.path)
        try:
            if class_id is None:
                raise NotFound(_("The object does not exist or is outside your scope."))
            e = services.enrollment_select(
                actor=actor, project_class=class_id, request_key=request.POST.get("request_key", "")
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
    teacher = actor_teacher(actor)
    term = selectors.term_for(_int(request.GET.get("term")))
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
    rounds = selectors.round_state(term, school=teacher.school)
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
            "elsewhere": selectors.open_elsewhere(term, services.SELECT_WINDOWS.values()),
        },
    )


@roles_required(Role.TEACHER)
def mine(request):
    """The teacher's selections in every state, with the waitlist number, reasons and a withdraw button."""
    actor = request.actor
    teacher = actor_teacher(actor)
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
        {
            "rows": rows,
            "term": term,
            "rounds": selectors.round_state(term, school=teacher.school),
            "today": today,
            "elsewhere": selectors.open_elsewhere(term, services.SELECT_WINDOWS.values()),
        },
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


def _bulk_message(request, result, done_text: str) -> None:
    if result.done:
        messages.success(request, done_text % {"n": len(result.done)})
    if result.promoted:
        messages.info(
            request,
            _("%(n)s teachers were moved up from the waitlist into the freed seats.") % {"n": len(result.promoted)},
        )
    if result.skipped:
        messages.warning(
            request,
            _("%(n)s were skipped: %(why)s")
            % {"n": len(result.skipped), "why": "；".join({w for _pk, w in result.skipped})},
        )


def _act(request) -> tuple[str, list[str]]:
    """The bulk form's button: ``approve`` / ``reject`` for the ticked rows, ``approve:ID`` for one row."""
    act = request.POST.get("act", "")
    decision, _sep, one = act.partition(":")
    ids = [one] if one else request.POST.getlist("ids")
    return decision, ids


def _tabs(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(value, label, counts.get(value, 0)) for value, label in S.choices]


# --- school review --------------------------------------------------------------------------------


@roles_required(Role.SCHOOL)
def review(request):
    """校长审核: the school's teachers' selections with filters; approve or reject one by one or in bulk."""
    actor = request.actor
    term = selectors.term_for(_int(request.GET.get("term")))
    state_filter = request.GET.get("state", S.SELECTED)
    if state_filter not in S.values:
        state_filter = ""
    if request.method == "POST":
        decision, ids = _act(request)
        try:
            result = services.enrollments_review(
                actor=actor, enrollments=ids, decision=decision, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            _bulk_message(
                request,
                result,
                _("%(n)s selections approved.") if decision == "approve" else _("%(n)s selections rejected."),
            )
        return redirect(_back(request, request.get_full_path()))
    params = {
        "term": term.pk if term else "",
        "state": state_filter,
        "round": request.GET.get("round", ""),
        "q": request.GET.get("q", ""),
    }
    if request.GET.get("export"):
        from peixun.core.exports import export_or_job

        return export_or_job(request, "enrollment.review", params)
    qs = selectors.review_list(
        actor=actor, term=term, state=state_filter, round=_int(request.GET.get("round")), query=request.GET.get("q", "")
    )
    base = selectors.review_list(actor=actor, term=term, state="")
    return render(
        request,
        "enrollment/review.html",
        {
            "state": paginate(request, qs, per_page=50),
            "term": term,
            "terms": selectors.terms(),
            "state_filter": state_filter,
            "tabs": _tabs(selectors.state_counts(base)),
            "windows": selectors.stage_windows(term, services.REVIEW_WINDOWS),
            "can_decide": selectors.any_open(term, services.REVIEW_WINDOWS),
            "elsewhere": selectors.open_elsewhere(term, services.REVIEW_WINDOWS),
        },
    )


# --- institution and bureau: classes, 复核, rosters, 扩班 ---------------------------------------------


# The windows in which an institution acts on its classes (扩班 requests, 复核); bureaus decide 扩班 in between.
CLASS_WINDOWS = (
    selectors.K.EXPAND_REQUEST,
    selectors.K.EXPAND_ACCEPT,
    *services.CONFIRM_WINDOWS,
)
ROSTER_ROLES = (Role.INSTITUTION, Role.INSTITUTION_REVIEWER, Role.PROVINCE, Role.CITY, Role.COUNTY, Role.MONITOR)


@roles_required(*ROSTER_ROLES)
def class_list(request):
    actor = request.actor
    term = selectors.term_for(_int(request.GET.get("term")))
    qs = selectors.class_list(actor=actor, term=term, query=request.GET.get("q", ""))
    return render(
        request,
        "enrollment/class_list.html",
        {
            "state": paginate(request, qs),
            "term": term,
            "terms": selectors.terms(),
            "today": timezone.localdate(),
            "windows": selectors.stage_windows(term, CLASS_WINDOWS),
            "elsewhere": selectors.open_elsewhere(term, CLASS_WINDOWS if actor.role == Role.INSTITUTION else ()),
        },
    )


@roles_required(*ROSTER_ROLES)
def class_detail(request, pk):
    """A class's enrollments; the institution confirms or declines (复核) and asks for 扩班 here."""
    actor = request.actor
    project_class = selectors.class_get(actor=actor, class_id=pk)
    term = project_class.project.term
    is_owner = actor.role == Role.INSTITUTION and project_class.project.institution_id == actor.institution.pk
    if request.method == "POST" and is_owner:
        try:
            if request.POST.get("form") == "expand":
                services.expansion_request(
                    actor=actor,
                    project_class=project_class,
                    seats=request.POST.get("seats"),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("The class expansion request has been sent to the responsible bureau."))
            else:
                decision, ids = _act(request)
                result = services.enrollments_confirm(
                    actor=actor, enrollments=ids, decision=decision, reason=request.POST.get("reason", "")
                )
                _bulk_message(
                    request,
                    result,
                    _("%(n)s trainees confirmed on the roster.") if decision == "approve" else _("%(n)s declined."),
                )
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(_back(request, request.get_full_path()))
    state_filter = request.GET.get("state", "")
    if state_filter not in S.values:
        state_filter = ""
    qs = selectors.class_enrollments(actor=actor, project_class=project_class, state=state_filter)
    state = paginate(request, qs, per_page=50)
    selectors.with_waitlist_ranks(state.rows)
    return render(
        request,
        "enrollment/class_detail.html",
        {
            "pc": project_class,
            "state": state,
            "state_filter": state_filter,
            "tabs": _tabs(selectors.state_counts(Enrollment.objects.filter(project_class=project_class))),
            "is_owner": is_owner,
            "can_confirm": is_owner and selectors.any_open(term, services.CONFIRM_WINDOWS),
            "can_expand": is_owner and selectors.any_open(term, (selectors.K.EXPAND_REQUEST,)),
            "confirm_windows": selectors.stage_windows(term, services.CONFIRM_WINDOWS),
            "expand_windows": selectors.stage_windows(term, (selectors.K.EXPAND_REQUEST, selectors.K.EXPAND_ACCEPT)),
            "expansions": project_class.expansions.select_related("requested_by", "decided_by")[:10],
            "expansion_max": services.EXPANSION_MAX,
        },
    )


@roles_required(*ROSTER_ROLES)
def roster(request, pk):
    """The confirmed class roster, printable and exportable."""
    actor = request.actor
    project_class = selectors.class_get(actor=actor, class_id=pk)
    if request.GET.get("export"):
        from peixun.core.exports import export_or_job

        return export_or_job(request, "enrollment.roster", {"class": str(project_class.pk)})
    from .exports import roster_headers, roster_row

    rows = [roster_row(n, e) for n, e in enumerate(selectors.roster(actor=actor, project_class=project_class), start=1)]
    return render(
        request,
        "enrollment/roster.html",
        {"pc": project_class, "headers": roster_headers(), "rows": rows, "printed_at": timezone.localtime()},
    )


@roles_required(Role.INSTITUTION, Role.PROVINCE, Role.CITY, Role.COUNTY, Role.MONITOR)
def expansion_list(request):
    """扩班: the institution's requests; the bureau's requests to decide (all, part or none). All terms by default."""
    actor = request.actor
    term_id = _int(request.GET.get("term"))
    term = selectors.term_for(term_id) if term_id else None
    if request.method == "POST":
        expansion = selectors.expansion_get(actor=actor, expansion_id=_int(request.POST.get("expansion")) or 0)
        try:
            x = services.expansion_decide(
                actor=actor,
                expansion=expansion,
                seats_accepted=request.POST.get("seats_accepted"),
                note=request.POST.get("note", ""),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Decided: %(status)s, %(seats)s seats, %(promoted)s teachers moved up from the waitlist.")
                % {"status": x.get_status_display(), "seats": x.seats_accepted, "promoted": x.promoted},
            )
        return redirect(_back(request, request.get_full_path()))
    status = request.GET.get("status", "")
    qs = selectors.expansion_list(actor=actor, term=term, status=status if status in ES.values else "")
    state = paginate(request, qs)
    accept_open: dict[int, bool] = {}
    for x in state.rows:
        term_id = x.project_class.project.term_id
        if term_id not in accept_open:
            accept_open[term_id] = selectors.any_open(selectors.term_for(term_id), (selectors.K.EXPAND_ACCEPT,))
        x.accept_open = accept_open[term_id]
    return render(
        request,
        "enrollment/expansion_list.html",
        {
            "state": state,
            "term": term,
            "terms": selectors.terms(),
            "statuses": ES.choices,
            "status": status,
            "can_decide": actor.role in (Role.PROVINCE, Role.CITY, Role.COUNTY),
            "windows": selectors.stage_windows(
                term or selectors.term_for(), (selectors.K.EXPAND_REQUEST, selectors.K.EXPAND_ACCEPT)
            ),
            "elsewhere": selectors.open_elsewhere(
                term or selectors.term_for(), (selectors.K.EXPAND_REQUEST, selectors.K.EXPAND_ACCEPT)
            ),
        },
    )
