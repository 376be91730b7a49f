"""Pages of the fair allocation mode: the teacher's ranked preferences and results (phone first),
the allocation runs with their outcomes and reasons (province, bureaus, schools, institutions)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from peixun.catalog.models import ProjectClass
from peixun.core.decorators import roles_required
from peixun.core.errors import DomainError, NotFound
from peixun.core.exports import export_or_job
from peixun.core.forms import Form
from peixun.core.lists import paginate
from peixun.core.roles import Role
from peixun.core.scopes import can, require
from peixun.orgs.models import School
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import current_term, get_window, is_open

from . import selectors_allocation as sel
from .models import AllocationResult, AllocationRun
from .services import allocation as services

VIEWERS = (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL, Role.INSTITUTION, Role.MONITOR, Role.TEACHER)


class StartForm(Form):
    seed = forms.IntegerField(
        label=gettext_lazy("Random seed (optional)"),
        required=False,
        min_value=0,
        max_value=services.MAX_SEED,
        help_text=gettext_lazy("Leave empty to draw one at random; it is recorded with the run either way."),
    )


def _fair_term(request) -> Term | None:
    """The fair-mode term asked for (?term=), else the current term if fair, else the latest fair term."""
    terms = sel.fair_terms()
    wanted = request.GET.get("term") or request.POST.get("term")
    if wanted:
        if not str(wanted).isdigit():
            raise NotFound(_("The object does not exist or is outside your scope."))
        term = terms.filter(pk=int(wanted)).first()
        if term is None:
            raise NotFound(_("The object does not exist or is outside your scope."))
        return term
    current = current_term()
    if current is not None and current.selection_mode == Term.SelectionMode.FAIR:
        return current
    return terms.first()


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() and len(str(value)) < 12 else None


@roles_required(Role.TEACHER)
def my_preferences(request):
    actor = request.actor
    term = _fair_term(request)
    if term is None:
        return render(request, "enrollment/allocation/no_fair_term.html", {"current": current_term()})
    here = f"{reverse('enrollment:allocation_mine')}?term={term.pk}"
    if request.method == "POST":
        action = request.POST.get("action", "")
        class_id = _int(request.POST.get("class"))
        try:
            if action == "add" and class_id:
                klass = ProjectClass.objects.filter(pk=class_id).first()
                if klass is None:
                    raise NotFound(_("The object does not exist or is outside your scope."))
                pref = services.preference_add(actor=actor, project_class=klass)
                messages.success(request, _("Added as choice no. %(rank)s.") % {"rank": pref.rank})
            elif action == "remove" and class_id:
                services.preference_remove(actor=actor, term=term, project_class_id=class_id)
                messages.success(request, _("Removed from your preferences."))
            elif action in ("up", "down") and class_id:
                services.preference_move(actor=actor, term=term, project_class_id=class_id, up=action == "up")
            elif action == "wanted":
                wanted = _int(request.POST.get("wanted"))
                services.preference_set_wanted(actor=actor, term=term, wanted=wanted if wanted is not None else -1)
                messages.success(request, _("Saved."))
            else:
                messages.error(request, _("The request data is invalid."))
        except DomainError as exc:
            messages.error(request, exc.message)
        query = request.POST.get("q", "")
        return redirect(f"{here}&q={query}" if query else here)

    plist, prefs = sel.my_preferences(actor=actor, term=term)
    window = get_window(term, WindowKind.SELECT_R1)
    window_open = is_open(term, WindowKind.SELECT_R1)
    run = sel.latest_run(term)
    results = sel.my_results(actor=actor, run=run) if run and run.status == AllocationRun.Status.DONE else None
    candidates = None
    if window_open:
        teacher = sel.teacher_of(actor)
        qs = sel.candidate_classes(
            actor=actor,
            term=term,
            teacher=teacher,
            q=request.GET.get("q", ""),
            exclude=[p.project_class_id for p in prefs],
        )
        candidates = paginate(request, qs, per_page=10)
    return render(
        request,
        "enrollment/allocation/mine.html",
        {
            "term": term,
            "plist": plist,
            "prefs": prefs,
            "window": window,
            "window_open": window_open,
            "window_upcoming": window is not None and timezone.now() < window.starts_at,
            "run": run,
            "results": results,
            "state": candidates,
            "max_preferences": services.MAX_PREFERENCES,
            "wanted_choices": range(1, term.per_teacher_limit + 1),
            "terms": sel.fair_terms(),
        },
    )


@roles_required(*VIEWERS)
def allocation_home(request):
    """Runs of a fair-mode term: start one (province), watch them, open their outcomes."""
    actor = request.actor
    require(actor, "enrollment.allocation.view")
    term = _fair_term(request)
    form = None
    if term is not None and can(actor, "enrollment.allocation.run"):
        form = StartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = services.allocation_start(actor=actor, term=term, seed=form.cleaned_data["seed"])
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, _("The allocation run has started; it runs as a background job."))
                return redirect("enrollment:allocation_run", pk=run.pk)
    context = {"term": term, "terms": sel.fair_terms(), "form": form}
    if term is not None:
        window = get_window(term, WindowKind.SELECT_R1)
        context.update(
            live_run=sel.latest_run(term),
            runs=sel.run_list(actor=actor, term=term)[:20],
            window=window,
            window_closed=window is not None and timezone.now() >= window.ends_at,
            submitted=sel.submission_counts(actor=actor, term=term) if actor.role != Role.TEACHER else None,
        )
    return render(request, "enrollment/allocation/home.html", context)


@roles_required(*VIEWERS)
def run_detail(request, pk):
    actor = request.actor
    run = sel.run_get(actor=actor, run_id=pk)
    verification = None
    if request.method == "POST" and request.POST.get("action") == "verify":
        try:
            verification = services.allocation_verify(actor=actor, run=run)
        except DomainError as exc:
            messages.error(request, exc.message)
    filters = sel.result_filters(request.GET)
    if request.GET.get("export"):
        require(actor, "enrollment.allocation.export")
        params = {key: request.GET.get(key, "") for key in ("outcome", "school", "q")}
        return export_or_job(request, "enrollment.allocation", {"run": str(run.pk), **params})
    qs = sel.results(actor=actor, run=run, **filters)
    state = paginate(request, qs)
    summaries = sel.class_summaries(actor=actor, run=run) if run.status == AllocationRun.Status.DONE else []
    schools = None
    if actor.role in (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.MONITOR):
        ids = sel.results(actor=actor, run=run).order_by().values("school_id").distinct()
        schools = School.objects.filter(pk__in=ids).order_by("code")[:300]
    return render(
        request,
        "enrollment/allocation/run_detail.html",
        {
            "run": run,
            "state": state,
            "summaries": summaries[:30],
            "more_classes": max(0, len(summaries) - 30),
            "outcomes": AllocationResult.Outcome.choices,
            "schools": schools,
            "verification": verification,
            "is_teacher": actor.role == Role.TEACHER,
            "can_export": run.status == AllocationRun.Status.DONE and can(actor, "enrollment.allocation.export"),
        },
    )
