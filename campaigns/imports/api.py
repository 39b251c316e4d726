"""Spreadsheet and ad-platform imports: upload (checked at once, nothing written), map the campaigns
the file names that mops does not know, start (the worker writes the facts), and follow progress.

Everything goes through ``campaigns.imports.services``; an import is seen by its uploader, the CMO and ops
admins (``permissions.imports_visible_to``), and only its uploader maps and starts it.
"""

from types import SimpleNamespace

import rules
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from campaigns import permissions
from campaigns.importers.formats import IMPORTERS
from campaigns.imports import messages as import_messages
from campaigns.imports import selectors
from campaigns.imports import services as imports
from campaigns.models import FactSource, ImportBatch, ImportStatus
from campaigns.permissions import campaigns_visible_to
from mops.api_base import Policy

is_uploader = rules.predicate(lambda user, batch: batch.uploaded_by_id == user.pk, name="is_uploader")


class ImportBatchSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ImportStatus.choices, read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    unknown_campaigns = serializers.SerializerMethodField(
        help_text="Campaign names or ids in the file that match no campaign: map them before starting."
    )
    errors = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text='Row errors {"row": 12, "message": "…"}; a skipped campaign is {"row": null, "ref": "…"}.',
    )
    columns = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text='What each column of the file was read into, in order: {"column": "Leads", "field": "leads"}; '
        '"field": null for a column that was ignored.',
    )
    columns_ignored = serializers.SerializerMethodField(help_text="The columns of the file that nothing reads.")
    repeats = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Campaign-days whose spend repeats, to the cent, spend stored under another source: "
        '{"row": 7, "campaign": "brand-us", "date": "2026-01-05", "amount": "10.00", "currency": "USD", '
        '"source": "google_ads"} (the first 200; repeat_count has them all). Starting needs '
        '"allow_repeated_spend": true while there are any.',
    )
    messages = serializers.SerializerMethodField(
        help_text="What stands in the way of the import, in sentences: rows with errors, repeated spend."
    )

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "filename",
            "format",
            "commit_mode",
            "status",
            "uploaded_by",
            "created_at",
            "finished_at",
            "rows_total",
            "rows_done",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_rejected",
            "errors",
            "unknown_campaigns",
            "columns",
            "columns_ignored",
            "repeats",
            "repeat_count",
            "messages",
        ]
        read_only_fields = fields

    def get_unknown_campaigns(self, batch) -> list[str]:
        return selectors.unknown_refs(batch)

    def get_columns_ignored(self, batch) -> list[str]:
        return [c["column"] for c in batch.columns if not c.get("field")]

    def get_messages(self, batch) -> list[str]:
        found = [import_messages.row_errors(batch), import_messages.repeats(batch)]
        return [m if m.endswith(".") else f"{m}." for m in found if m]


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(
        choices=FactSource.choices,
        required=False,
        allow_null=True,
        help_text=f"One of {', '.join(sorted(IMPORTERS))}; detected from the columns if left out.",
    )
    commit_mode = serializers.ChoiceField(choices=ImportBatch.CommitMode.choices, default="all")


class ImportMappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        allow_empty=False,
        help_text='Name in the file → campaign id, or null to skip its rows: {"Brand US": 12, "Old test": null}.',
    )

    def validate_mapping(self, mapping):
        ids = {pk for pk in mapping.values() if pk is not None}
        found = campaigns_visible_to(self.context["request"].user).in_bulk(ids)
        missing = sorted(ids - set(found))
        if missing:
            raise serializers.ValidationError([f"There is no campaign {pk}." for pk in missing])
        return {ref: found.get(pk) for ref, pk in mapping.items()}


class ImportStartSerializer(serializers.Serializer):
    allow_repeated_spend = serializers.BooleanField(
        default=False,
        help_text="Start even though rows repeat spend stored under another source (see repeats): "
        "say so only when it is other money.",
    )


class FormatIsAFilter(DefaultContentNegotiation):
    """Here ``?format=`` filters imports by file format (``filterset_fields``); without this, DRF read it
    as the response's format: ``?format=generic`` was a 404 and ``?format=api`` an HTML page."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


class ImportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Imports of spend and results. ``POST`` a file (multipart) to upload and check it."""

    serializer_class = ImportBatchSerializer
    permission_classes = [Policy]
    policy = {
        "list": rules.is_authenticated,  # rows: imports_visible_to
        "retrieve": rules.is_authenticated,
        "create": permissions.can_import,
        "map": is_uploader,
        "start": is_uploader,
    }
    filterset_fields = ["status", "format"]
    ordering_fields = ["created_at"]
    content_negotiation_class = FormatIsAFilter

    def get_queryset(self):
        return permissions.imports_visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportBatchSerializer},
    )
    def create(self, request, *args, **kwargs):
        """Upload a CSV, TSV or XLSX file; it is checked at once and nothing is written yet."""
        body = ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        batch = imports.import_upload(
            actor=request.user,
            file=data["file"],
            filename=data["file"].name,
            commit_mode=data["commit_mode"],
            format=data.get("format") or None,
        )
        return Response(self.get_serializer(batch).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ImportMappingSerializer, responses=ImportBatchSerializer)
    @action(detail=True, methods=["post"])
    def map(self, request, pk=None):
        """Say which campaign each unknown name is (remembered for the next file of this format)."""
        batch = self.get_object()
        body = ImportMappingSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        batch = imports.import_map(actor=request.user, batch=batch, mapping=body.validated_data["mapping"])
        return Response(self.get_serializer(batch).data)

    @extend_schema(request=ImportStartSerializer, responses={202: ImportBatchSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Queue the import; follow ``status`` and ``rows_done`` / ``rows_total`` on the import. Refused
        (400, saying why) while rows repeat spend stored under another source, unless
        ``allow_repeated_spend`` is true."""
        batch = self.get_object()
        body = ImportStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = imports.import_start(
            actor=request.user, batch=batch, allow_repeated_spend=body.validated_data["allow_repeated_spend"]
        )
        return Response(self.get_serializer(batch).data, status=status.HTTP_202_ACCEPTED)
