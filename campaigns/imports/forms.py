"""Forms of the import pages: the upload and the mapping of unknown campaign references. They parse
input only; the services check the file."""

from django import forms

from campaigns.models import FactSource, ImportBatch
from mops.forms import CrispyFormMixin

IMPORT_FORMATS = [
    ("", "Detect automatically"),
    (FactSource.GOOGLE_ADS, FactSource.GOOGLE_ADS.label),
    (FactSource.META_ADS, FactSource.META_ADS.label),
    (FactSource.LINKEDIN_ADS, FactSource.LINKEDIN_ADS.label),
    (FactSource.MICROSOFT_ADS, FactSource.MICROSOFT_ADS.label),
    (FactSource.GENERIC, "Generic spreadsheet (our template)"),
]


class ImportUploadForm(CrispyFormMixin, forms.Form):
    submit_label = "Upload and check"
    file = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
        help_text="A CSV, tab-separated text or XLSX export from an ad platform, or our spreadsheet template.",
    )
    format = forms.ChoiceField(choices=IMPORT_FORMATS, required=False)
    commit_mode = forms.ChoiceField(
        choices=ImportBatch.CommitMode.choices,
        initial=ImportBatch.CommitMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
        label="If some rows are bad",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_enctype = "multipart/form-data"
        self.helper.attrs = {"enctype": "multipart/form-data"}


SKIP = "skip"


class ImportMappingForm(CrispyFormMixin, forms.Form):
    """Each campaign name or id in the file that matches no campaign → one of the user's campaigns,
    or skip its rows. The choice is remembered as an alias for the next import from that source."""

    submit_label = "Save mapping"

    def __init__(self, *args, refs: list[str], campaigns, **kwargs):
        super().__init__(*args, **kwargs)
        self.refs = list(refs)
        self.campaigns = {str(c.pk): c for c in campaigns}
        choices = [("", "Choose a campaign…"), (SKIP, "Skip these rows")]
        choices += [(pk, f"{c.name} ({c.code})") for pk, c in self.campaigns.items()]
        for index, ref in enumerate(self.refs):
            self.fields[f"ref_{index}"] = forms.ChoiceField(choices=choices, label=ref)

    def mapping(self) -> dict:
        """{ref: Campaign or None (skip)} for the import service."""
        return {
            ref: self.campaigns.get(self.cleaned_data[f"ref_{index}"])
            for index, ref in enumerate(self.refs)
            if self.cleaned_data.get(f"ref_{index}")
        }
