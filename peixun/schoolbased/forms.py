from django import forms as dj
from django.utils.translation import gettext_lazy as _

from peixun.core.forms import Form
from peixun.credits.forms import validate_upload

from .models import ActivityRecord, SchoolPlan
from .models import Form as PlanForm


class PlanEditForm(Form):
    school_year = dj.IntegerField(
        label=_("School year (first year, e.g. 2025 for 2025–2026)"), min_value=2000, max_value=2100
    )
    title = dj.CharField(label=_("Title"), max_length=100)
    forms = dj.MultipleChoiceField(label=_("Forms"), choices=PlanForm.choices, widget=dj.CheckboxSelectMultiple)
    other_forms = dj.CharField(label=_("Other forms (name them)"), max_length=200, required=False)
    hours_per_credit = dj.DecimalField(label=_("Hours per credit for hour-based forms"), max_digits=5, decimal_places=1)
    activities = dj.CharField(label=_("Planned activities"), widget=dj.Textarea(attrs={"rows": 5}))
    responsible = dj.CharField(label=_("Responsible people"), max_length=200)


class PlanReviewForm(Form):
    review_body = dj.ChoiceField(label=_("Reviewed by"), choices=SchoolPlan.ReviewBody.choices)
    feedback = dj.CharField(
        label=_("Feedback (required when returning)"),
        max_length=500,
        required=False,
        widget=dj.Textarea(attrs={"rows": 2}),
    )


class RecordForm(Form):
    teacher = dj.TypedChoiceField(label=_("Teacher"), coerce=int)
    kind = dj.ChoiceField(label=_("Kind"), choices=ActivityRecord.Kind.choices)
    form = dj.ChoiceField(label=_("Form (hour-based records)"), required=False)
    level = dj.ChoiceField(
        label=_("Level (open lessons, lectures)"), choices=[("", "—"), *ActivityRecord.Level.choices], required=False
    )
    quantity = dj.IntegerField(label=_("Number of lessons / times"), min_value=0, required=False)
    hours = dj.DecimalField(label=_("Hours"), min_value=0, max_digits=6, decimal_places=1, required=False)
    held_on = dj.DateField(label=_("Date"), widget=dj.DateInput(attrs={"type": "date"}))
    description = dj.CharField(label=_("Process record"), widget=dj.Textarea(attrs={"rows": 3}))
    assessing_body = dj.CharField(label=_("Assessing workshop / studio"), max_length=100, required=False)
    assessment_passed = dj.BooleanField(label=_("Passed that body's assessment"), required=False)
    evidence = dj.FileField(label=_("Evidence (PDF, JPG or PNG)"), required=False, validators=[validate_upload])

    def __init__(self, *args, plan=None, teachers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].choices = [(t.pk, t.name) for t in teachers]
        if plan is not None:
            labels = dict(PlanForm.choices)
            self.fields["form"].choices = [("", "—")] + [(f, labels.get(f, f)) for f in plan.form_list]


class EvidenceForm(Form):
    file = dj.FileField(label=_("Evidence (PDF, JPG or PNG)"), validators=[validate_upload])


class RevokeForm(Form):
    reason = dj.CharField(label=_("Reason"), max_length=300)
