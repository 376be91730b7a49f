from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import (
    CreditCategory,
    Stage,
    Subject,
    SubjectCategory,
    Title,
    TrainingField,
    TrainingFormat,
    TrainingLevel,
)
from peixun.core.forms import Form
from peixun.orgs.models import Institution, Region

from .models import ChangeRequest, LecturerCheck, Project, StaffMember

BLANK = [("", "—")]
LEVELS = [c for c in TrainingLevel.choices if c[0] != TrainingLevel.SCHOOL]


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _local_regions():
    return (
        Region.objects.filter(level__in=(Region.Level.CITY, Region.Level.COUNTY))
        .select_related("parent")
        .order_by("path")
    )


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class RegionMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


class LeaderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_title_display()}）"


class ProjectForm(Form):
    """The application form (申报书). Credits are computed, shown live beside the 学时 fields."""

    name = forms.CharField(label=_("Project name"), max_length=100)
    theme = forms.CharField(label=_("Theme"), max_length=100)
    field = forms.ChoiceField(label=_("Training field"), choices=TrainingField.choices)
    subject_category = forms.ChoiceField(label=_("Subject category"), choices=SubjectCategory.choices)
    level = forms.ChoiceField(label=_("Training level"), choices=LEVELS)
    region = RegionChoiceField(
        label=_("Responsible city / county"),
        queryset=Region.objects.none(),
        required=False,
        help_text=_("For city and county projects: the bureau that reviews and publishes it."),
    )
    target_stages = forms.MultipleChoiceField(
        label=_("Target stages"),
        choices=Stage.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("None ticked: every stage."),
    )
    target_subjects = forms.MultipleChoiceField(
        label=_("Target subjects"),
        choices=Subject.choices,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        required=False,
        help_text=_("None chosen: every subject."),
    )
    target_regions = RegionMultipleChoiceField(
        label=_("Target regions"),
        queryset=Region.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text=_("None chosen: the whole province (or the responsible region)."),
    )
    rural_only = forms.BooleanField(label=_("Rural / mountain-island teachers only"), required=False)
    other_conditions = forms.CharField(label=_("Other conditions"), max_length=200, required=False)
    format = forms.ChoiceField(label=_("Format"), choices=TrainingFormat.choices)
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=366)
    hours_offline = forms.DecimalField(
        label=_("Offline hours"), min_value=0, max_digits=6, decimal_places=1, initial=0, required=False
    )
    hours_online = forms.DecimalField(
        label=_("Online hours"), min_value=0, max_digits=6, decimal_places=1, initial=0, required=False
    )
    credit_category = forms.ChoiceField(label=_("Credit category"), choices=CreditCategory.choices)
    credit_level = forms.CharField(label=_("Credit level"), max_length=20, required=False)
    goals = forms.CharField(
        label=_("Goals"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 200}),
        help_text=_("At most 200 characters."),
    )
    content = forms.CharField(label=_("Course content"), widget=forms.Textarea(attrs={"rows": 5}))
    fee_training = forms.DecimalField(label=_("Training fee"), min_value=0, max_digits=9, decimal_places=2, initial=0)
    fee_accommodation = forms.DecimalField(
        label=_("Accommodation fee"), min_value=0, max_digits=9, decimal_places=2, initial=0
    )
    fee_meals = forms.DecimalField(label=_("Meals fee"), min_value=0, max_digits=9, decimal_places=2, initial=0)
    fee_total = forms.DecimalField(
        label=_("Total fee (yuan)"),
        min_value=0,
        max_digits=9,
        decimal_places=2,
        initial=0,
        help_text=_("Must equal the sum of the components; nothing is charged beyond them."),
    )
    leader = LeaderChoiceField(label=_("Project leader"), queryset=StaffMember.objects.none(), required=False)
    is_b_certificate = forms.BooleanField(label=_("B-certificate project (outside the quota)"), required=False)

    LIVE_FIELDS = ("format", "level", "credit_category", "credit_level", "hours_offline", "hours_online")

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = staff if staff is not None else StaffMember.objects.none()
        self.fields["region"].queryset = _local_regions()
        self.fields["target_regions"].queryset = _local_regions()
        url = reverse_lazy("catalog:credits_preview")
        for name in self.LIVE_FIELDS:
            self.fields[name].widget.attrs.update(
                {
                    "hx-get": url,
                    "hx-trigger": "change, keyup changed delay:400ms",
                    "hx-target": "#credits-preview",
                    "hx-include": "closest form",
                }
            )


