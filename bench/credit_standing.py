#!/usr/bin/env python
"""Benchmark (not a test): credit standings at national scale on PostgreSQL.

Creates its own database (dropped at the end unless --keep), builds the benchmark data set
with ``manage.py seed_scale --teachers N`` (default 600,000 teachers in 30,000 schools and 100
counties, ~17 ledger entries each, ~10M), then times

  (a) the province-wide standing report by county and category (``reports.region_report``:
      statuses after caps, interchange, projection, exemptions) against a raw SQL
      ``GROUP BY county, category`` over the ledger;
  (b) one teacher's credit page data (``selectors.teacher_standing``: scope check, exemption
      and the teacher's stored standing ``TeacherStanding`` in one statement, then the engine's
      date-dependent part; explanations included) against a raw single-teacher SELECT of the ledger,

and prints each ratio (target ≤ 2).

    .venv/bin/python bench/credit_standing.py [--teachers 600000] [--keep] [--reuse] [--db NAME] [--pg postgres://postgres@127.0.0.1:5432]

``--keep`` leaves the database in place; ``--reuse`` then runs against it without building the
data set again (it migrates and rebuilds the stored standings from the ledger with the current
code, timed and printed), so the 600,000-teacher set is built once.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "peixun_bench_credits"


def timed(fn, repeat: int) -> float:
    fn()  # warm up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=600_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--reuse", action="store_true", help="use a kept database (implies --keep)")
    parser.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default=DB, help="name of the benchmark database (created and dropped)")
    args = parser.parse_args()
    db = args.db
    if not db.replace("_", "").isalnum():
        parser.error("--db: letters, digits and underscores only")

    import psycopg

    admin = psycopg.connect(f"{args.pg}/postgres", autocommit=True)
    if args.reuse:
        args.keep = True
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            parser.error(f"--reuse: no database {db}; build it first with --keep")
    else:
        admin.execute(f"DROP DATABASE IF EXISTS {db}")
        admin.execute(f"CREATE DATABASE {db}")
    os.environ["DATABASE_URL"] = f"{args.pg}/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        from peixun.accounts.models import RoleGrant, User
        from peixun.core.scopes import Actor
        from peixun.credits import reports, selectors
        from peixun.credits.models import LedgerEntry
        from peixun.orgs.models import Region
        from peixun.roster.models import Teacher

        rng = random.Random(20240307)
        t0 = time.perf_counter()
        if args.reuse:
            # The kept data set; the stored standings are rebuilt from the ledger by the current code.
            from peixun.credits.services import standings_rebuild

            standings_rebuild(selectors.active_rules())
            print(f"reused {db}: stored standings rebuilt from the ledger in {time.perf_counter() - t0:.0f} s")
            t0 = time.perf_counter()
        else:
            # The benchmark data set: regions, schools, teachers and ~17 ledger entries each (COPY).
            call_command("seed_scale", teachers=args.teachers, verbosity=1)
        teacher_ids = list(Teacher.objects.order_by("pk").values_list("pk", flat=True))
        entries = LedgerEntry.objects.count()
        province = Region.objects.get(level=Region.Level.PROVINCE)
        print(
            f"{'reused' if args.reuse else 'built'} {len(teacher_ids):,} teachers and {entries:,} ledger entries in {time.perf_counter() - t0:.0f} s"
        )

        user, _new = User.objects.get_or_create(username="bench_province")
        grant, _new = RoleGrant.objects.get_or_create(user=user, role="province", region=province)
        actor = Actor.from_grant(grant)
        rules = selectors.active_rules()
        cursor = connection.cursor()

        def report():
            return reports.region_report(actor=actor, rules=rules, by="county")

        def baseline_report():
            cursor.execute(
                "SELECT s.county_id, l.category, SUM(l.amount) FROM credits_ledgerentry l"
                " JOIN roster_teacher t ON t.id = l.teacher_id JOIN orgs_school s ON s.id = t.school_id"
                " GROUP BY s.county_id, l.category"
            )
            return cursor.fetchall()

        result = report()
        assert sum(r["teachers"] + r["exempt"] for r in result["rows"]) == len(teacher_ids)
        a_ours, a_base = timed(report, 3), timed(baseline_report, 3)

        sample = rng.sample(teacher_ids, 50)
        teachers = {t.pk: t for t in Teacher.objects.filter(pk__in=sample)}
        pages = iter(range(10**9))

        def page():
            tid = sample[next(pages) % len(sample)]
            return selectors.teacher_standing(actor=actor, teacher=teachers[tid], rules=rules)

        def baseline_page():
            tid = sample[next(pages) % len(sample)]
            cursor.execute("SELECT * FROM credits_ledgerentry WHERE teacher_id = %s", [tid])
            return cursor.fetchall()

        b_ours, b_base = timed(page, 50), timed(baseline_page, 50)
        print(
            f"(a) province report by county and category: {a_ours * 1000:8.1f} ms  baseline GROUP BY {a_base * 1000:8.1f} ms  ratio {a_ours / a_base:.2f}"
        )
        print(
            f"(b) one teacher's credit page data:        {b_ours * 1000:8.2f} ms  baseline SELECT   {b_base * 1000:8.2f} ms  ratio {b_ours / b_base:.2f}"
        )
        print("targets: ratio ≤ 2 each")
        connection.close()
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
