from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "peixun.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import tasks  # noqa: F401  (registers the export task for retries)
