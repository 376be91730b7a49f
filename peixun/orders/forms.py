from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import Stage, Subject, TrainingField, TrainingFormat, TrainingLevel
from peixun.core.forms import Form
from peixun.orgs.models import Institution

from .models import MAX_INTENDED
from .services import MAX_DAYS, MAX_TRAINEES, ORDER_LEVELS


class InstitutionChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class OrderForm(Form):
    """主题式培训项目订单 (attachment 3)."""

    name = forms.CharField(label=_("Project name"), max_length=100)
    theme = forms.CharField(label=_("Training theme"), max_length=100)
    target_trainees = forms.CharField(
        label=_("Target trainees"),
        max_length=200,
        help_text=_("Who should attend, e.g. primary mathematics teachers in their first five years."),
    )
    target_stages = forms.MultipleChoiceField(
        label=_("Stages"), choices=Stage.choices, widget=forms.CheckboxSelectMultiple
    )
    target_subjects = forms.MultipleChoiceField(
        label=_("Subjects"),
        choices=Subject.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None chosen: every subject."),
    )
    field = forms.ChoiceField(label=_("Training field"), choices=TrainingField.choices)
    trainee_count = forms.IntegerField(label=_("Number of trainees"), min_value=1, max_value=MAX_TRAINEES)
    days = forms.IntegerField(label=_("Training days"), min_value=1, max_value=MAX_DAYS)
    level = forms.ChoiceField(
        label=_("Training level"), choices=[(v, label) for v, label in TrainingLevel.choices if v in ORDER_LEVELS]
    )
    format = forms.ChoiceField(label=_("Training format"), choices=TrainingFormat.choices)
    goals = forms.CharField(
        label=_("Training goals (at most 200 characters)"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 200}),
    )
    course_requirements = forms.CharField(
        label=_("Course requirements (at most 200 characters)"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 200}),
    )
    intended_institutions = InstitutionChoices(
        label=_("Intended institutions"),
        queryset=Institution.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "At most three. The order is pushed only to them; with none it goes to every institution "
            "qualified for province-wide training."
        ),
    )
    contact_person = forms.CharField(label=_("Contact person"), max_length=40)
    contact_phone = forms.CharField(label=_("Mobile phone"), max_length=30)

    def __init__(self, *args, takers=None, **kwargs):
        super().__init__(*args, **kwargs)
        ids = [i.pk for i in (takers or [])]
        self.fields["intended_institutions"].queryset = Institution.objects.filter(pk__in=ids).order_by("code")

    def clean_intended_institutions(self):
        chosen = self.cleaned_data["intended_institutions"]
        if len(chosen) > MAX_INTENDED:
            raise forms.ValidationError(_("Name at most %(n)s intended institutions.") % {"n": MAX_INTENDED})
        return chosen


class ReasonForm(Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
