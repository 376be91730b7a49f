from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from peixun.core.forms import Form

from .models import MisconductReport, Rating, SpotCheck


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several optional files in one input; the service checks types and sizes."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.doc,.docx,.xls,.xlsx"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _date_input():
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class SpotCheckForm(Form):
    checked_on = forms.DateField(label=_("Date checked"), widget=_date_input())
    method = forms.ChoiceField(label=_("Method"), choices=SpotCheck.Method.choices)
    rating = forms.TypedChoiceField(label=_("Rating"), choices=Rating.choices, coerce=int)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    follow_up_required = forms.BooleanField(label=_("The institution must follow up"), required=False)
    follow_up_due = forms.DateField(
        label=_("Follow-up due"),
        required=False,
        widget=_date_input(),
        help_text=_("Required when a follow-up is needed."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"), help_text=_("Optional: PDF, images, Word or Excel, up to 10 MB each.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checked_on"].initial = timezone.localdate()


class AnswerForm(Form):
    response = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    attachments = MultipleFileField(
        label=_("Attachments"), help_text=_("Optional: PDF, images, Word or Excel, up to 10 MB each.")
    )


class CloseForm(Form):
    note = forms.CharField(
        label=_("Closing note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the institution has not answered."),
    )


class MisconductForm(Form):
    national_id = forms.CharField(label=_("Trainee's ID number"), max_length=18)
    name = forms.CharField(label=_("Trainee's name"), max_length=40)
    kind = forms.ChoiceField(label=_("What happened"), choices=MisconductReport.Kind.choices)
    starts_on = forms.DateField(label=_("From"), widget=_date_input())
    ends_on = forms.DateField(label=_("Until"), widget=_date_input())
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)


class AcknowledgeForm(Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional: e.g. what the school has done."),
    )
