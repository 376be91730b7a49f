from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.core.forms import Form

from .models import Term


def _dt_widget():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TermCreateForm(Form):
    code = forms.CharField(label=_("Code"), max_length=20, help_text=_("e.g. 2025H1"))
    name = forms.CharField(label=_("Term name"), max_length=40, help_text=_("e.g. 2025年上半年"))
    year = forms.IntegerField(
        label=_("Year"),
        min_value=2000,
        max_value=2100,
        help_text=_("The 2024 H1 preset dates are copied to this year."),
    )
    selection_mode = forms.ChoiceField(label=_("Round 1 selection mode"), choices=Term.SelectionMode.choices)
    per_teacher_limit = forms.IntegerField(
        label=_("Classes per teacher per term"), min_value=1, max_value=20, initial=3
    )
    schedule_lead_days = forms.IntegerField(
        label=_("Days before a class its schedule must be published"), min_value=0, max_value=60, initial=5
    )


class TermSettingsForm(Form):
    name = forms.CharField(label=_("Term name"), max_length=40)
    selection_mode = forms.ChoiceField(label=_("Round 1 selection mode"), choices=Term.SelectionMode.choices)
    per_teacher_limit = forms.IntegerField(label=_("Classes per teacher per term"), min_value=1, max_value=20)
    school_share_cap = forms.IntegerField(
        label=_("Cap on one school's share of a class (%)"), min_value=1, max_value=100, required=False
    )
    order_projects_use_quota = forms.BooleanField(
        label=_("Order projects count against institution quotas"), required=False
    )
    min_orders_per_county = forms.IntegerField(label=_("Minimum orders per county"), min_value=0, max_value=50)
    schedule_lead_days = forms.IntegerField(
        label=_("Days before a class its schedule must be published"), min_value=0, max_value=60
    )


class WindowForm(Form):
    starts_at = forms.DateTimeField(label=_("Opens"), widget=_dt_widget())
    ends_at = forms.DateTimeField(label=_("Closes"), widget=_dt_widget())


class ExtendForm(Form):
    new_ends_at = forms.DateTimeField(label=_("New closing time"), widget=_dt_widget())
    reason = forms.CharField(label=_("Reason"), max_length=300)


class BatchForm(Form):
    """A staggered-opening batch of a selection round (cities / counties, or school codes)."""

    kind = forms.ChoiceField(label=_("Round"), choices=())
    name = forms.CharField(label=_("Batch name"), max_length=60, help_text=_("e.g. 第二批：东湖市"))
    opens_at = forms.DateTimeField(label=_("Opens"), widget=_dt_widget())
    regions = forms.ModelMultipleChoiceField(
        label=_("Cities / counties"), queryset=None, required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    school_codes = forms.CharField(
        label=_("School codes"), required=False, help_text=_("Separated by spaces or commas"), max_length=2000
    )

    def __init__(self, *args, kinds=(), **kwargs):
        from peixun.orgs.models import Region

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)
        self.fields["regions"].queryset = Region.objects.filter(level__in=("city", "county")).order_by("path")

    def clean_school_codes(self):
        from peixun.orgs.models import School

        codes = [c for c in self.cleaned_data["school_codes"].replace("，", ",").replace(",", " ").split() if c]
        schools = list(School.objects.filter(code__in=codes))
        missing = sorted(set(codes) - {s.code for s in schools})
        if missing:
            raise forms.ValidationError(_("Unknown school codes: %(codes)s") % {"codes": "、".join(missing[:10])})
        return schools
