"""Scale data for benchmarks: ~17 ledger entries per teacher across the current cycle.

``seed_scale(ctx)`` is called by ``manage.py seed_scale`` after the roster's scale step. It
needs only the teachers in the database (``ctx.data["teacher_ids"]`` if given, else every
teacher) and ``ctx.rng`` / ``ctx.today``. On PostgreSQL rows go in with COPY; the per-teacher
totals are then built from the ledger in one INSERT … SELECT … GROUP BY, and the stored
standings (``TeacherStanding``) by the engine over the ledger in chunks, written with COPY.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .models import CreditTotal, LedgerEntry
from .policy import TONGCHOU_LEVELS

COLUMNS = (
    "teacher_id",
    "cycle",
    "school_year",
    "category",
    "level",
    "amount",
    "earned_on",
    "source_type",
    "source_id",
    "part",
    "generation",
    "note",
    "created_at",
)


def _rows(teacher_ids, rules, rng: random.Random, today: date, per_teacher: int):
    cycle = rules.cycle_of(today)
    start, _end = rules.cycle_bounds(cycle)
    span = max((today - start).days, 1)
    source_id = 0
    for tid in teacher_ids:
        n = max(1, int(rng.gauss(per_teacher, 4)))
        for k in range(n):
            source_id += 1
            day = start + timedelta(days=rng.randrange(span))
            if rng.random() < 0.65:
                category, level, source = "tongchou", TONGCHOU_LEVELS[rng.randrange(4)], "result"
                amount = rng.choice(("1.00", "2.00", "2.00", "3.00", "4.00"))
            else:
                category, level, source = (
                    "zizhu",
                    ("school_training", "school_research", "item")[rng.randrange(3)],
                    "schoolbased",
                )
                amount = rng.choice(("0.50", "1.00", "1.00", "1.50"))
            yield (
                tid,
                cycle,
                rules.school_year_of(day),
                category,
                level,
                amount,
                day,
                source,
                source_id,
                str(k),
                0,
                "",
            )


def seed_scale(ctx, *, per_teacher: int = 17, batch: int = 200_000) -> int:
    """Add about ``per_teacher`` ledger entries per teacher; returns the number of entries."""
    from peixun.roster.models import Teacher

    from . import selectors, services

    if selectors.active_policy() is None and ctx.data.get("province") is not None:
        policy = services.policy_create_draft(actor=None, name="预设方案A", preset="A", province=ctx.data["province"])
        services.policy_activate(actor=None, policy=policy)
    rules = selectors.active_rules()
    ids = ctx.data.get("teacher_ids") or list(Teacher.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(getattr(ctx, "rng", None).random() if getattr(ctx, "rng", None) else 20240307)
    today = getattr(ctx, "today", None) or timezone.localdate()
    now = timezone.now()
    count = 0
    rows = _rows(ids, rules, rng, today, per_teacher)
    if connection.vendor == "postgresql":
        table = LedgerEntry._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((*row, now))
                    count += 1
            cursor.execute(f"ANALYZE {table}")
    else:
        chunk = []
        for row in rows:
            chunk.append(LedgerEntry(**dict(zip(COLUMNS, (*row, now)))))
            if len(chunk) >= batch:
                LedgerEntry.objects.bulk_create(chunk, batch_size=5000)
                count += len(chunk)
                chunk = []
        LedgerEntry.objects.bulk_create(chunk, batch_size=5000)
        count += len(chunk)
    totals_from_ledger()
    return count


def totals_from_ledger() -> None:
    """Rebuild CreditTotal from the ledger in one statement (the ledger is the source of truth)."""
    totals = CreditTotal._meta.db_table
    ledger = LedgerEntry._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {totals}")
        cursor.execute(
            f"""INSERT INTO {totals} (teacher_id, cycle, school_year, category, level, source_type, amount)
            SELECT teacher_id, cycle, school_year, category, level, source_type, SUM(amount)
            FROM {ledger} GROUP BY teacher_id, cycle, school_year, category, level, source_type"""
        )
    from . import selectors
    from .services import cycle_totals_rebuild, standings_rebuild

    rules = selectors.active_rules()
    cycle_totals_rebuild(rules)
    standings_rebuild(rules)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {totals}")
            cursor.execute("ANALYZE credits_cycletotal")
