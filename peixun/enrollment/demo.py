"""Demo data of course selection (run by ``manage.py seed_demo`` in INSTALLED_APPS order)."""

from . import demo_allocation


def seed(ctx) -> None:
    demo_allocation.seed(ctx)  # the fair allocation mode: a term allocated from ranked preferences
