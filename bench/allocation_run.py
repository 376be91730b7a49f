#!/usr/bin/env python
"""Benchmark (not a test): one fair-mode allocation run at province scale on PostgreSQL.

Creates its own database (``peixun_alloc_bench``, dropped at the end unless --keep), seeds the same
province as ``selection_rush.py`` (100,000 teachers, 2,000 classes of 50 seats), lets every teacher
rank 3 classes (COPY; popular classes are ranked more often), closes the ranking window and runs the
allocation job's body (``allocation_execute``: scores, algorithm, enrollments through the seat
functions, results, notifications, one audit record per applicant teacher, whose share of the run's
time is printed), then ``allocation_verify`` and the export of the outcomes (csv and xlsx). Prints the time of each step and
checks that no class is over capacity and that the counters match the seat-holding rows.

    .venv/bin/python bench/allocation_run.py [--teachers 100000] [--classes 2000] [--choices 3] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DB = "peixun_alloc_bench"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=2_000)
    parser.add_argument("--capacity", type=int, default=50)
    parser.add_argument("--choices", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    args = parser.parse_args()

    import psycopg

    admin = psycopg.connect(f"{args.pg}/postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {DB}")
    os.environ["DATABASE_URL"] = f"{args.pg}/{DB}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, transaction
        from django.utils import timezone
        from selection_rush import seed

        from peixun.accounts.models import RoleGrant, User
        from peixun.core.models import AuditLog
        from peixun.core.scopes import Actor
        from peixun.enrollment.services import allocation as services
        from peixun.orgs.models import Region
        from peixun.terms.models import Term, Window, WindowKind

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        teacher_ids, class_ids = seed(args.teachers, args.classes, args.capacity)
        term = Term.objects.get(code="RUSH")
        Term.objects.filter(pk=term.pk).update(selection_mode=Term.SelectionMode.FAIR, school_share_cap=20)
        now = timezone.now()
        Window.objects.filter(term=term, kind=WindowKind.SELECT_R1).update(
            starts_at=now - timedelta(days=5), ends_at=now - timedelta(minutes=1)
        )
        rng = random.Random(20240307)
        weights = [1.0 / (1 + i % 200) for i in range(len(class_ids))]  # some classes far more popular
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(
                "COPY enrollment_preferencelist (term_id, teacher_id, wanted, updated_at) FROM STDIN"
            ) as copy:
                for tid in teacher_ids:
                    copy.write_row((term.pk, tid, 1, now))
            cursor.execute("SELECT id FROM enrollment_preferencelist ORDER BY teacher_id")
            lists = [r[0] for r in cursor.fetchall()]
            n_prefs = 0
            with cursor.copy(
                "COPY enrollment_preference (preference_list_id, project_class_id, rank, created_at) FROM STDIN"
            ) as copy:
                for plist in lists:
                    picks = list(dict.fromkeys(rng.choices(class_ids, weights=weights, k=args.choices)))
                    for rank, cid in enumerate(picks, start=1):
                        copy.write_row((plist, cid, rank, now))
                        n_prefs += 1
            cursor.execute("ANALYZE enrollment_preferencelist; ANALYZE enrollment_preference")
        province = Region.objects.get(level="province")
        user = User.objects.create(username="bench_province", must_change_password=False)
        actor = Actor.from_grant(RoleGrant.objects.create(user=user, role="province", region=province))
        print(
            f"seeded {len(teacher_ids):,} teachers, {len(class_ids):,} classes, {n_prefs:,} preferences in {time.perf_counter() - t0:.0f} s"
        )

        # The per-teacher audit records are written inside the run: time them apart (same run, a ratio).
        audit_time = [0.0]
        audit_teachers = services._audit_teachers

        def timed_audit(*args, **kwargs):
            start = time.perf_counter()
            try:
                return audit_teachers(*args, **kwargs)
            finally:
                audit_time[0] += time.perf_counter() - start

        services._audit_teachers = timed_audit

        t1 = time.perf_counter()
        run = services.allocation_start(actor=actor, term=term, seed=20240307)
        if os.environ.get("PROFILE"):
            import cProfile
            import pstats

            prof = cProfile.Profile()
            run = prof.runcall(services.allocation_execute, run.pk)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        else:
            run = services.allocation_execute(run.pk)
        t_run = time.perf_counter() - t1
        print(f"allocation run: {t_run:.1f} s — {run.counts}")
        audit_rows = AuditLog.objects.filter(action=services.TEACHER_AUDIT_ACTION, after__run=run.pk).count()
        print(
            f"  of which per-teacher audit records: {audit_time[0]:.1f} s for {audit_rows:,} rows "
            f"({audit_time[0] / t_run:.0%} of the run)"
        )

        t2 = time.perf_counter()
        check = services.allocation_verify(actor=actor, run=run)
        print(f"verify (recompute and compare, no writes): {time.perf_counter() - t2:.1f} s — same: {check.same}")

        # The outcomes' export (what the background job writes), as the province: every preference.
        import tempfile

        from peixun.core.exports import EXPORTERS, write_export

        for fmt in ("csv", "xlsx"):
            t3 = time.perf_counter()
            export = EXPORTERS["enrollment.allocation"](actor, {"run": str(run.pk)})
            with tempfile.TemporaryFile() as spool:
                rows = write_export(spool, export.headers, export.rows, fmt=fmt)
                size = spool.tell()
            t_export = time.perf_counter() - t3
            print(
                f"export of the outcomes ({fmt}): {t_export:.1f} s for {rows:,} rows, {size / 1e6:.1f} MB "
                f"({t_export / t_run:.2f} × the run)"
            )

        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM catalog_projectclass WHERE seats_taken > capacity")
            over = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM catalog_projectclass c LEFT JOIN (SELECT project_class_id, count(*) n"
                " FROM enrollment_enrollment WHERE state IN ('selected', 'approved', 'confirmed')"
                " GROUP BY project_class_id) e ON e.project_class_id = c.id WHERE c.seats_taken <> COALESCE(e.n, 0)"
            )
            mismatched = cursor.fetchone()[0]
        print(f"classes over capacity: {over} (must be 0); counters disagreeing with rows: {mismatched} (must be 0)")
        connection.close()
        return 0 if over == 0 and mismatched == 0 and check.same else 1
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
