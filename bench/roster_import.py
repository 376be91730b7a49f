#!/usr/bin/env python
"""Benchmark (not a test): the roster import of a national-scale file on PostgreSQL.

Creates its own database on 127.0.0.1 (dropped at the end unless --keep), builds the
benchmark province's regions and schools (``manage.py seed_scale --only orgs``), writes a
national-teacher-system CSV of N rows (default 600,000; Chinese headers as that system
exports them, UTF-8 with BOM, valid-checksum IDs) and a 100,000-row one, then for each file:

  * the project's import, timed end to end as the pages and the worker run it: upload
    (``roster_import_create``: store, hash, header check) → the validation task (parse every
    row, a large CSV file in two processes → staging by COPY → duplicate / scope checks →
    preview counts and samples) → confirm (``roster_import_confirm``, which hands a large file
    to the worker) → the apply task (one MERGE into the roster — into an empty one without its
    secondary indexes and constraints, re-created after —, audit). Each runs in a fresh
    process into an empty roster; that process's peak RSS is printed, so 100k against 600k
    rows shows whether memory stays flat;
  * ``psql \\copy`` of the same file into a plain table with one text column per CSV column,
    in the same run (median of three, before and after the imports);

and prints the ratio (target ≤ 5). A re-import of the large file into the now-filled roster
(every row unchanged: nothing is written) is timed too. Before each import the staging table is
vacuumed, as autovacuum would have done between two imports on a production server.

    .venv/bin/python bench/roster_import.py [--rows 600000] [--small 100000] [--keep]
        [--pg postgres://postgres@127.0.0.1:5432] [--db peixun_bench_roster] [--timeout 3600]

Stops by itself: every step has a deadline (``--timeout`` for the whole run); the database and
the temporary files are removed on the way out, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "peixun_bench_roster"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Deadline(Exception):
    pass


def _on_alarm(signum, frame):
    raise Deadline("the benchmark ran past --timeout")


def rss_kib() -> int:
    """Resident set size now (KiB), from /proc."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    import django

    django.setup()


# --- the child: one import in a fresh process ------------------------------------------------

# Where the time goes: statements by a piece of their text (first match), and the Python steps
# around them (the checking of rows includes the COPY into staging, which runs alongside it).
SQL_STEPS = (
    ("ANALYZE roster_rosterimportrow", "staging statistics"),
    ("d.first_line", "duplicates (SQL)"),
    ("COUNT(*), COUNT(t.id)", "preview counts"),
    ("NOT EXISTS (SELECT 1 FROM roster_rosterimportrow r", "preview: not in file"),
    ("FROM roster_rosterimportrow r LEFT JOIN roster_teacher t", "preview samples"),
    ('COUNT(*) AS "__count" FROM "roster_rosterimportrow"', "apply: staged rows count"),
    ("LEFT JOIN orgs_school", "apply: staged rows, schools re-check"),
    ("MERGE INTO roster_teacher", "apply: MERGE (update + insert)"),
    ("UPDATE roster_teacher AS t", "apply: UPDATE changed"),
    ("INSERT INTO roster_teacher", "apply: INSERT new"),
    ("FOREIGN KEY", "apply: foreign keys"),
    ("CREATE INDEX", "apply: index builds"),
    ("ADD CONSTRAINT", "apply: index builds"),
    ('DELETE FROM "roster_rosterimportrow"', "staging clean-up"),
    ("TRUNCATE roster_rosterimportrow", "staging clean-up"),
    ("LOCK TABLE roster_rosterimportrow", "staging clean-up"),
)
PY_STEPS = (
    ("open_upload", "open file (encoding, layout)"),
    ("_check_in_two", "check rows + COPY (2 processes)"),
    ("_duplicate_ids", "duplicates (Python merge)"),
)


def _timed(function, label: str, steps: dict):
    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            steps[label] = steps.get(label, 0.0) + time.perf_counter() - start

    return timed


