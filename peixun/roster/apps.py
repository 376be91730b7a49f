from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    name = "peixun.roster"
    label = "roster"
    verbose_name = _("Teacher roster")

    def ready(self):
        from . import exports, tasks  # noqa: F401  (registers the list exporters and the retryable job tasks)
