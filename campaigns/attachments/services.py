"""Writes of a campaign's files: add (type checked by content, size, then stored under a random
name inside the transaction) and delete (the stored file once the deletion has committed). The
stored file lives and dies with its row."""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.attachments import filetypes
from campaigns.models import (
    AttachmentKind,
    Campaign,
    CampaignAttachment,
)
from campaigns.services import require_edit
from mops.errors import Conflict
from mops.services import audit, snapshot

ATTACHMENT_FIELDS = ["campaign", "name", "size", "content_type", "kind"]


def attachment_add(*, actor, campaign: Campaign, uploaded_file, kind: str) -> CampaignAttachment:
    """Attach a file to a campaign: a brief, creative, contract or PO, a report.

    Refused with a ``ValidationError`` on ``file`` — and nothing stored, on disk or in the
    database — when the file is empty, over ``ATTACHMENT_MAX_BYTES``, not of an allowed type by its
    content, or named with an extension its content contradicts (``campaigns.attachments.filetypes.check``).
    The file is written under a random name only after those checks, inside the transaction, and
    removed again if the transaction fails.
    """
    require_edit(actor, campaign)
    if kind not in AttachmentKind.values:
        raise ValidationError({"kind": [f"Unknown kind {kind!r}; use one of {', '.join(AttachmentKind.values)}."]})
    checked = filetypes.check(uploaded_file)
    attachment = CampaignAttachment(
        campaign=campaign,
        name=checked.name,
        size=checked.size,
        content_type=checked.content_type,
        kind=kind,
        uploaded_by=actor,
    )
    stored = None
    try:
        with transaction.atomic():
            attachment.file.save(f"{uuid.uuid4().hex}{checked.extension}", uploaded_file, save=False)
            stored = attachment.file.name
            attachment.save()
            audit(
                actor=actor,
                action="attachment.add",
                obj=attachment,
                after={**snapshot(attachment, ATTACHMENT_FIELDS), "stored_as": stored},
            )
    except BaseException:
        if stored:
            attachment.file.storage.delete(stored)
        raise
    return attachment


def attachment_delete(*, actor, attachment: CampaignAttachment) -> None:
    """Delete a campaign's file: the row now, the stored file once the deletion has committed (a
    rollback keeps both)."""
    require_edit(actor, attachment.campaign)
    with transaction.atomic():
        current = CampaignAttachment.objects.select_for_update().filter(pk=attachment.pk).first()
        if current is None:
            raise Conflict("The file was deleted meanwhile.")
        storage, stored = current.file.storage, current.file.name
        audit(
            actor=actor,
            action="attachment.delete",
            obj=current,
            before={**snapshot(current, ATTACHMENT_FIELDS), "stored_as": stored},
        )
        current.delete()
        transaction.on_commit(lambda: storage.delete(stored))
