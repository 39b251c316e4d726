"""Reads of imports for the pages and the API: a user's batches, the references a file still needs
mapped, the rows refused for an error of their own."""

from django.db.models import QuerySet

from campaigns.models import ImportBatch


def unknown_refs(batch: ImportBatch) -> list[str]:
    """The campaign names or ids in an import's file that still match no campaign."""
    refs = []
    for item in batch.unknown_campaigns or []:
        ref = item if isinstance(item, str) else (item.get("ref") or item.get("name") or item.get("external_ref"))
        if ref and ref not in refs:
            refs.append(str(ref))
    return refs


def import_row_error_count(batch: ImportBatch) -> int:
    """Rows rejected for an error in them (not those of a campaign reference the user skipped)."""
    skipped = sum(e.get("rows", 0) for e in batch.errors if e.get("row") is None and "ref" in e)
    return batch.rows_rejected - skipped


def my_imports(*, user) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(uploaded_by=user).order_by("-created_at", "-id")
