import json
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from peixun.core.choices import TrainingFormat
from peixun.core.forms import Form

from .models import DegreeOffset
from .policy import PRESETS, category_label

CERTIFICATE_TYPES = (".pdf", ".jpg", ".jpeg", ".png")
MAX_UPLOAD = 10 * 1024 * 1024


def validate_upload(upload):
    if upload is None:
        return upload
    if not upload.name.lower().endswith(CERTIFICATE_TYPES):
        raise forms.ValidationError(_("Upload a PDF, JPG or PNG file."))
    if upload.size > MAX_UPLOAD:
        raise forms.ValidationError(_("The file is larger than 10 MB."))
    return upload


class AdjustmentForm(Form):
    category = forms.ChoiceField(label=_("Category"))
    level = forms.CharField(label=_("Sub-category / level"), required=False, max_length=20)
    amount = forms.DecimalField(label=_("Credits (negative to deduct)"), max_digits=7, decimal_places=2)
    earned_on = forms.DateField(label=_("Counts on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, rules=None, **kwargs):
        super().__init__(*args, **kwargs)
        if rules is not None:
            self.fields["category"].choices = [(c.code, c.label) for c in rules.categories]


class PolicyCreateForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    start = forms.ChoiceField(label=_("Start from"))

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f"preset:{k}", _("Preset %(name)s") % {"name": k}) for k in PRESETS]
        choices += [(f"policy:{p.pk}", str(p)) for p in policies]
        self.fields["start"].choices = choices


