from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from peixun.core.decorators import actor_required
from peixun.core.errors import DomainError
from peixun.core.scopes import can, require

from . import selectors, services
from .forms import BatchForm, ExtendForm, TermCreateForm, TermSettingsForm, WindowForm
from .windows import PAUSABLE, WINDOW_ROLES, current_term, states


@actor_required
def term_list(request):
    terms = list(selectors.term_list(actor=request.actor).prefetch_related("windows"))
    current = current_term()
    return render(
        request,
        "terms/term_list.html",
        {"terms": terms, "current": current, "can_manage": can(request.actor, "terms.term.manage")},
    )


@actor_required
def term_create(request):
    require(request.actor, "terms.term.manage")
    form = TermCreateForm(request.POST or None, initial={"selection_mode": "fcfs"})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            term = services.term_create_from_preset(
                actor=request.actor, code=data.pop("code"), name=data.pop("name"), year=data.pop("year"), **data
            )
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Term %(name)s has been created from the preset.") % {"name": term.name})
            return redirect("terms:term_detail", pk=term.pk)
    return render(request, "generic_form.html", {"form": form, "title": _("New term from the 2024 H1 preset")})


@actor_required
def term_detail(request, pk):
    actor = request.actor
    term = selectors.term_get(actor=actor, term_id=pk)
    can_manage = can(actor, "terms.term.manage")
    can_extend = can(actor, "terms.window.extend")
    settings_form = None
    if can_manage:
        initial = {f: getattr(term, f) for f in services.TERM_SETTINGS}
        posted = request.method == "POST" and request.POST.get("form") == "settings"
        settings_form = TermSettingsForm(request.POST if posted else None, initial=initial)
        if posted and settings_form.is_valid():
            try:
                services.term_update(actor=actor, term=term, **settings_form.cleaned_data)
            except DomainError as exc:
                settings_form.add_domain_error(exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("terms:term_detail", pk=pk)
    can_pause = can(actor, "terms.round.pause")
    if request.method == "POST" and request.POST.get("form") in ("pause", "resume") and can_pause:
        try:
            if request.POST["form"] == "pause":
                services.round_pause(
                    actor=actor, term=term, kind=request.POST.get("kind", ""), notice=request.POST.get("notice", "")
                )
                messages.success(request, _("The round is paused; teachers see your notice."))
            else:
                pause = selectors.pause_get(actor=actor, term=term, pause_id=request.POST.get("pause"))
                services.round_resume(actor=actor, pause=pause)
                messages.success(request, _("The round has resumed; its window is extended by the paused time."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("terms:term_detail", pk=pk)
    selection_kinds = [(s.window.kind, s.label) for s in states(term) if s.window.kind in PAUSABLE]
    batch_posted = request.method == "POST" and request.POST.get("form") == "batch" and can_manage
    batch_form = BatchForm(request.POST if batch_posted else None, kinds=selection_kinds) if can_manage else None
    if batch_posted and batch_form.is_valid():
        data = batch_form.cleaned_data
        try:
            services.batch_create(
                actor=actor,
                term=term,
                kind=data["kind"],
                name=data["name"],
                opens_at=data["opens_at"],
                regions=data["regions"],
                schools=data["school_codes"],
            )
        except DomainError as exc:
            batch_form.add_domain_error(exc)
        else:
            messages.success(request, _("The batch has been added."))
            return redirect("terms:term_detail", pk=pk)
    if request.method == "POST" and request.POST.get("form") == "batch_delete" and can_manage:
        try:
            services.batch_delete(
                actor=actor, batch=selectors.batch_get(actor=actor, batch_id=request.POST.get("batch"))
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The batch has been removed."))
        return redirect("terms:term_detail", pk=pk)
    rows = [
        {
            "state": s,
            "roles": sorted(WINDOW_ROLES.get(s.window.kind, ())),
            "mine": actor.role in WINDOW_ROLES.get(s.window.kind, ()),
        }
        for s in states(term)
    ]
    return render(
        request,
        "terms/term_detail.html",
        {
            "term": term,
            "rows": rows,
            "can_manage": can_manage,
            "can_extend": can_extend,
            "settings_form": settings_form,
            "extensions": selectors.extensions(actor=actor, term=term),
            "can_pause": can_pause,
            "pausable": [s for s in states(term) if s.is_open and s.window.kind in PAUSABLE],
            "pauses": selectors.pauses(actor=actor, term=term),
            "batches": selectors.batches(actor=actor, term=term),
            "batch_form": batch_form,
        },
    )


@actor_required
def window_edit(request, pk):
    window = selectors.window_get(actor=request.actor, window_id=pk)
    require(request.actor, "terms.term.manage")
    form = WindowForm(request.POST or None, initial={"starts_at": window.starts_at, "ends_at": window.ends_at})
    if request.method == "POST" and form.is_valid():
        try:
            services.window_set(actor=request.actor, term=window.term, kind=window.kind, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("terms:term_detail", pk=window.term_id)
    title = f"{window.term.name} · {window.get_kind_display()}"
    return render(request, "generic_form.html", {"form": form, "title": title})


@actor_required
def window_extend(request, pk):
    window = selectors.window_get(actor=request.actor, window_id=pk)
    require(request.actor, "terms.window.extend")
    form = ExtendForm(request.POST or None, initial={"new_ends_at": window.ends_at})
    if request.method == "POST" and form.is_valid():
        try:
            services.window_extend(actor=request.actor, window=window, **form.cleaned_data)
        except DomainError as exc:
            form.add_domain_error(exc)
        else:
            messages.success(request, _("The window has been extended."))
            return redirect("terms:term_detail", pk=window.term_id)
    title = _("Extend %(window)s") % {"window": f"{window.term.name} · {window.get_kind_display()}"}
    return render(request, "generic_form.html", {"form": form, "title": title})
