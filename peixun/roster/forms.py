from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.core.forms import Form

from .models import Exemption, Teacher


class TeacherLocalForm(Form):
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    post = forms.ChoiceField(label=_("Post"), choices=Teacher.Post.choices)
    hire_date = forms.DateField(label=_("Hire date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    probation_end = forms.DateField(
        label=_("End of probation"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    remarks = forms.CharField(label=_("Remarks"), max_length=200, required=False)


class ExemptionForm(Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Exemption.Kind.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class ImportUploadForm(Form):
    file = forms.FileField(
        label=_("Export file"),
        help_text=_(
            "The teacher list exported from the national teacher information system, as .xlsx or .csv "
            "(UTF-8 or GBK). Columns are matched by their Chinese headers in any order."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )


class ImportApplyForm(Form):
    mark_leavers = forms.BooleanField(label=_("Mark teachers not in the file as left"), required=False)
