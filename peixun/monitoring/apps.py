from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "peixun.monitoring"
    label = "monitoring"
    verbose_name = _("Quality monitoring")

    def ready(self):
        from peixun.core.home import register_home_panel

        from . import exports  # noqa: F401  (registers the list exporters)
        from .panels import institution_findings, monitor_follow_ups, unacknowledged_reports

        register_home_panel(monitor_follow_ups)
        register_home_panel(institution_findings)
        register_home_panel(unacknowledged_reports)
