import importlib
import random

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from peixun.core.demodata import DEMO_PASSWORD, DemoContext


class Command(BaseCommand):
    help = "Build the deterministic demo province (run on an empty, migrated database)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20240307)
        parser.add_argument("--teachers", type=int, default=3000)
        parser.add_argument("--force", action="store_true", help="seed even if the database already has regions")

    def handle(self, *args, seed, teachers, force, **options):
        from peixun.orgs.models import Region

        if Region.objects.exists() and not force:
            if options.get("verbosity", 1):
                self.stdout.write("Demo data already present; nothing to do (use --force on an empty database).")
            self._print_logins(None)
            return
        ctx = DemoContext(rng=random.Random(seed), today=timezone.localdate())
        ctx.data["teacher_count"] = teachers
        with transaction.atomic():
            for config in apps.get_app_configs():
                if not config.name.startswith("peixun."):
                    continue
                try:
                    module = importlib.import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.demo":
                        raise
                    continue
                if not hasattr(module, "seed"):
                    raise CommandError(f"{config.name}.demo has no seed()")
                self.stdout.write(f"· {config.verbose_name}")
                module.seed(ctx)
        self._print_logins(ctx)

    def _print_logins(self, ctx):
        path = settings.VAR_DIR / "demo-logins.txt"
        if ctx is not None:
            lines = [f"演示账号（密码均为 {DEMO_PASSWORD}）:"]
            lines += [f"  {role:<16} {username:<22} {note}" for role, username, note in ctx.logins]
            if ctx.notes:
                lines += ["", "选课各环节演示学期（窗口自运行 seed_demo 当天起开放三天）:", *ctx.notes]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        if path.exists():
            self.stdout.write("")
            self.stdout.write(path.read_text(encoding="utf-8"))
