#!/usr/bin/env python
"""Benchmark (not a test): the opening minutes of course selection, on PostgreSQL under gunicorn.

Creates its own database (``peixun_rush``, dropped at the end unless --keep), seeds a term with
2,000 classes (50 seats each) and 100,000 teachers with logins and API tokens (COPY), starts the
app under gunicorn (several sync workers, 127.0.0.1 only), then in one run measures at the same
bounded concurrency

  (a) a trivial one-query JSON endpoint (``GET /api/core/me``: the token lookup, nothing else);
  (b) the selection endpoint (``POST`` select, each request a different logged-in teacher on a
      random class);

and (c) a hot spot: 2,000 teachers at once on one 50-seat class (some of them double-clicking,
i.e. sending the same request twice with one idempotency key, some retrying without a key).

It prints rps of (a) and (b) and their ratio (target ≥ 0.8), p50/p95/p99 of each, then oversold
seats (must be 0), counters that disagree with the seat-holding rows (must be 0), duplicate
enrollments (must be 0) and the time until the hot class was full. Every phase is bounded in
requests and in time; the whole run stops by itself.

    .venv/bin/python bench/selection_rush.py [--teachers 100000] [--classes 2000] [--concurrency 32]
        [--requests 1500] [--hot 2000] [--workers 4] [--port 8102] [--db peixun_rush] [--keep]
        [--pg postgres://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "peixun_rush"
HOST = "127.0.0.1"  # never anything else
TRIVIAL_PATH = "/api/core/me"
SELECT_PATH = "/api/enrollment/select"
PHASE_TIME_LIMIT = 150.0  # seconds per phase, whatever happens
ROUNDS = 3  # (a) and (b) alternate in this many slices
TOKEN_SECRET = "rush"


# --- seeding -------------------------------------------------------------------------------------


def raw_token(teacher_id: int) -> str:
    return f"px_{TOKEN_SECRET}_{teacher_id:08d}_" + hashlib.sha256(f"{teacher_id}".encode()).hexdigest()[:24]


def seed(n_teachers: int, n_classes: int, capacity: int) -> tuple[list[int], list[int]]:
    """Regions, schools, teachers with users, grants and tokens (COPY); a term with classes."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from peixun.accounts.models import ApiToken
    from peixun.catalog.models import Project, ProjectClass, StaffMember
    from peixun.orgs.models import Institution, Region
    from peixun.terms.models import Term, Window, WindowKind

    now = timezone.now()
    with transaction.atomic():
        province = Region.objects.create(name="示范省", code="980000", level="province")
        counties = []
        for c in range(10):
            city = Region.objects.create(name=f"第{c + 1}市", code=f"98{c + 1:02d}00", level="city", parent=province)
            for k in range(10):
                counties.append(
                    Region.objects.create(
                        name=f"第{c + 1}市{k + 1}区", code=f"98{c + 1:02d}{k + 1:02d}", level="county", parent=city
                    )
                )
        n_schools = max(1, n_teachers // 20)
        unusable = make_password(None)
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY orgs_school (code, name, county_id, city_id, stages, is_rural, is_remote, address, is_active,"
                " created_at) FROM STDIN"
            ) as copy:
                for i in range(n_schools):
                    county = counties[i % len(counties)]
                    copy.write_row(
                        (
                            f"R{i:07d}",
                            f"第{i}学校",
                            county.pk,
                            county.parent_id,
                            ",primary,",
                            False,
                            False,
                            "",
                            True,
                            now,
                        )
                    )
            cursor.execute("SELECT id FROM orgs_school ORDER BY id")
            school_ids = [r[0] for r in cursor.fetchall()]
            with cursor.copy(
                "COPY accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
                " is_active, date_joined, display_name, phone, must_change_password) FROM STDIN"
            ) as copy:
                for i in range(n_teachers):
                    copy.write_row(
                        (unusable, False, f"rush{i:07d}", "", "", "", False, True, now, f"教师{i}", "", False)
                    )
            cursor.execute("SELECT id FROM accounts_user WHERE username LIKE 'rush%%' ORDER BY id")
            user_ids = [r[0] for r in cursor.fetchall()]
            with cursor.copy(
                "COPY roster_teacher (national_id, name, former_name, gender, birth_date, ethnicity, political_status,"
                " staff_source, staff_category, on_establishment, employment_form, contract, education, title, stage,"
                " subject, school_id, status, phone, post, remarks, created_at, updated_at, user_id) FROM STDIN"
            ) as copy:
                for i in range(n_teachers):
                    copy.write_row(
                        (
                            f"98{i:016d}",
                            f"教师{i}",
                            "",
                            "F",
                            date(1985, 1, 1),
                            "",
                            "",
                            "",
                            "",
                            True,
                            "",
                            "",
                            "",
                            "intermediate",
                            "primary",
                            "math",
                            school_ids[i % len(school_ids)],
                            "active",
                            "",
                            "teacher",
                            "",
                            now,
                            now,
                            user_ids[i],
                        )
                    )
            cursor.execute(
                "INSERT INTO accounts_rolegrant (user_id, role, school_id, is_active, created_at)"
                " SELECT t.user_id, 'teacher', t.school_id, true, now() FROM roster_teacher t ORDER BY t.id"
            )
            cursor.execute(
                "SELECT t.id, g.id, g.user_id FROM roster_teacher t JOIN accounts_rolegrant g ON g.user_id = t.user_id"
                " ORDER BY t.id"
            )
            rows = cursor.fetchall()
            table = ApiToken._meta.db_table
            with cursor.copy(
                f"COPY {table} (user_id, grant_id, name, key_hash, prefix, created_at, last_used_at) FROM STDIN"
            ) as copy:
                for teacher_id, grant_id, user_id in rows:
                    raw = raw_token(teacher_id)
                    # last_used_at a day ahead: no request of the run pays the "last used" UPDATE that a
                    # token older than 5 minutes gets (with "now" the later phases, past 5 minutes, did)
                    copy.write_row(
                        (user_id, grant_id, "rush", ApiToken.hash(raw), raw[:8], now, now + timedelta(days=1))
                    )
            teacher_ids = [r[0] for r in rows]

        term = Term.objects.create(code="RUSH", name="压测学期", per_teacher_limit=3)
        for kind in WindowKind.values:
            opens, closes = (now - timedelta(hours=1), now + timedelta(days=1))
            if kind != WindowKind.SELECT_R1:
                opens, closes = now + timedelta(days=30), now + timedelta(days=31)
            Window.objects.create(term=term, kind=kind, starts_at=opens, ends_at=closes)
        institution = Institution.objects.create(
            code="RUSH01", name="压测师范大学", type="university", region=province, qualified_on=date(2015, 1, 1)
        )
        leader = StaffMember.objects.create(
            institution=institution,
            name="负责人",
            national_id="980101198001010011",
            title="assoc_senior",
            specialty=",math,",
        )
        per_project = 5
        projects = Project.objects.bulk_create(
            Project(
                term=term,
                institution=institution,
                code=f"RUSH{p:05d}",
                name=f"压测培训项目{p}",
                theme="课堂教学",
                field="subject_teaching",
                subject_category="math",
                level="provincial",
                region=province,
                credit_category="tongchou",
                format="face",
                days=3,
                hours_offline=24,
                credits=2,
                goals="提升课堂教学能力",
                content="专题讲座",
                leader=leader,
                status=Project.Status.PUBLISHED,
                published_at=now,
            )
            for p in range((n_classes + per_project - 1) // per_project)
        )
        start = timezone.localdate() + timedelta(days=40)
        classes = ProjectClass.objects.bulk_create(
            ProjectClass(
                project=projects[c // per_project],
                number=c % per_project + 1,
                # Classes of one project run in turn; teachers pick one class each, so dates never clash here.
                starts_on=start + timedelta(days=4 * (c % per_project)),
                ends_on=start + timedelta(days=4 * (c % per_project) + 2),
                place="示范校区",
                capacity=capacity,
            )
            for c in range(n_classes)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE orgs_school; ANALYZE roster_teacher; ANALYZE accounts_user; ANALYZE accounts_rolegrant;"
                f" ANALYZE {ApiToken._meta.db_table}; ANALYZE catalog_projectclass; ANALYZE catalog_project"
            )
    return teacher_ids, [c.pk for c in classes]


# --- a small HTTP/1.1 client (one connection per request, like a browser's first request) ----------


async def call(port: int, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, float, bytes]:
    payload = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Accept: application/json\r\nConnection: close\r\n"
    )
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(head.encode() + b"\r\n" + payload)
        await writer.drain()
        data = await reader.read()
        writer.close()
    except OSError:
        return 0, time.perf_counter() - start, b""
    elapsed = time.perf_counter() - start
    try:
        status = int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        status = 0
    return status, elapsed, data.partition(b"\r\n\r\n")[2]


async def run_phase(
    port: int, jobs: list[tuple], concurrency: int, keep_bodies: bool = False, limit: float = 0.0
) -> dict:
    """Send ``jobs`` (method, path, token, body) with at most ``concurrency`` in flight; bounded in time."""
    results: list = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    t0 = time.perf_counter()

    async def worker():
        for i in cursor:
            method, path, token, body = jobs[i]
            status, elapsed, data = await call(port, method, path, token, body)
            results[i] = (status, elapsed, time.perf_counter() - t0, data if keep_bodies else b"")

    tasks = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(jobs)))]
    done, pending = await asyncio.wait(tasks, timeout=limit or PHASE_TIME_LIMIT)
    for task in pending:
        task.cancel()
    wall = time.perf_counter() - t0
    finished = [r for r in results if r is not None]
    latencies = sorted(r[1] for r in finished)
    statuses: dict[int, int] = {}
    for r in finished:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    return {
        "sent": len(jobs),
        "done": len(finished),
        "wall": wall,
        "rps": len(finished) / wall if wall else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "results": results,
        "timed_out": bool(pending),
    }


