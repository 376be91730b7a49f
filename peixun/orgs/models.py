from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import Stage, SubjectCategory, labels, split_codes


class Region(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County / district")

    name = models.CharField(_("name"), max_length=60)
    code = models.CharField(_("administrative code"), max_length=12, unique=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Materialised path "/<id>/<id>/" so a subtree is one indexed prefix query.
    path = models.CharField(max_length=64, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="region_unique_name_in_parent")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        path = (self.parent.path if self.parent else "/") + f"{self.pk}/"
        if path != self.path:  # regions never move, so children need no update
            self.path = path
            Region.objects.filter(pk=self.pk).update(path=path)

    @property
    def full_name(self) -> str:
        parts = []
        node = self
        while node is not None and node.level != Region.Level.PROVINCE:
            parts.append(node.name)
            node = node.parent
        return "".join(reversed(parts)) or self.name

    def contains(self, other: "Region") -> bool:
        return other.path.startswith(self.path)


class School(models.Model):
    code = models.CharField(_("school code"), max_length=20, unique=True)
    name = models.CharField(_("school name"), max_length=100)
    county = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="schools",
        limit_choices_to={"level": "county"},
        verbose_name=_("county"),
    )
    # Denormalised from county.parent for cheap city-level filtering.
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="city_schools", editable=False)
    stages = models.CharField(_("stages served"), max_length=120, help_text=_("Stored as ,code,code,"))
    is_rural = models.BooleanField(_("rural school"), default=False)
    is_remote = models.BooleanField(_("mountain / island area"), default=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("school")
        verbose_name_plural = _("schools")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.city_id = self.county.parent_id
        super().save(*args, **kwargs)

    @property
    def stage_list(self) -> list[str]:
        return split_codes(self.stages)

    @property
    def stage_labels(self) -> str:
        return labels(Stage, self.stages)


class Institution(models.Model):
    class Type(models.TextChoices):
        FLAGSHIP = "flagship", _("Flagship normal university")
        UNIVERSITY = "university", _("Other university")
        PROVINCIAL = "provincial", _("Province-wide training institution")
        REMOTE = "remote", _("Remote-training institution")
        COUNTY_SCHOOL = "county_school", _("County teacher-development school")

    code = models.CharField(_("institution code"), max_length=20, unique=True)
    name = models.CharField(_("institution name"), max_length=100, unique=True)
    type = models.CharField(_("institution type"), max_length=20, choices=Type.choices)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="institutions",
        verbose_name=_("located in"),
        null=True,
        blank=True,
    )
    qualified_on = models.DateField(_("date qualified"))
    qualification_scope = models.CharField(_("qualified subject categories"), max_length=300, blank=True)
    province_wide = models.BooleanField(_("qualified for province-wide training"), default=True)
    may_blended = models.BooleanField(_("may run blended training"), default=False)
    may_online = models.BooleanField(_("may run online training"), default=False)
    may_take_orders = models.BooleanField(_("may take orders"), default=True)
    contact_person = models.CharField(_("contact person"), max_length=40, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("training institution")
        verbose_name_plural = _("training institutions")

    def __str__(self) -> str:
        return self.name

    @property
    def scope_list(self) -> list[str]:
        return split_codes(self.qualification_scope)

    @property
    def scope_labels(self) -> str:
        return labels(SubjectCategory, self.qualification_scope)

    def qualified_under_one_year(self, on: date) -> bool:
        try:
            anniversary = self.qualified_on.replace(year=self.qualified_on.year + 1)
        except ValueError:  # 29 February
            anniversary = self.qualified_on.replace(year=self.qualified_on.year + 1, day=28)
        return on < anniversary

    def can_take_orders(self, on: date) -> bool:
        return self.may_take_orders and self.province_wide and not self.qualified_under_one_year(on)
