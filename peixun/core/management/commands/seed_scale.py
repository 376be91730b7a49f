"""``manage.py seed_scale --teachers 600000``: the benchmark data set (fast on PostgreSQL).

Runs each app's ``peixun/<app>/scale.py: seed_scale(ctx)`` in INSTALLED_APPS order, the way
``seed_demo`` runs ``demo.py``: orgs (regions, schools), roster (teachers with valid-checksum
IDs), credits (~17 ledger entries per teacher) … Bulk rows go in with COPY (``core.bulkload``).
Deterministic with ``--seed``. ``--only orgs,roster`` runs just those steps (the roster import
benchmark needs the schools but no teachers).
"""

import importlib
import random
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from peixun.core.demodata import DEMO_PASSWORD, DemoContext


def scale_modules(only: set[str] | None = None):
    """(app label, module) of every app with a ``scale.py``, in INSTALLED_APPS order."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("peixun."):
            continue
        if only is not None and config.label not in only:
            continue
        try:
            module = importlib.import_module(f"{config.name}.scale")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.scale":
                raise
            continue
        if not hasattr(module, "seed_scale"):
            raise CommandError(f"{config.name}.scale has no seed_scale()")
        found.append((config.label, module))
    return found


class Command(BaseCommand):
    help = "Build the benchmark province (600,000 teachers by default; run on an empty, migrated database)."

    def add_arguments(self, parser):
        parser.add_argument("--teachers", type=int, default=600_000)
        parser.add_argument("--teachers-per-school", type=int, default=20)
        parser.add_argument("--counties", type=int, default=100)
        parser.add_argument("--seed", type=int, default=20240307)
        parser.add_argument("--only", default="", help="comma-separated app labels, e.g. orgs,roster")
        parser.add_argument("--force", action="store_true", help="seed even if the database already has regions")

    def handle(self, *args, teachers, teachers_per_school, counties, seed, only, force, **options):
        from peixun.orgs.models import Region

        if teachers < 1 or teachers > 5_000_000:
            raise CommandError("--teachers must be between 1 and 5,000,000")
        if Region.objects.exists() and not force:
            raise CommandError("The database already has regions; seed_scale needs an empty, migrated database.")
        wanted = {label.strip() for label in only.split(",") if label.strip()} or None
        steps = scale_modules(wanted)
        if wanted and "orgs" not in wanted:
            raise CommandError("--only needs orgs (every other step builds on its regions and schools)")
        ctx = DemoContext(rng=random.Random(seed), today=timezone.localdate(), scale="scale")
        ctx.data.update(teacher_count=teachers, teachers_per_school=teachers_per_school, county_count=counties)
        verbose = options.get("verbosity", 1)
        started = time.perf_counter()
        with transaction.atomic():
            for label, module in steps:
                t0 = time.perf_counter()
                module.seed_scale(ctx)
                if verbose:
                    self.stdout.write(f"· {label}: {time.perf_counter() - t0:.1f} s")
        if verbose:
            self.stdout.write(
                f"Built {len(ctx.data.get('schools', [])):,} schools and "
                f"{len(ctx.data.get('teacher_ids', [])):,} teachers in {time.perf_counter() - started:.0f} s."
            )
            self.stdout.write(f"账号（密码均为 {DEMO_PASSWORD}）:")
            for role, username, note in ctx.logins:
                self.stdout.write(f"  {role:<16} {username:<16} {note}")
