"""A campaign's files, from its page: upload, download, delete.

Stored files are never served from a URL of their own (``MEDIA_URL`` is not routed): every
download goes through ``attachment_response``, which checks nothing itself — callers find the
attachment among ``attachments_visible_to(user)`` — and always answers as a download the browser
must not sniff, render or run.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors
from campaigns.attachments import services
from campaigns.attachments.forms import AttachmentForm
from campaigns.models import CampaignAttachment
from campaigns.permissions import attachments_visible_to, can_edit_attachment, can_edit_campaign
from mops.errors import Conflict


def attachment_response(attachment: CampaignAttachment) -> FileResponse:
    """The stored file as a download named as uploaded, with the type detected on upload."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.name, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it anyway (an old one, a PDF viewer), it gets no scripts, no origin.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private"
    return response


def _files_section(campaign_id) -> str:
    return f"{reverse('campaigns:campaign-detail', args=[campaign_id])}#files"


@require_POST
def attachment_add(request, pk):
    campaign = get_object_or_404(selectors.campaign_detail_queryset(user=request.user), pk=pk)
    if not can_edit_campaign(request.user, campaign):
        raise PermissionDenied("Only marketers of the campaign's team can attach files to it.")
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            attachment = services.attachment_add(
                actor=request.user, campaign=campaign, uploaded_file=upload, kind=form.cleaned_data["kind"]
            )
        except ValidationError as error:
            messages.error(request, f"“{upload.name}” was not attached: {' '.join(error.messages)}")
        else:
            messages.success(request, f"“{attachment.name}” attached.")
    else:
        messages.error(
            request,
            "The file was not attached: "
            + "; ".join(
                f"{form.fields[f].label or f.capitalize()}: {' '.join(e)}" if f in form.fields else " ".join(e)
                for f, e in form.errors.items()
            ),
        )
    return redirect(_files_section(pk))


@require_GET
def attachment_download(request, attachment_id):
    attachment = get_object_or_404(attachments_visible_to(request.user), pk=attachment_id)
    return attachment_response(attachment)


@require_POST
def attachment_delete(request, attachment_id):
    attachment = get_object_or_404(attachments_visible_to(request.user).select_related("campaign"), pk=attachment_id)
    if not can_edit_attachment(request.user, attachment):
        raise PermissionDenied("Only marketers of the campaign's team can delete its files.")
    try:
        services.attachment_delete(actor=request.user, attachment=attachment)
    except Conflict as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"“{attachment.name}” deleted.")
    return redirect(_files_section(attachment.campaign_id))
