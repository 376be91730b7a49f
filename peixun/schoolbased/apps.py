from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolbasedConfig(AppConfig):
    name = "peixun.schoolbased"
    label = "schoolbased"
    verbose_name = _("School-based training")
