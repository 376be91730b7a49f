from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    name = "peixun.results"
    label = "results"
    verbose_name = _("Results")

    def ready(self):
        from . import exports  # noqa: F401  (registers the exporters)