def child(path: str) -> int:
    import resource

    setup_django(os.environ["DATABASE_URL"])
    from django.core.files import File
    from django.urls import reverse

    from peixun.accounts.models import RoleGrant
    from peixun.core.scopes import Actor
    from peixun.roster import imports, tasks
    from peixun.roster.models import RosterImport

    grant = RoleGrant.objects.select_related("user", "region", "school", "institution").get(
        user__username="scale_province"
    )
    actor = Actor.from_grant(grant)
    reverse("roster:import_detail", args=[1])  # a running worker has its URLconf loaded already
    slow: list[tuple[float, str]] = []
    steps: dict[str, float] = {}
    from django.db import connection

    def timer(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            text = " ".join(str(sql).split())
            label = next((name for key, name in SQL_STEPS if key in text), "other SQL")
            steps[label] = steps.get(label, 0.0) + took
            slow.append((took, text[:300]))

    connection.execute_wrappers.append(timer)
    for name, label in PY_STEPS:
        if hasattr(imports, name):
            setattr(imports, name, _timed(getattr(imports, name), label, steps))
    profile = None
    if os.environ.get("BENCH_CPROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    rss_before = rss_kib()
    phases = {}
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        imp = imports.roster_import_create(actor=actor, file=File(fh, name=os.path.basename(path)))
    phases["upload"] = time.perf_counter() - t0
    assert imp.status == RosterImport.Status.VALIDATING, imp.status  # large: handed to the worker

    t = time.perf_counter()
    tasks.validate_roster_import.call(imp.job_id)
    phases["validate"] = time.perf_counter() - t
    imp.refresh_from_db()
    assert imp.status == RosterImport.Status.PREVIEW, (imp.status, imp.message, imp.counts)

    t = time.perf_counter()
    imp = imports.roster_import_confirm(actor=actor, roster_import=imp)
    phases["confirm"] = time.perf_counter() - t
    t = time.perf_counter()
    if imp.status == RosterImport.Status.APPLYING:
        tasks.apply_roster_import.call(imp.apply_job_id)
    phases["apply"] = time.perf_counter() - t
    total = time.perf_counter() - t0
    imp.refresh_from_db()
    assert imp.status == RosterImport.Status.APPLIED, (imp.status, imp.message)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["BENCH_CPROFILE"])
    if os.environ.get("BENCH_SQL_PROFILE"):
        for took, sql in sorted(slow, reverse=True)[:12]:
            sys.stderr.write(f"{took:8.3f}s  {sql}\n")
    print(
        json.dumps(
            {
                "rows": imp.total_rows,
                "preview": {k: imp.counts.get(k) for k in ("new", "changed", "unchanged", "missing", "errors")},
                "applied": imp.counts.get("applied"),
                "phases": phases,
                "steps": steps,
                "total": total,
                "rss_before_kib": rss_before,
                "peak_rss_kib": peak,
            }
        )
    )
    return 0


# --- the parent ----------------------------------------------------------------------------------


def write_csvs(path_big: Path, path_small: Path, rows: int, small: int) -> list[str]:
    """The national-system CSV (and its first ``small`` rows as a second file); returns the headers."""
    import random

    from peixun.orgs.models import School
    from peixun.orgs.scale import ScaleSchool
    from peixun.roster.synthetic import national_rows

    schools = [
        ScaleSchool(pk, code, county_code, stages)
        for pk, code, county_code, stages in School.objects.order_by("pk").values_list(
            "pk", "code", "county__code", "stages"
        )
    ]
    rng = random.Random(20240901)
    headers: list[str] = []
    with (
        open(path_big, "w", encoding="utf-8-sig", newline="") as big,
        open(path_small, "w", encoding="utf-8-sig", newline="") as little,
    ):
        big_writer, small_writer = csv.writer(big), csv.writer(little)
        for n, row in enumerate(national_rows(rng, schools, rows)):
            if n == 0:
                headers = list(row)
                big_writer.writerow(headers)
                small_writer.writerow(headers)
            values = list(row.values())
            big_writer.writerow(values)
            if n < small:
                small_writer.writerow(values)
    return headers


def psql(url: str, *commands: str, timeout: float) -> float:
    """Run psql commands on ``url``; returns the wall time."""
    args = ["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "SET client_min_messages = warning"]
    for command in commands:
        args += ["-c", command]
    start = time.perf_counter()
    subprocess.run(args, check=True, timeout=timeout, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def copy_baseline(url: str, path: Path, headers: list[str], timeout: float) -> float:
    columns = ", ".join(f'"{h}" text' for h in headers)
    psql(url, "DROP TABLE IF EXISTS bench_plain_copy", f"CREATE TABLE bench_plain_copy ({columns})", timeout=60)
    took = psql(url, f"\\copy bench_plain_copy FROM '{path}' WITH (FORMAT csv, HEADER true)", timeout=timeout)
    psql(url, "DROP TABLE bench_plain_copy", timeout=60)
    return took


def run_child(url: str, path: Path, media: Path, timeout: float) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media), "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if result.stderr and os.environ.get("BENCH_SQL_PROFILE"):
        sys.stderr.write(result.stderr[-8000:])
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        raise RuntimeError(f"the import of {path.name} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def empty_roster(url: str) -> None:
    psql(url, "TRUNCATE roster_teacher CASCADE", "VACUUM ANALYZE roster_teacher", timeout=600)
    vacuum_staging(url)


def vacuum_staging(url: str) -> None:
    """What autovacuum does between two imports on a production server (this development server
    may run with it off): the previous imports' deleted staging rows are not scanned again."""
    psql(url, "VACUUM roster_rosterimportrow", timeout=600)


def main() -> int:  # noqa: C901 - one linear script
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=600_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default=DB)
    parser.add_argument("--timeout", type=int, default=3600, help="seconds for the whole run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    if urlsplit(args.pg).hostname not in LOCAL_HOSTS:
        parser.error("--pg must point at 127.0.0.1 (this benchmark creates and drops a database)")
    if not args.db.replace("_", "").isalnum():
        parser.error("--db: letters, digits and underscores only")
    if not (1 <= args.small <= args.rows <= 1_000_000):
        parser.error("need 1 ≤ --small ≤ --rows ≤ 1,000,000")
    if shutil.which("psql") is None:
        parser.error("psql is not installed")

    import psycopg

    deadline = time.monotonic() + args.timeout
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(args.timeout)

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Deadline("the benchmark ran past --timeout")
        return remaining

    url = f"{args.pg}/{args.db}"
    work = Path(tempfile.mkdtemp(prefix="peixun-bench-roster-"))
    admin = psycopg.connect(f"{args.pg}/postgres", autocommit=True)
    admin.execute(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {args.db}")
    try:
        setup_django(url)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        t = time.perf_counter()
        call_command("seed_scale", teachers=args.rows, only="orgs", verbosity=0)
        from peixun.orgs.models import School

        print(f"province: {School.objects.count():,} schools in 100 counties ({time.perf_counter() - t:.1f} s)")
        big, small = work / f"teachers-{args.rows}.csv", work / f"teachers-{args.small}.csv"
        t = time.perf_counter()
        headers = write_csvs(big, small, args.rows, args.small)
        connections.close_all()
        print(
            f"CSV: {args.rows:,} rows, {big.stat().st_size / 2**20:.0f} MiB; {args.small:,} rows, "
            f"{small.stat().st_size / 2**20:.0f} MiB ({time.perf_counter() - t:.1f} s)"
        )

        load_start = f"{os.getloadavg()[0]:.1f}"
        copies = {big: [], small: []}
        for path in (small, big):
            copies[path].append(copy_baseline(url, path, headers, left()))
        results = {}
        for path in (small, big):
            empty_roster(url)
            results[path] = run_child(url, path, work / "media", left())
            copies[path].append(copy_baseline(url, path, headers, left()))
        vacuum_staging(url)
        rerun = run_child(url, big, work / "media", left())  # the same file again: all unchanged
        for path in (small, big):
            copies[path].append(copy_baseline(url, path, headers, left()))

        print(f"\nload average at the start {load_start}, at the end {os.getloadavg()[0]:.1f}")
        heads = ("rows", "import", "(upload", "validate", "apply)", "psql \\copy", "ratio", "peak RSS", "RSS before")
        print(" ".join(h.rjust(w) for h, w in zip(heads, (9, 9, 8, 9, 8, 10, 6, 9, 10))))
        for label, path, result in (
            ("new", small, results[small]),
            ("new", big, results[big]),
            ("unchanged", big, rerun),
        ):
            copy = statistics.median(copies[path])
            ph = result["phases"]
            print(
                f"{result['rows']:>9,} {result['total']:>8.1f}s {ph['upload']:>7.1f}s {ph['validate']:>8.1f}s"
                f" {ph['confirm'] + ph['apply']:>7.1f}s {copy:>9.2f}s {result['total'] / copy:>6.2f}"
                f" {result['peak_rss_kib'] / 1024:>7.0f}MiB {result['rss_before_kib'] / 1024:>8.0f}MiB  ({label})"
            )
        print()
        labels = list(dict.fromkeys(k for r in (results[big], rerun) for k in r["steps"]))
        print(f"{'where the time goes (s)':<36} {'600k new':>9} {'re-run':>9}")
        for label in labels:
            print(f"{label:<36} {results[big]['steps'].get(label, 0):>9.2f} {rerun['steps'].get(label, 0):>9.2f}")
        print()
        for label, result in (("100k", results[small]), ("600k", results[big]), ("re-run", rerun)):
            print(f"{label}: preview {result['preview']}, applied {result['applied']}")
        ratio = results[big]["total"] / statistics.median(copies[big])
        print(f"\nratio for {args.rows:,} new teachers: {ratio:.2f} (target ≤ 5)")
        growth = results[big]["peak_rss_kib"] - results[small]["peak_rss_kib"]
        print(f"peak RSS {args.small:,} → {args.rows:,} rows: {growth / 1024:+.0f} MiB")
    finally:
        signal.alarm(0)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        if not args.keep:
            admin.execute(f"DROP DATABASE IF EXISTS {args.db} WITH (FORCE)")
        admin.close()
        if args.keep:
            print(f"kept the database {args.db} and the files in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
