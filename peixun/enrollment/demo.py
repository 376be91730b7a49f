"""Demo data of course selection (run by ``manage.py seed_demo`` in INSTALLED_APPS order)."""

from . import demo_allocation, demo_selection


def seed(ctx) -> None:
    demo_selection.seed(ctx)  # enrollments in every state: last term's rosters, this term's round 1 live
    demo_allocation.seed(ctx)  # the fair allocation mode: a term allocated from ranked preferences
