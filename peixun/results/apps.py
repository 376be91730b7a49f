from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    name = "peixun.results"
    label = "results"
    verbose_name = _("Results")

    def ready(self):
        from peixun.core.home import register_home_panel

        from . import exports  # noqa: F401  (registers the exporters)
        from .panels import institution_due, reviewer_queue

        register_home_panel(reviewer_queue)
        register_home_panel(institution_due)
