"""Scale data: ``teacher_count`` teachers (600,000 for the benchmarks) with valid-checksum IDs.

``seed_scale(ctx)`` runs after the orgs step (it needs ``ctx.data["schools"]``). Rows come from
the same generator as the demo (``synthetic.national_rows``: rows as the national teacher
system exports them), are checked by the import's own ``RowParser`` and streamed into the
table with ``core.bulkload.load_rows`` (COPY on PostgreSQL) — never held in memory. Leaves
``ctx.data["teacher_ids"]`` (ordered ids) for the apps after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from peixun.core.bulkload import load_rows

from .importing import STAGED_FIELDS, RowParser
from .models import Teacher
from .synthetic import national_rows

FIELDS = (
    *STAGED_FIELDS,
    "school_id",
    "status",
    "phone",
    "post",
    "hire_date",
    "probation_end",
    "remarks",
    "created_at",
    "updated_at",
)


def teacher_rows(rng, schools, count: int) -> Iterator[tuple]:
    """Teacher rows in ``FIELDS`` order, parsed and checked as an import would."""
    school_ids = {s.code: s.pk for s in schools}
    parser = None
    now = timezone.now()
    for row in national_rows(rng, schools, count):
        if parser is None:
            parser = RowParser(list(row))
        parsed, errors = parser.parse(list(row.values()))
        if parsed is None:  # the generator only makes valid rows
            raise ValueError(f"synthetic row is invalid: {errors}")
        work_start = parsed.values[7]
        yield (
            *parsed.values,
            school_ids[parsed.school_code],
            Teacher.Status.ACTIVE,
            f"13{rng.randint(100000000, 999999999)}",
            Teacher.Post.TEACHER,
            work_start,
            work_start + timedelta(days=365) if work_start else None,
            "",
            now,
            now,
        )


def seed_scale(ctx) -> None:
    count = int(ctx.data.get("teacher_count", 600_000))
    load_rows(Teacher, FIELDS, teacher_rows(ctx.rng, ctx.data["schools"], count))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Teacher._meta.db_table}")
    ctx.data["teacher_ids"] = list(Teacher.objects.order_by("pk").values_list("pk", flat=True))
