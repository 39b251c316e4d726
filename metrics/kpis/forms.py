"""The form an ops admin defines or changes a custom KPI with. It only types the input; the rules
(formula syntax, names, loops, reserved codes) are the service's, whose errors land on the fields
through ``add_service_errors``."""

from crispy_forms.layout import Submit
from django import forms

from metrics.kpis.models import KpiDefinition, KpiDirection, KpiUnit
from mops.forms import CrispyFormMixin

FORMULA_HELP = (
    "Measures and KPI codes with + - * /, parentheses, numbers, min(), max(), abs() and small powers "
    "(** 2). Example: (revenue - spend) / new_customers. A zero denominator shows “—”."
)


class KpiDefinitionForm(CrispyFormMixin, forms.Form):
    """A new KPI, or (``editing``) the next version of one: no code field, and the hidden version
    the form was loaded from."""

    submit_label = "Save"
    code = forms.CharField(
        max_length=40,
        help_text="2 to 40 lowercase letters, digits and _, starting with a letter; used in formulas and the API.",
    )
    name = forms.CharField(max_length=KpiDefinition._meta.get_field("name").max_length)
    formula = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "font-monospace"}),
        max_length=KpiDefinition._meta.get_field("formula").max_length,
        help_text=FORMULA_HELP,
    )
    unit = forms.ChoiceField(choices=KpiUnit.choices, initial=KpiUnit.NUMBER, help_text="Also how values are shown.")
    direction = forms.ChoiceField(choices=KpiDirection.choices, initial=KpiDirection.HIGHER)
    description = forms.CharField(
        max_length=KpiDefinition._meta.get_field("description").max_length,
        required=False,
        help_text="Shown as the tooltip on charts and tables; “name = formula” if empty.",
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        if editing:
            self.submit_label = "Save as a new version"
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
            # The version the form was loaded from: saving over a newer one is a conflict.
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
        # Checks the definition and shows its values this fiscal year, without saving.
        preview = Submit("preview", "Preview")
        preview.field_classes = "btn btn-outline-secondary ms-2"
        self.helper.add_input(preview)

    def definition(self) -> dict:
        """The cleaned values, as the services take them."""
        return {name: self.cleaned_data[name] for name in self.fields if name != "version"}
