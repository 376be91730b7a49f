#!/usr/bin/env python
"""Benchmark (not a test): the 600,000-row teacher standings export on PostgreSQL.

Creates its own database (dropped at the end unless --keep), builds regions, schools and
N teachers with ``manage.py seed_scale --only orgs,roster`` (COPY), activates credit policy A
and gives every teacher per-school-year credit totals in one ``INSERT … SELECT`` (the export
reads the per-teacher summaries, never the ledger rows, so the ledger itself is not built),
then in the same run:

  (a) runs the province-wide ``reports.teachers`` export the way a user's background job does
      (``core.tasks.run_export``: one streamed SQL statement with standings after caps and the
      projection → openpyxl write-only workbook → the job's file), and
  (b) writes the same rows from the same exporter with Python's plain ``csv`` module,

and prints rows/s of each, their ratio, and the process's resident memory (RSS) before, at
every 100,000 rows, and at the peak while each export runs (sampled every 20 ms), which shows
whether memory stays flat.

    .venv/bin/python bench/exports.py [--teachers 600000] [--keep] [--pg postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "peixun_bench_exports"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 1024 / 1024


class PeakRss:
    """Samples the resident set size in a thread while a block runs."""

    def __enter__(self):
        self.start = rss_mb()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def checkpoints(rows, marks: list):
    for n, row in enumerate(rows, start=1):
        if n % 100_000 == 0:
            marks.append(round(rss_mb()))
        yield row


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=600_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default=DB, help="name of the benchmark database (created and dropped)")
    args = parser.parse_args()
    db = args.db
    if not db.replace("_", "").isalnum():
        parser.error("--db: letters, digits and underscores only")

    import psycopg

    admin = psycopg.connect(f"{args.pg}/postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {db}")
    admin.execute(f"CREATE DATABASE {db}")
    os.environ["DATABASE_URL"] = f"{args.pg}/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    media = tempfile.TemporaryDirectory(prefix="peixun-bench-exports-")
    os.environ.setdefault("MEDIA_ROOT", media.name)
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        settings.MEDIA_ROOT = media.name
        call_command("migrate", verbosity=0)
        from peixun.accounts.models import RoleGrant, User
        from peixun.core.exports import EXPORTERS
        from peixun.core.models import Job
        from peixun.core.scopes import Actor
        from peixun.core.services import job_create
        from peixun.core.tasks import run_export
        from peixun.credits import selectors, services
        from peixun.orgs.models import Region
        from peixun.roster.models import Teacher

        t0 = time.perf_counter()
        call_command("seed_scale", teachers=args.teachers, only="orgs,roster", verbosity=0)
        province = Region.objects.get(level=Region.Level.PROVINCE)
        policy = services.policy_create_draft(actor=None, name="预设方案A", preset="A", province=province)
        services.policy_activate(actor=None, policy=policy)
        rules = selectors.active_rules()
        cycle = rules.cycle_of(django.utils.timezone.localdate())
        years = [y for y in rules.cycle_years(cycle) if y <= rules.school_year_of(django.utils.timezone.localdate())]
        with connection.cursor() as cursor:
            for year in years:
                for category, level, source, scale in (
                    ("tongchou", "provincial", "result", 9),
                    ("zizhu", "school_training", "schoolbased", 4),
                ):
                    cursor.execute(
                        "INSERT INTO credits_credittotal (teacher_id, cycle, school_year, category, level, source_type,"
                        f" amount) SELECT id, %s, %s, %s, %s, %s, ROUND((random() * {scale})::numeric, 1)"
                        " FROM roster_teacher",
                        [cycle, year, category, level, source],
                    )
        services.cycle_totals_rebuild(rules)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        teachers = Teacher.objects.count()
        print(f"built {teachers:,} teachers with credit totals in {time.perf_counter() - t0:.0f} s")

        user = User.objects.create(username="bench_province")
        grant = RoleGrant.objects.create(user=user, role="province", region=province)
        actor = Actor.from_grant(grant)
        params = {"region": province.pk}

        # (a) the real background job: exporter → streamed rows → write-only xlsx → the job's file
        job = job_create(
            owner=user,
            kind="export",
            title="bench",
            params={"exporter": "reports.teachers", "params": params, "grant_id": grant.pk},
        )
        import peixun.core.tasks as core_tasks

        marks_a: list[int] = []
        original = core_tasks.write_xlsx

        def write_with_marks(target, headers, rows, **kwargs):
            return original(target, headers, checkpoints(rows, marks_a), **kwargs)

        core_tasks.write_xlsx = write_with_marks
        with PeakRss() as mem_a:
            start = time.perf_counter()
            run_export.call(job_id=job.pk)
            xlsx_seconds = time.perf_counter() - start
        core_tasks.write_xlsx = original
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.message
        rows = job.result["rows"]
        assert rows == teachers, (rows, teachers)
        size = job.result_file.size

        # (b) the same rows from the same exporter, written with plain csv
        marks_b: list[int] = []
        with PeakRss() as mem_b, tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as out:
            start = time.perf_counter()
            export = EXPORTERS["reports.teachers"](actor, params)
            writer = csv.writer(out)
            writer.writerow(export.headers)
            count = 0
            for row in checkpoints(export.rows, marks_b):
                writer.writerow(row)
                count += 1
            csv_seconds = time.perf_counter() - start
        assert count == rows

        print(
            f"(a) xlsx export as a background job: {rows:,} rows in {xlsx_seconds:6.1f} s = {rows / xlsx_seconds:8,.0f} rows/s"
            f"  file {size / 1024 / 1024:.1f} MB"
        )
        print(
            f"(b) plain csv of the same rows:      {count:,} rows in {csv_seconds:6.1f} s = {count / csv_seconds:8,.0f} rows/s"
        )
        print(f"ratio xlsx / csv time: {xlsx_seconds / csv_seconds:.2f}")
        print(
            f"memory (RSS): xlsx job start {mem_a.start:.0f} MB, peak {mem_a.peak:.0f} MB, every 100,000 rows {marks_a} MB"
        )
        print(
            f"              csv start {mem_b.start:.0f} MB, peak {mem_b.peak:.0f} MB, every 100,000 rows {marks_b} MB"
        )
        connection.close()
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()
        media.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
