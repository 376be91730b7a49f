from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditsConfig(AppConfig):
    name = "peixun.credits"
    label = "credits"
    verbose_name = _("Credits")

    def ready(self):
        from peixun.catalog.signals import project_deleted

        from . import exports, receivers, tasks  # noqa: F401  (list exporters; the retryable jobs)

        project_deleted.connect(receivers.reverse_deleted_project_credits, dispatch_uid="credits.project_deleted")
        receivers.register_panels()
