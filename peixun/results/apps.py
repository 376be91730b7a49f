from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    name = "peixun.results"
    label = "results"
    verbose_name = _("Results")

    def ready(self):
        from peixun.catalog.signals import project_deleted
        from peixun.core.home import register_home_panel

        from . import exports, receivers  # noqa: F401  (exports registers the exporters)
        from .panels import institution_due, reviewer_queue, reviewer_stale

        register_home_panel(reviewer_stale)
        register_home_panel(reviewer_queue)
        register_home_panel(institution_due)
        project_deleted.connect(receivers.withdraw_deleted_project_approvals, dispatch_uid="results.project_deleted")
