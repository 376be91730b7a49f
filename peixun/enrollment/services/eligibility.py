"""Who may select which class, and when (SPEC §6): the one eligibility check.

``check_eligibility`` is used by first-come-first-served selection here and by the fair allocation
mode (``services.allocation``), so both enforce exactly the same rules.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from peixun.catalog.models import Project, ProjectClass
from peixun.core.choices import Stage, Subject
from peixun.core.hotpath import Bound, Prepared
from peixun.core.roles import Role
from peixun.core.scopes import Actor, visible
from peixun.roster.models import Teacher
from peixun.terms.models import Term, WindowKind
from peixun.terms.windows import (
    remember_windows,
    require_any_open,
    require_batch_open,
    require_not_paused,
    require_open,
    window_relations,
)

from ..models import Enrollment, Preference
from ._common import NotEligible, today_of

# The selection window of each round.
SELECT_WINDOWS = {1: WindowKind.SELECT_R1, 2: WindowKind.SELECT_R2}
SELECTABLE_PROJECT_STATUSES = (Project.Status.PUBLISHED, Project.Status.RUNNING)


def selection_round(term: Term, now: datetime | None = None) -> int:
    """The round whose selection window is open now (1 or 2); ``WindowClosed`` naming the next one otherwise."""
    window = require_any_open(term, [SELECT_WINDOWS[1], SELECT_WINDOWS[2]], now)
    return 1 if window.kind == SELECT_WINDOWS[1] else 2


def took_part_in_round1(teacher: Teacher, term: Term) -> bool:
    """Round 2 is open to the teacher (SPEC §6): they selected a class in round 1 of ``term`` (in the fair
    mode ranking classes in round 1 is the round-1 selection: the allocation may have given them nothing)."""
    return Enrollment.objects.filter(teacher=teacher, round=1, project_class__project__term=term).exists() or (
        term.selection_mode == Term.SelectionMode.FAIR
        and Preference.objects.filter(preference_list__term=term, preference_list__teacher=teacher).exists()
    )


def _selection_class_query(p) -> QuerySet[ProjectClass]:
    targets = Project.target_regions.through.objects.filter(project_id=OuterRef("project_id"))
    # Only teachers select (``enrollment.select``): a teacher's scope, whoever compiles it first.
    teacher_scope = Actor(user=None, role=Role.TEACHER)  # type: ignore[arg-type]
    windows = window_relations("project__term", SELECT_WINDOWS.values())
    return (
        visible(teacher_scope, ProjectClass.objects.annotate(**windows, targets_regions=Exists(targets)))
        .select_related("project__term", "project__institution", *windows)
        .filter(pk=p.class_id)[:1]
    )


_selection_class = Prepared(_selection_class_query, class_id=int)


def _with_windows(found: list[ProjectClass]) -> ProjectClass | None:
    if not found:
        return None
    project_class = found[0]
    remember_windows(project_class.project.term, project_class, SELECT_WINDOWS.values())
    return project_class


def selection_class(class_id: int) -> Bound:
    """The class as selection reads it, in one query: in a teacher's scope, with its project, term and
    institution, the term's selection windows and whether the project targets regions — every fact about
    the class that ``selection_round`` and ``check_eligibility`` read (None when out of scope).
    A statement to ``run()`` (or run together with others)."""
    return _selection_class.bind(class_id=class_id).then(_with_windows)


def _places_query(p, *, request_key: bool) -> QuerySet[Enrollment]:
    wanted = Q(state__in=Enrollment.ACTIVE)
    if request_key:
        wanted |= Q(request_key=p.request_key)
    return (
        Enrollment.objects.filter(wanted, teacher_id=p.teacher_id)
        .select_related("project_class__project__institution")
        .order_by("project_class__starts_on", "pk")
    )


_places = Prepared(lambda p: _places_query(p, request_key=False), teacher_id=int)
_places_or_key = Prepared(lambda p: _places_query(p, request_key=True), teacher_id=int, request_key=str)


def teacher_places(teacher_id: int, *, request_key: str = "") -> Bound:
    """The teacher's active enrollments with class, project and institution (what ``check_eligibility``
    reads about the teacher), earliest class first; with ``request_key``, the enrollment that key created
    comes along in the same query (whatever its state). A statement to ``run()`` (or run together);
    read it after locking the teacher row."""
    if request_key:
        return _places_or_key.bind(teacher_id=teacher_id, request_key=request_key)
    return _places.bind(teacher_id=teacher_id)


def check_eligibility(
    *,
    teacher: Teacher,
    project_class: ProjectClass,
    round: int,  # noqa: A002  (the selection round, 1 or 2)
    now: datetime | None = None,
    check_window: bool = True,
    places: list[Enrollment] | None = None,
) -> None:
    """Raise unless ``teacher`` may take a place (a seat or a waitlist place) in ``project_class`` in ``round``.

    Raises ``WindowClosed`` when the round's selection window is not open (skipped with
    ``check_window=False``, e.g. for an allocation run after the window closed) and ``NotEligible``
    (a ``Conflict``, code ``not_eligible``, with ``details["rule"]``) naming the first rule broken:

    * ``class``: the project is not published, or the class has started;
    * ``teacher``: the teacher is not in post;
    * ``stage`` / ``subject`` / ``region`` / ``rural``: the project's target conditions;
    * ``round2``: round 2 is only for teachers who made a selection in round 1 of the term (in the fair
      mode: who ranked classes in round 1);
    * ``duplicate``: the teacher already holds or queues for a place in this class (or another class
      of the same project);
    * ``overlap``: the class's dates overlap a class the teacher holds or queues for;
    * ``limit``: the term's per-teacher limit (``Term.per_teacher_limit``; waitlist places count).

    Reads only; call it inside the selecting transaction after locking the teacher row so that the
    checks and the insert are not raced by the same teacher's other requests. ``places``: the teacher's
    ``teacher_places`` when the caller has read them already (other rows in it are ignored).
    """
    project = project_class.project
    term = project.term
    if round not in SELECT_WINDOWS:
        raise NotEligible(_("There is no selection round %(round)s.") % {"round": round}, details={"rule": "round"})
    if check_window:
        require_open(term, SELECT_WINDOWS[round], now)
        require_batch_open(term, SELECT_WINDOWS[round], teacher.school, now)
        require_not_paused(term, SELECT_WINDOWS[round], teacher.school.county)
    today = today_of(now)

    def refuse(rule: str, message: str, **details) -> None:
        raise NotEligible(message, details={"rule": rule, **details})

    if project.status not in SELECTABLE_PROJECT_STATUSES or project.deleted_at is not None:
        refuse("class", _("This class is not open for selection."))
    if project_class.starts_on <= today:
        refuse("class", _("This class has already started; it can no longer be selected."))
    if teacher.status != Teacher.Status.ACTIVE:
        refuse("teacher", _("Only teachers in post can select classes."))

    stages = project.stage_list
    if stages and teacher.stage not in stages:
        refuse(
            "stage",
            _("This project is for %(targets)s teachers; you teach at %(mine)s level.")
            % {"targets": project.stage_labels, "mine": Stage(teacher.stage).label},
        )
    subjects = project.subject_list
    if subjects and teacher.subject not in subjects:
        refuse(
            "subject",
            _("This project is for teachers of %(targets)s; you teach %(mine)s.")
            % {"targets": project.subject_labels, "mine": Subject(teacher.subject).label},
        )
    county = teacher.school.county
    # ``selection_class`` says whether there are any: most projects target none, and then no query.
    regions = list(project.target_regions.all()) if getattr(project_class, "targets_regions", True) else []
    if regions and not any(county.path.startswith(r.path) or r.path.startswith(county.path) for r in regions):
        refuse(
            "region",
            _("This project is for teachers in %(regions)s.") % {"regions": "、".join(r.name for r in regions)},
        )
    if project.rural_only and not (teacher.school.is_rural or teacher.school.is_remote):
        refuse("rural", _("This project is for teachers of rural, mountain and island schools only."))

    if round == 2 and not took_part_in_round1(teacher, term):
        refuse("round2", _("Round 2 is only for teachers who selected a class in round 1."))

    # One read of the teacher's active places answers the duplicate, overlap and limit rules.
    if places is None:
        places = teacher_places(teacher.pk).run()
    active = [e for e in places if e.state in Enrollment.ACTIVE]
    for e in active:
        if e.project_class.project_id != project.pk:
            continue
        if e.project_class_id == project_class.pk:
            refuse("duplicate", _("You already have a place in this class."), enrollment=e.pk)
        refuse(
            "duplicate",
            _("You already have a place in class %(number)s of this project.") % {"number": e.project_class.number},
            enrollment=e.pk,
        )
    clash = next(
        (
            e
            for e in active
            if e.project_class.starts_on <= project_class.ends_on and e.project_class.ends_on >= project_class.starts_on
        ),
        None,
    )
    if clash is not None:
        other = clash.project_class
        refuse(
            "overlap",
            _("Its dates overlap %(project)s (%(start)s to %(end)s), which you have already selected.")
            % {"project": other.project.name, "start": other.starts_on.isoformat(), "end": other.ends_on.isoformat()},
            enrollment=clash.pk,
        )
    limit = term.per_teacher_limit
    taken = sum(1 for e in active if e.project_class.project.term_id == term.pk)
    if taken >= limit:
        refuse(
            "limit",
            _(
                "You already have %(taken)s classes this term, the limit set by the province is %(limit)s; withdraw from one first."
            )
            % {"taken": taken, "limit": limit},
            limit=limit,
        )


def matching_q(teacher: Teacher) -> Q:
    """Projects whose target conditions ``teacher`` meets (for lists; ``check_eligibility`` decides)."""
    from peixun.catalog.selectors import teacher_match_q

    return teacher_match_q(teacher)
