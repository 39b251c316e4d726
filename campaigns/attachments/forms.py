"""The form of the campaign page's "Files" section. It parses input only; the type and size checks
are the service's (``attachments.services.attachment_add``)."""

from django import forms
from django.conf import settings

from campaigns.attachments import filetypes
from campaigns.models import AttachmentKind
from mops.forms import CrispyFormMixin


class AttachmentForm(CrispyFormMixin, forms.Form):
    """A file for the campaign page's "Files" section; the type and size checks are the service's."""

    submit_label = "Upload"
    file = forms.FileField(widget=forms.ClearableFileInput(attrs={"accept": ",".join(filetypes.ALLOWED_EXTENSIONS)}))
    kind = forms.ChoiceField(choices=AttachmentKind.choices, initial=AttachmentKind.BRIEF)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = filetypes.human_size(settings.ATTACHMENT_MAX_BYTES)
        self.fields["file"].help_text = f"Up to {limit}: {filetypes.ALLOWED_LABELS}."
        self.helper.form_tag = False
