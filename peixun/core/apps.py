from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "peixun.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import panels, tasks  # noqa: F401  (home panels; the export task for retries)
