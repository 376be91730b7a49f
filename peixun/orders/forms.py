from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.catalog.models import StaffMember
from peixun.core.choices import (
    CreditCategory,
    Stage,
    Subject,
    SubjectCategory,
    TrainingField,
    TrainingFormat,
    TrainingLevel,
)
from peixun.core.forms import Form
from peixun.orgs.models import Institution

from .models import MAX_INTENDED
from .services.demands import MAX_DAYS, MAX_TRAINEES, ORDER_LEVELS


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


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_title_display()}）"


class ResponseForm(Form):
    """An institution's response: what the order leaves to the institution (the rest is prefilled)."""

    subject_category = forms.ChoiceField(label=_("Subject category"), choices=SubjectCategory.choices)
    credit_category = forms.ChoiceField(label=_("Credit category"), choices=CreditCategory.choices)
    hours_offline = forms.DecimalField(label=_("Offline hours (学时)"), min_value=0, max_digits=6, decimal_places=1)
    hours_online = forms.DecimalField(label=_("Online hours (学时)"), min_value=0, max_digits=6, decimal_places=1)
    content = forms.CharField(label=_("Course content"), widget=forms.Textarea(attrs={"rows": 4}))
    fee_training = forms.DecimalField(label=_("Training fee"), min_value=0, max_digits=10, decimal_places=2)
    fee_accommodation = forms.DecimalField(label=_("Accommodation fee"), min_value=0, max_digits=10, decimal_places=2)
    fee_meals = forms.DecimalField(label=_("Meals fee"), min_value=0, max_digits=10, decimal_places=2)
    leader = StaffChoice(label=_("Project leader"), queryset=StaffMember.objects.none(), required=False)
    class_starts_on = forms.DateField(
        label=_("Class starts on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The class lasts as many days as ordered and seats the ordered number of trainees."),
    )
    class_place = forms.CharField(label=_("Class place"), max_length=200, required=False)
    note = forms.CharField(
        label=_("Note to the county"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500}),
        help_text=_("What your institution offers for this order: experience, lecturers, arrangements."),
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        if staff is not None:
            self.fields["leader"].queryset = staff


class RemarkForm(Form):
    remark = forms.CharField(
        label=_("County's remark"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": 300}),
        help_text=_("Why this institution; the institutions not chosen see this remark."),
    )
