"""Demo data of course selection (run by ``manage.py seed_demo`` in INSTALLED_APPS order)."""

from . import demo_allocation, demo_phases, demo_selection


def seed(ctx) -> None:
    demo_selection.seed(ctx)  # enrollments in every state: last term's rosters, this term's round 1 live
    demo_allocation.seed(ctx)  # the fair allocation mode: a term allocated from ranked preferences
    demo_phases.seed(ctx)  # one small term per later step (review, 扩班, 复核, round 2), its window open now
