"""The fair allocation demo step: a fair-mode term allocated from ranked preferences, verifiable."""

import random

import pytest
from django.utils import timezone

from peixun.core.demodata import DemoContext
from peixun.core.models import Job
from peixun.core.roles import Role
from peixun.enrollment import demo_allocation
from peixun.enrollment.models import AllocationResult, AllocationRun, Enrollment
from peixun.enrollment.services.allocation import allocation_verify
from peixun.terms.models import Term
from peixun.terms.windows import current_term
from tests.factories import (
    InstitutionFactory,
    SchoolFactory,
    StaffMemberFactory,
    TeacherFactory,
    TermFactory,
    make_actor,
    term_windows_open,
)

pytestmark = pytest.mark.django_db


def test_demo_term_is_allocated_and_verifiable(province, county, school, django_capture_on_commit_callbacks):
    current = TermFactory(code="2026H2", name="2026年下半年")
    term_windows_open(current, "select_r1", "training")  # the demo's current term spans today
    StaffMemberFactory(institution=InstitutionFactory(province_wide=True))
    province_actor = make_actor(Role.PROVINCE, region=province)
    schools = [school, *(SchoolFactory(county=county) for _ in range(5))]
    teachers = [TeacherFactory(school=schools[n % 6]) for n in range(60)]
    ctx = DemoContext(
        rng=random.Random(1),
        today=timezone.localdate(),
        data={"term": current, "province_actor": province_actor, "counties": [county], "demo_teacher": teachers[3]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        demo_allocation.seed(ctx)
    term = ctx.data["fair_term"]
    assert term.selection_mode == Term.SelectionMode.FAIR and term.code == "2026F2"
    run = AllocationRun.objects.get(term=term)
    assert run.status == AllocationRun.Status.DONE and run.seed == demo_allocation.SEED
    assert run.job.status == Job.Status.SUCCEEDED
    assert AllocationResult.objects.filter(run=run, outcome="allocated").count() == run.counts["allocated"] > 0
    outcomes = set(AllocationResult.objects.filter(run=run).values_list("outcome", flat=True))
    assert {"allocated", "full", "school_cap"} <= outcomes
    assert (
        Enrollment.objects.filter(project_class__project__term=term, state="selected").count()
        == run.counts["allocated"]
    )
    assert AllocationResult.objects.filter(run=run, teacher=teachers[3]).exists()
    assert allocation_verify(actor=province_actor, run=run).same
    assert current_term() != term  # the demo term never takes over as "the current term"