def combine(parts: list[dict]) -> dict:
    """One phase's figures from its slices: requests over summed wall time, percentiles over all."""
    results = [r for p in parts for r in p["results"]]
    finished = [r for r in results if r is not None]
    latencies = sorted(r[1] for r in finished)
    statuses: dict[int, int] = {}
    for r in finished:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    wall = sum(p["wall"] for p in parts)
    return {
        "sent": len(results),
        "done": len(finished),
        "wall": wall,
        "rps": len(finished) / wall if wall else 0.0,
        "statuses": dict(sorted(statuses.items())),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "results": results,
        "timed_out": any(p["timed_out"] for p in parts),
    }


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


# --- the server ------------------------------------------------------------------------------------


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: TIME_WAIT is fine
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def start_server(port: int, workers: int, database_url: str) -> subprocess.Popen:
    if not port_free(port):
        raise RuntimeError(f"{HOST}:{port} is in use; pass --port")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "rush-bench-secret-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "ERROR",  # 404/409 answers are expected here; do not log each one
    }
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "peixun.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--backlog",
            "4096",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=str(ROOT),
        env=env,
        start_new_session=True,
    )


async def wait_ready(port: int, token: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, _, _ = await call(port, "GET", TRIVIAL_PATH, token)
        if status == 200:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("gunicorn did not answer in time")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- checks -------------------------------------------------------------------------------------------


def invariants(hot_class: int) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM catalog_projectclass WHERE seats_taken > capacity")
        over = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(SUM(GREATEST(seats_taken - capacity, 0)), 0) FROM catalog_projectclass")
        oversold = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM catalog_projectclass c LEFT JOIN ("
            "  SELECT project_class_id, count(*) AS n FROM enrollment_enrollment"
            "  WHERE state IN ('selected', 'approved', 'confirmed') GROUP BY project_class_id) e"
            " ON e.project_class_id = c.id WHERE c.seats_taken <> COALESCE(e.n, 0)"
        )
        mismatched = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM (SELECT teacher_id, project_class_id FROM enrollment_enrollment"
            " WHERE state IN ('waitlisted', 'selected', 'approved', 'confirmed')"
            " GROUP BY teacher_id, project_class_id HAVING count(*) > 1) d"
        )
        duplicates = cursor.fetchone()[0]
        cursor.execute(
            "SELECT state, count(*) FROM enrollment_enrollment WHERE project_class_id = %s GROUP BY state", [hot_class]
        )
        hot_states = dict(cursor.fetchall())
        cursor.execute("SELECT seats_taken, capacity FROM catalog_projectclass WHERE id = %s", [hot_class])
        hot_taken, hot_capacity = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM enrollment_enrollment")
        total = cursor.fetchone()[0]
    return {
        "classes_over_capacity": over,
        "oversold_seats": oversold,
        "counters_disagreeing": mismatched,
        "duplicate_enrollments": duplicates,
        "hot_states": hot_states,
        "hot_taken": hot_taken,
        "hot_capacity": hot_capacity,
        "enrollments": total,
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=2_000)
    parser.add_argument("--capacity", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=1_500, help="requests in each of (a) and (b)")
    parser.add_argument("--hot", type=int, default=2_000, help="clients on the hot class")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8102)
    parser.add_argument("--db", default=DB, help="the benchmark database's name (dropped and created anew)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--pg", default=os.environ.get("PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    if args.requests + args.hot > args.teachers:
        parser.error("--teachers must cover --requests plus --hot (each request is a different teacher)")
    args.requests = min(args.requests, 50_000)
    args.hot = min(args.hot, 5_000)
    args.concurrency = max(1, min(args.concurrency, 256))

    if not port_free(args.port):
        parser.error(f"{HOST}:{args.port} is in use; pass another --port")

    import psycopg

    admin = psycopg.connect(f"{args.pg}/postgres", autocommit=True)
    if not args.db.replace("_", "").isalnum():
        parser.error("--db: letters, digits and _ only")
    db = args.db
    admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {db}")
    database_url = f"{args.pg}/{db}"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peixun.settings")
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        teacher_ids, class_ids = seed(args.teachers, args.classes, args.capacity)
        connections.close_all()
        print(
            f"seeded {len(teacher_ids):,} teachers with tokens and {len(class_ids):,} classes of {args.capacity} seats"
            f" in {time.perf_counter() - t0:.0f} s"
        )

        rng = random.Random(20240307)
        pool = list(teacher_ids)
        rng.shuffle(pool)
        hot_class, other_classes = class_ids[0], class_ids[1:]
        phase_teachers = pool[: args.requests]
        hot_teachers = pool[args.requests : args.requests + args.hot]

        server = start_server(args.port, args.workers, database_url)
        asyncio.run(wait_ready(args.port, raw_token(pool[-1])))
        print(
            f"gunicorn: {args.workers} sync workers on {HOST}:{args.port}; concurrency {args.concurrency};"
            f" {args.requests:,} requests per phase"
        )

        # Warm every worker (imports, first queries) before measuring.
        warm = [("GET", TRIVIAL_PATH, raw_token(t), None) for t in pool[-200:]]
        asyncio.run(run_phase(args.port, warm, args.concurrency))

        trivial_jobs = [("GET", TRIVIAL_PATH, raw_token(t), None) for t in phase_teachers]
        select_jobs = [
            ("POST", SELECT_PATH, raw_token(t), {"class_id": rng.choice(other_classes), "request_key": f"r-{t}"})
            for t in phase_teachers
        ]
        # (a) and (b) alternate in ROUNDS slices, so a change in the machine's load hits both alike.
        a_parts, b_parts = [], []
        for k in range(ROUNDS):
            part = slice(k * len(trivial_jobs) // ROUNDS, (k + 1) * len(trivial_jobs) // ROUNDS)
            limit = PHASE_TIME_LIMIT / ROUNDS
            a_parts.append(asyncio.run(run_phase(args.port, trivial_jobs[part], args.concurrency, limit=limit)))
            b_parts.append(asyncio.run(run_phase(args.port, select_jobs[part], args.concurrency, limit=limit)))
        a, b = combine(a_parts), combine(b_parts)

        # Hot spot: every client at once on one class; 10% double-click (same key twice, concurrently)
        # and 5% retry without a key.
        hot_jobs = []
        for n, t in enumerate(hot_teachers):
            body = {"class_id": hot_class, "request_key": f"hot-{t}"}
            hot_jobs.append(("POST", SELECT_PATH, raw_token(t), body))
            if n % 10 == 0:
                hot_jobs.append(("POST", SELECT_PATH, raw_token(t), body))
            if n % 20 == 1:
                hot_jobs.append(("POST", SELECT_PATH, raw_token(t), {"class_id": hot_class}))
        rng.shuffle(hot_jobs)
        c = asyncio.run(run_phase(args.port, hot_jobs, len(hot_jobs), keep_bodies=True))
        stop_server(server)
        server = None

        selected_at = sorted(
            r[2] for r in c["results"] if r is not None and r[0] in (200, 201) and b'"selected"' in r[3]
        )
        full_after = selected_at[args.capacity - 1] if len(selected_at) >= args.capacity else None
        checks = invariants(hot_class)

        ratio = b["rps"] / a["rps"] if a["rps"] else float("nan")
        print()
        print(
            f"(a) trivial JSON   {TRIVIAL_PATH:<40} {a['rps']:8.1f} rps  p50 {ms(a['p50'])}  p95 {ms(a['p95'])}  p99 {ms(a['p99'])}  statuses {a['statuses']}"
        )
        print(
            f"(b) selection      POST {SELECT_PATH:<35} {b['rps']:8.1f} rps  p50 {ms(b['p50'])}  p95 {ms(b['p95'])}  p99 {ms(b['p99'])}  statuses {b['statuses']}"
        )
        print(f"    ratio (b)/(a): {ratio:.2f}  (target >= 0.8)")
        print(
            f"(c) hot spot: {len(hot_teachers):,} teachers ({len(hot_jobs):,} requests incl. double clicks and retries)"
            f" at once on one {args.capacity}-seat class: {c['rps']:.1f} rps, p50 {ms(c['p50'])}, p95 {ms(c['p95'])},"
            f" p99 {ms(c['p99'])}; statuses {c['statuses']}"
        )
        print(f"    class full after {full_after:.2f} s" if full_after is not None else "    the class did not fill")
        print(
            f"    hot class: {checks['hot_taken']} of {checks['hot_capacity']} seats taken; enrollments by state {checks['hot_states']}"
        )
        print(
            f"oversold seats: {checks['oversold_seats']} (must be 0); classes over capacity: {checks['classes_over_capacity']}"
        )
        print(f"seat counters disagreeing with seat-holding rows: {checks['counters_disagreeing']} (must be 0)")
        print(
            f"duplicate enrollments: {checks['duplicate_enrollments']} (must be 0); enrollments in all: {checks['enrollments']:,}"
        )
        if any(p["timed_out"] for p in (a, b, c)):
            print(f"note: a phase hit its {PHASE_TIME_LIMIT:.0f} s limit; figures cover the requests that finished")
        ok = (
            checks["oversold_seats"] == 0
            and checks["duplicate_enrollments"] == 0
            and checks["counters_disagreeing"] == 0
        )
        connections.close_all()
        return 0 if ok else 1
    finally:
        if server is not None:
            stop_server(server)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
