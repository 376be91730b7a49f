from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import Stage, SubjectCategory
from peixun.core.forms import Form

from .models import Institution, Region


class RegionForm(Form):
    parent = forms.ModelChoiceField(label=_("Parent region"), queryset=Region.objects.none())
    name = forms.CharField(label=_("Name"), max_length=60)
    code = forms.CharField(label=_("Administrative code"), max_length=12)

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents if parents is not None else Region.objects.none()


class SchoolForm(Form):
    county = forms.ModelChoiceField(label=_("County"), queryset=Region.objects.none())
    code = forms.CharField(label=_("School code"), max_length=20)
    name = forms.CharField(label=_("School name"), max_length=100)
    stages = forms.MultipleChoiceField(
        label=_("Stages served"), choices=Stage.choices, widget=forms.CheckboxSelectMultiple
    )
    is_rural = forms.BooleanField(label=_("Rural school"), required=False)
    is_remote = forms.BooleanField(label=_("Mountain / island area"), required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, counties=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].queryset = counties if counties is not None else Region.objects.none()
        if editing:
            del self.fields["county"]
            del self.fields["code"]
        else:
            del self.fields["is_active"]


class InstitutionForm(Form):
    code = forms.CharField(label=_("Institution code"), max_length=20)
    name = forms.CharField(label=_("Institution name"), max_length=100)
    type = forms.ChoiceField(label=_("Institution type"), choices=Institution.Type.choices)
    region = forms.ModelChoiceField(label=_("Located in"), queryset=Region.objects.all(), required=False)
    qualified_on = forms.DateField(label=_("Date qualified"), widget=forms.DateInput(attrs={"type": "date"}))
    qualification_scope = forms.MultipleChoiceField(
        label=_("Qualified subject categories"), choices=SubjectCategory.choices, widget=forms.CheckboxSelectMultiple
    )
    province_wide = forms.BooleanField(label=_("Qualified for province-wide training"), required=False)
    may_blended = forms.BooleanField(label=_("May run blended training"), required=False)
    may_online = forms.BooleanField(label=_("May run online training"), required=False)
    may_take_orders = forms.BooleanField(label=_("May take orders"), required=False)
    contact_person = forms.CharField(label=_("Contact person"), max_length=40, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
