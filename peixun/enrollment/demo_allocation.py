"""Demo of the fair allocation mode: a term whose round 1 went by ranked preferences.

A separate small term (code ``<year>F<half>``, sorting after the current term so it never
becomes "the current term"), in fair mode with a 30% school share cap. Its ranking window
closed yesterday; teachers of the first county (demo_teacher among them) ranked its classes,
and the province's allocation run (fixed seed) is done once the demo data is committed, so the
priority scores see the credits that later apps post: teachers, principals and bureaus see the
outcomes and reasons, and anyone may verify the run.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from peixun.catalog.models import Project, ProjectClass, StaffMember
from peixun.core.services import job_finish
from peixun.orgs.models import Institution
from peixun.roster.models import Teacher
from peixun.terms.models import Term, Window, WindowKind
from peixun.terms.windows import day_end, day_start

from .models import Preference, PreferenceList
from .services import allocation as services

SEED = 20240307
# Windows relative to today: ranking closed yesterday; review and 复核 are ahead.
WINDOWS = {
    WindowKind.SELECT_R1: (-7, -1),
    WindowKind.PRINCIPAL_R1: (0, 4),
    WindowKind.EXPAND_REQUEST: (5, 5),
    WindowKind.EXPAND_ACCEPT: (6, 6),
    WindowKind.CONFIRM_R1: (7, 8),
    WindowKind.SELECT_R2: (9, 10),
    WindowKind.PRINCIPAL_R2: (10, 11),
    WindowKind.CONFIRM_R2: (12, 12),
}
CLASSES = [  # (project name, classes, capacity)
    ("乡村教师课堂教学能力提升（志愿分配示范）", 2, 6),
    ("新课标大单元教学设计（志愿分配示范）", 2, 8),
    ("信息技术与学科融合（志愿分配示范）", 1, 10),
]


def seed(ctx) -> None:
    today = ctx.today
    current: Term = ctx.data["term"]
    province_actor = ctx.data["province_actor"]
    code = current.code.replace("H", "F", 1)
    term = Term.objects.create(
        code=code, name=f"{current.name}·志愿分配示范", selection_mode=Term.SelectionMode.FAIR, school_share_cap=30
    )
    Window.objects.bulk_create(
        Window(
            term=term,
            kind=kind,
            starts_at=day_start(today + timedelta(days=first)),
            ends_at=day_end(today + timedelta(days=last)),
        )
        for kind, (first, last) in WINDOWS.items()
    )
    institution = Institution.objects.filter(province_wide=True).order_by("code").first()
    leader = StaffMember.objects.filter(institution=institution, is_formal_employee=True).order_by("pk").first()
    province = province_actor.region
    classes = []
    start = today + timedelta(days=40)
    for n, (name, count, capacity) in enumerate(CLASSES):
        project = Project.objects.create(
            term=term,
            institution=institution,
            code=f"{term.code}-{institution.code}-{n + 1:03d}",
            name=name,
            theme="课堂教学改进",
            field="subject_teaching",
            subject_category="general",
            level="provincial",
            region=province,
            credit_category="tongchou",
            format="face",
            days=3,
            hours_offline=Decimal("24"),
            credits=Decimal("2.4"),
            goals="提升课堂教学能力",
            content="专题讲座、课堂观摩、研讨交流",
            fee_total=Decimal("900"),
            fee_training=Decimal("600"),
            fee_accommodation=Decimal("200"),
            fee_meals=Decimal("100"),
            leader=leader,
            status=Project.Status.PUBLISHED,
            published_at=timezone.now(),
        )
        for k in range(count):
            first = start + timedelta(days=14 * n + 5 * k)
            classes.append(
                ProjectClass.objects.create(
                    project=project,
                    number=k + 1,
                    starts_on=first,
                    ends_on=first + timedelta(days=2),
                    place=f"{institution.name}本部",
                    capacity=capacity,
                )
            )

    # Teachers of the first county rank 1–3 classes; demo_teacher ranks the most wanted ones.
    demo_teacher = ctx.data.get("demo_teacher")
    county = ctx.data["counties"][0]
    teachers = list(Teacher.objects.filter(school__county=county, status=Teacher.Status.ACTIVE).order_by("pk")[:60])
    if demo_teacher is not None and demo_teacher not in teachers:
        teachers = [*teachers[:59], demo_teacher]
    rng = ctx.rng
    popular = [classes[0], classes[2], classes[1]]
    for teacher in teachers:
        plist = PreferenceList.objects.create(term=term, teacher=teacher, wanted=1 if rng.random() < 0.8 else 2)
        if teacher == demo_teacher:
            picks = [classes[0], classes[2], classes[4]]
        else:
            picks = rng.sample(popular, k=rng.randint(1, 2)) + rng.sample(classes[3:], k=rng.randint(0, 1))
        for rank, klass in enumerate(dict.fromkeys(picks), start=1):
            Preference.objects.create(preference_list=plist, project_class=klass, rank=rank)

    run = services.allocation_start(actor=province_actor, term=term, seed=SEED)

    def allocate() -> None:
        done = services.allocation_execute(run.pk)
        job_finish(
            done.job, ok=True, message=f"{done.counts['allocated']} / {done.counts['teachers']}", result=done.counts
        )

    # Once the whole demo is committed, so the priority scores see the credits the later apps post.
    transaction.on_commit(allocate)
    ctx.data["fair_term"] = term
