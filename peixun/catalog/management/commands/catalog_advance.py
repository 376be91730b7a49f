from django.core.management.base import BaseCommand

from peixun.catalog.services import projects_advance


class Command(BaseCommand):
    help = "Daily: published projects whose first class has started become running; running ones past their last class finish."

    def handle(self, *args, **options):
        counts = projects_advance()
        self.stdout.write(f"started {counts['started']}, finished {counts['finished']}")
