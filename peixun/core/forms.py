from django import forms


class BootstrapMixin:
    """Gives every widget Bootstrap classes so templates can render forms generically."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput,)):
                css = "form-check-input"
            elif isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
                css = ""
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            if css:
                widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def add_domain_error(self, error) -> None:
        """Show a service's DomainError on the form (field-specific when details name a field)."""
        details = getattr(error, "details", None)
        field = details.get("field") if isinstance(details, dict) else None
        self.add_error(field if field in self.fields else None, error.message)


class Form(BootstrapMixin, forms.Form):
    pass


class ModelForm(BootstrapMixin, forms.ModelForm):
    pass