class PolicyEditForm(Form):
    """The numbers an officer usually changes, plus the full data for everything else."""

    name = forms.CharField(label=_("Name"), max_length=100)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
    cycle_start = forms.IntegerField(label=_("First school year of the cycles"), min_value=2000, max_value=2100)
    cycle_length = forms.IntegerField(label=_("Cycle length (years)"), min_value=1, max_value=10)
    total_minimum = forms.DecimalField(label=_("Total minimum per cycle"), required=False, min_value=0)
    annual_minimum = forms.DecimalField(label=_("Minimum per school year"), required=False, min_value=0)
    hours_per_credit = forms.DecimalField(label=_("Default hours per credit"), min_value=Decimal("0.1"))
    online_share_max = forms.DecimalField(
        label=_("Online share of a blended project's credits (0–1)"), required=False, min_value=0, max_value=1
    )
    data = forms.CharField(
        label=_("Full policy data (JSON)"),
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace small"}),
        help_text=_("Edit this for anything not above (levels, interchange groups, item rules, aliases)."),
    )

    def __init__(self, *args, policy=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.category_codes = []
        self.source_types = []
        data = policy.data if policy is not None else {}
        for cat in data.get("categories", []):
            code = cat["code"]
            self.category_codes.append(code)
            label = category_label(code)
            self.fields[f"min_{code}"] = forms.DecimalField(
                label=_("%(category)s: minimum") % {"category": label}, min_value=0, required=False
            )
            self.fields[f"cap_{code}"] = forms.DecimalField(
                label=_("%(category)s: cap per cycle") % {"category": label}, min_value=0, required=False
            )
        for source in data.get("sources", {}):
            self.source_types.append(source)
            self.fields[f"src_{source}_year"] = forms.DecimalField(
                label=_("%(source)s: cap per school year") % {"source": source_label(source)},
                min_value=0,
                required=False,
            )
            self.fields[f"src_{source}_cycle"] = forms.DecimalField(
                label=_("%(source)s: cap per cycle") % {"source": source_label(source)}, min_value=0, required=False
            )
        self.fields["interchange_all"] = forms.BooleanField(
            label=_("All cycle categories are interchangeable (excess fills shortfalls)"), required=False
        )
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"
            elif "class" not in field.widget.attrs:
                field.widget.attrs["class"] = "form-control"
        if policy is not None and not self.is_bound:
            self.initial.update(self.initial_from(policy))

    @staticmethod
    def initial_from(policy) -> dict:
        data = policy.data
        conv = data.get("conversion", {})
        default = next(
            (r for r in conv.get("rules", []) if not (r.get("category") or r.get("level") or r.get("format"))), {}
        )
        initial = {
            "name": policy.name,
            "note": policy.note,
            "cycle_start": data["cycle"]["start_year"],
            "cycle_length": data["cycle"]["length"],
            "total_minimum": data.get("total_minimum"),
            "annual_minimum": data.get("annual_minimum"),
            "hours_per_credit": default.get("hours_per_credit"),
            "online_share_max": conv.get("online_share_max"),
            "data": json.dumps(data, ensure_ascii=False, indent=2),
            "interchange_all": bool(data.get("interchange")),
        }
        for cat in data.get("categories", []):
            initial[f"min_{cat['code']}"] = cat.get("minimum")
            initial[f"cap_{cat['code']}"] = cat.get("cap_per_cycle")
        for source, cap in data.get("sources", {}).items():
            initial[f"src_{source}_year"] = cap.get("cap_per_year")
            initial[f"src_{source}_cycle"] = cap.get("cap_per_cycle")
        return initial

    def clean_data(self):
        try:
            value = json.loads(self.cleaned_data["data"])
        except ValueError:
            raise forms.ValidationError(_("The policy data is not valid JSON.")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The policy data must be an object."))
        return value

    def policy_data(self) -> dict:
        """The JSON data with the quick fields applied on top."""
        cd = self.cleaned_data
        data = cd["data"]

        def s(value):
            return None if value is None else str(value)

        data.setdefault("cycle", {})
        data["cycle"]["start_year"] = cd["cycle_start"]
        data["cycle"]["length"] = cd["cycle_length"]
        data["total_minimum"] = s(cd.get("total_minimum"))
        data["annual_minimum"] = s(cd.get("annual_minimum"))
        conv = data.setdefault("conversion", {})
        conv["online_share_max"] = s(cd.get("online_share_max"))
        rules = conv.setdefault("rules", [])
        default = next((r for r in rules if not (r.get("category") or r.get("level") or r.get("format"))), None)
        if default is None:
            default = {"category": "", "level": "", "format": ""}
            rules.append(default)
        default["hours_per_credit"] = str(cd["hours_per_credit"])
        for cat in data.get("categories", []):
            code = cat.get("code")
            if f"min_{code}" in cd:
                cat["minimum"] = s(cd.get(f"min_{code}")) or "0"
                cat["cap_per_cycle"] = s(cd.get(f"cap_{code}"))
        for source, cap in data.get("sources", {}).items():
            if f"src_{source}_year" in cd:
                cap["cap_per_year"] = s(cd.get(f"src_{source}_year"))
                cap["cap_per_cycle"] = s(cd.get(f"src_{source}_cycle"))
        if cd.get("interchange_all"):
            data["interchange"] = [[c["code"] for c in data.get("categories", []) if not c.get("separate")]]
        else:
            data["interchange"] = []
        return data


def source_label(source: str) -> str:
    from .models import SourceType

    return str(dict(SourceType.choices).get(source, source))


class DegreeApplyForm(Form):
    degree = forms.ChoiceField(label=_("Degree"), choices=DegreeOffset.Degree.choices)
    institution_name = forms.CharField(label=_("Awarding institution"), max_length=100)
    obtained_on = forms.DateField(label=_("Date obtained"), widget=forms.DateInput(attrs={"type": "date"}))
    certificate = forms.FileField(label=_("Certificate (PDF, JPG or PNG, at most 10 MB)"), validators=[validate_upload])


class ReviewForm(Form):
    note = forms.CharField(label=_("Note (required when refusing)"), max_length=300, required=False)


class FloorForm(Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    school_year = forms.IntegerField(label=_("School year (first year, e.g. 2025 for 2025–2026)"), min_value=2000)
    reason = forms.CharField(
        label=_("Reason (predicted shortfall)"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    credits_per_teacher = forms.DecimalField(label=_("Credits per teacher"), max_digits=4, decimal_places=2)
    hours = forms.DecimalField(label=_("Hours"), max_digits=6, decimal_places=1, required=False)
    format = forms.ChoiceField(label=_("Format"), choices=TrainingFormat.choices)


class FeedbackForm(Form):
    feedback = forms.CharField(label=_("Feedback (required when returning)"), max_length=300, required=False)
