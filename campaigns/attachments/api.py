"""A campaign's files: list (``?campaign=``), read, download, upload (multipart) and delete.

Seen by whoever sees the campaign (``permissions.attachments_visible_to``); added and deleted by
its editors through ``services.attachment_add`` / ``attachment_delete``, which check the type by
content and the size. Downloads are files, never rendered (see ``attachments.views``).
"""

import rules
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import permissions as policy
from campaigns.api.common import VisibleRelatedField
from campaigns.attachments import filetypes, services
from campaigns.attachments.views import attachment_response
from campaigns.models import AttachmentKind, Campaign, CampaignAttachment
from mops.api_base import Policy
from mops.permissions import is_marketer

_BINARY_TYPES = (filetypes.PDF, filetypes.PNG, filetypes.JPEG, filetypes.GIF, filetypes.WEBP)
_OFFICE_TYPES = (filetypes.DOCX, filetypes.XLSX, filetypes.PPTX)
# What a download is served as: the content type detected on upload, one of the allowed ones.
DOWNLOAD_CONTENT_TYPES = sorted(
    {kind.content_type for kind in (*_BINARY_TYPES, *_OFFICE_TYPES)} | set(filetypes.TEXT_TYPES.values())
)


class AttachmentSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    name = serializers.CharField(read_only=True, help_text="The uploaded file's name; the download is named so.")
    size = serializers.IntegerField(read_only=True, help_text="Bytes.")
    content_type = serializers.CharField(read_only=True, help_text="Detected from the content on upload.")
    download_url = serializers.SerializerMethodField(help_text="GET it (same credentials) for the file itself.")

    class Meta:
        model = CampaignAttachment
        fields = [
            "id",
            "campaign",
            "kind",
            "name",
            "size",
            "content_type",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, attachment) -> str:
        url = reverse("campaign-attachment-download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class AttachmentUploadSerializer(serializers.Serializer):
    campaign = VisibleRelatedField(model=Campaign, visible=policy.campaigns_visible_to)
    kind = serializers.ChoiceField(choices=AttachmentKind.choices, default=AttachmentKind.OTHER)
    file = serializers.FileField(
        allow_empty_file=True,  # the service refuses it with its own message
        help_text=(
            f"At most ATTACHMENT_MAX_BYTES (20 MB by default). Allowed, by content: {filetypes.ALLOWED_LABELS};"
            " the extension must agree with the content."
        ),
    )


class AttachmentViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Files attached to campaigns (briefs, creative, contracts and POs, reports)."""

    serializer_class = AttachmentSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: attachments_visible_to
        "retrieve": rules.is_authenticated,
        "download": rules.is_authenticated,
        "create": is_marketer,  # on which campaign: attachment_add decides (403 with the reason)
        "destroy": policy.can_edit_attachment,
        # A file is replaced by deleting it and uploading another: let DRF answer 405, not 403.
        "put": rules.is_authenticated,
        "patch": rules.is_authenticated,
    }
    filterset_fields = ["campaign", "kind"]
    ordering_fields = ["uploaded_at", "name", "size"]

    def get_queryset(self):
        return (
            policy.attachments_visible_to(self.request.user)
            .select_related("campaign", "uploaded_by")
            .order_by("-uploaded_at", "-id")
        )

    @extend_schema(request={"multipart/form-data": AttachmentUploadSerializer}, responses={201: AttachmentSerializer})
    def create(self, request, *args, **kwargs):
        """Attach a file (multipart: ``campaign``, ``kind``, ``file``) to a campaign of your team."""
        body = AttachmentUploadSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        attachment = services.attachment_add(
            actor=request.user, campaign=data["campaign"], uploaded_file=data["file"], kind=data["kind"]
        )
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.attachment_delete(actor=self.request.user, attachment=instance)

    @extend_schema(
        responses={
            (200, content_type): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, as a download with its detected content type."
            )
            for content_type in DOWNLOAD_CONTENT_TYPES
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The file itself (``Content-Disposition: attachment``), named as uploaded."""
        return attachment_response(self.get_object())
