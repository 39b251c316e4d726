from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from planning.models import Channel


class ChannelForm(forms.ModelForm):
    class Meta:
        model = Channel
        fields = ["name", "slug", "group", "description"]
        help_texts = {"slug": "Derived from the name if empty."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Add channel"))
