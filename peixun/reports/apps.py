from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "peixun.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from peixun.core.home import register_home_panel

        from . import (
            certificates_tasks,  # noqa: F401  (registers the retryable certificate batch job)
            exports,  # noqa: F401  (registers the report exporters)
        )
        from .panels import dashboard_panel

        register_home_panel(dashboard_panel)
