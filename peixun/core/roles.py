from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    TEACHER = "teacher", _("Teacher")
    SCHOOL = "school", _("School admin / principal")
    COUNTY = "county", _("County bureau")
    CITY = "city", _("City bureau")
    PROVINCE = "province", _("Provincial department / training centre")
    INSTITUTION = "institution", _("Training institution")
    INSTITUTION_REVIEWER = "inst_reviewer", _("Institution results reviewer")
    EXPERT = "expert", _("Review expert")
    MONITOR = "monitor", _("Quality monitor")
    AUDITOR = "auditor", _("Auditor")


BUREAU_ROLES = {Role.COUNTY, Role.CITY, Role.PROVINCE}
INSTITUTION_ROLES = {Role.INSTITUTION, Role.INSTITUTION_REVIEWER}
# Which scope each role is bound to.
REGION_ROLES = {Role.COUNTY, Role.CITY, Role.PROVINCE, Role.EXPERT, Role.MONITOR, Role.AUDITOR}
SCHOOL_ROLES = {Role.TEACHER, Role.SCHOOL}