class ClassForm(Form):
    starts_on = forms.DateField(label=_("Starts"), widget=_date())
    ends_on = forms.DateField(label=_("Ends"), widget=_date())
    place = forms.CharField(label=_("Place"), max_length=200)
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=2000)
    waitlist_enabled = forms.BooleanField(label=_("Keeps a waitlist"), required=False, initial=True)


class ScheduleForm(Form):
    schedule = forms.CharField(
        label=_("Detailed schedule"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Day by day: time, topic, lecturer, place."),
    )


class LecturerForm(Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    organisation = forms.CharField(label=_("Organisation"), max_length=100)
    title = forms.CharField(label=_("Title"), max_length=40)
    expertise = forms.CharField(label=_("Expertise"), max_length=200)
    phone = forms.CharField(label=_("Contact phone"), max_length=30)
    email = forms.EmailField(label=_("E-mail"), required=False)
    topic = forms.CharField(label=_("Topic taught"), max_length=100, required=False)


class ReasonForm(Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class DeleteForm(Form):
    reason = forms.CharField(label=_("Reason for deletion"), max_length=300)
    confirm = forms.CharField(label=_("Type the project code to confirm"), max_length=30)


class CreditCorrectionForm(Form):
    credit_category = forms.ChoiceField(label=_("Credit category"), choices=CreditCategory.choices)
    credit_level = forms.CharField(label=_("Credit level"), max_length=20, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class SampleForm(Form):
    count = forms.IntegerField(label=_("Lecturers to draw"), min_value=1, max_value=20, initial=2)


class CheckForm(Form):
    result = forms.ChoiceField(
        label=_("Result"), choices=[c for c in LecturerCheck.Result.choices if c[0] != LecturerCheck.Result.PENDING]
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ChangeRequestForm(Form):
    kind = forms.ChoiceField(label=_("Kind of change"), choices=ChangeRequest.Kind.choices)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    project_class = forms.ModelChoiceField(
        label=_("Class"), queryset=None, required=False, help_text=_("For a change of dates or place.")
    )
    new_format = forms.ChoiceField(label=_("New format"), choices=BLANK + list(TrainingFormat.choices), required=False)
    hours_offline = forms.DecimalField(
        label=_("Offline hours"), min_value=0, max_digits=6, decimal_places=1, required=False
    )
    hours_online = forms.DecimalField(
        label=_("Online hours"), min_value=0, max_digits=6, decimal_places=1, required=False
    )
    starts_on = forms.DateField(label=_("New start"), widget=_date(), required=False)
    ends_on = forms.DateField(label=_("New end"), widget=_date(), required=False)
    place = forms.CharField(label=_("New place"), max_length=200, required=False)
    remove = forms.MultipleChoiceField(
        label=_("Lecturers to remove"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    add_name = forms.CharField(label=_("New lecturer: name"), max_length=40, required=False)
    add_organisation = forms.CharField(label=_("New lecturer: organisation"), max_length=100, required=False)
    add_title = forms.CharField(label=_("New lecturer: title"), max_length=40, required=False)
    add_expertise = forms.CharField(label=_("New lecturer: expertise"), max_length=200, required=False)
    add_phone = forms.CharField(label=_("New lecturer: phone"), max_length=30, required=False)
    description = forms.CharField(
        label=_("Description of another change"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project_class"].queryset = project.classes.order_by("number")
        self.fields["remove"].choices = [(str(pk), name) for pk, name in project.lecturers.values_list("pk", "name")]

    def proposed(self) -> dict:
        data = self.cleaned_data
        kind = data["kind"]
        if kind == ChangeRequest.Kind.FORMAT:
            proposed = {"format": data.get("new_format")}
            for key in ("hours_offline", "hours_online"):
                if data.get(key) is not None:
                    proposed[key] = str(data[key])
            return proposed
        if kind == ChangeRequest.Kind.DATES:
            return {"starts_on": data.get("starts_on"), "ends_on": data.get("ends_on")}
        if kind == ChangeRequest.Kind.PLACE:
            return {"place": data.get("place")}
        if kind == ChangeRequest.Kind.LECTURERS:
            add = []
            if data.get("add_name"):
                add.append(
                    {key: data.get(f"add_{key}", "") for key in ("name", "organisation", "title", "expertise", "phone")}
                )
            return {"add": add, "remove": [int(pk) for pk in data.get("remove") or []]}
        return {"description": data.get("description")}


class DecisionForm(Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class StaffForm(Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    national_id = forms.CharField(label=_("ID number"), max_length=18)
    title = forms.ChoiceField(label=_("Professional title"), choices=Title.choices)
    specialty = forms.MultipleChoiceField(
        label=_("Specialty (subject categories)"), choices=SubjectCategory.choices, widget=forms.CheckboxSelectMultiple
    )
    is_formal_employee = forms.BooleanField(label=_("Formal employee"), required=False, initial=True)
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["national_id"]


class CatalogFilterForm(Form):
    """The catalog's filters (GET)."""

    stage = forms.ChoiceField(label=_("Stage"), choices=BLANK + list(Stage.choices), required=False)
    subject = forms.ChoiceField(label=_("Subject"), choices=BLANK + list(Subject.choices), required=False)
    field = forms.ChoiceField(label=_("Training field"), choices=BLANK + list(TrainingField.choices), required=False)
    level = forms.ChoiceField(label=_("Training level"), choices=BLANK + LEVELS, required=False)
    format = forms.ChoiceField(label=_("Format"), choices=BLANK + list(TrainingFormat.choices), required=False)
    region = RegionChoiceField(label=_("Region"), queryset=Region.objects.none(), required=False)
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none(), required=False)
    date_from = forms.DateField(label=_("Starts from"), widget=_date(), required=False)
    date_to = forms.DateField(label=_("Starts until"), widget=_date(), required=False)
    seats = forms.BooleanField(label=_("With seats left"), required=False)
    mine = forms.BooleanField(label=_("Only projects I can take"), required=False)

    def __init__(self, *args, teacher=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = _local_regions()
        self.fields["institution"].queryset = Institution.objects.filter(is_active=True).order_by("code")
        if not teacher:
            del self.fields["mine"]


class ProjectFilterForm(Form):
    status = forms.ChoiceField(label=_("Status"), choices=BLANK + list(Project.Status.choices), required=False)
    term = forms.ModelChoiceField(label=_("Term"), queryset=None, required=False)
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.none(), required=False)
    level = forms.ChoiceField(label=_("Training level"), choices=BLANK + LEVELS, required=False)
    format = forms.ChoiceField(label=_("Format"), choices=BLANK + list(TrainingFormat.choices), required=False)
    field = forms.ChoiceField(label=_("Training field"), choices=BLANK + list(TrainingField.choices), required=False)
    responsible = forms.BooleanField(label=_("Reviewed by me"), required=False)

    def __init__(self, *args, terms, institutions=None, bureau=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["term"].queryset = terms
        if institutions is None:
            del self.fields["institution"]
        else:
            self.fields["institution"].queryset = institutions
        if not bureau:
            del self.fields["responsible"]
