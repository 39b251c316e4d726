"""The import pages: list, upload, detail (with the mapping), start and the progress partial. Thin:
parse the request, check the policy, call ``imports.services``, render."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns import permissions
from campaigns.imports import messages as import_messages
from campaigns.imports import selectors
from campaigns.imports import services as imports
from campaigns.imports.forms import ImportMappingForm, ImportUploadForm
from campaigns.models import FactSource, ImportStatus
from campaigns.selectors import editable_campaigns
from mops.errors import Conflict
from mops.forms import add_service_errors


@require_GET
def import_list(request):
    if not permissions.can_view_campaigns(request.user):
        raise PermissionDenied("The campaigns area is for marketers, the CMO, finance and ops admins.")
    page = Paginator(selectors.my_imports(user=request.user), 25).get_page(request.GET.get("page"))
    return render(
        request, "campaigns/imports/list.html", {"page": page, "can_import": permissions.can_import(request.user)}
    )


@require_http_methods(["GET", "POST"])
def import_upload(request):
    if not permissions.can_import(request.user):
        raise PermissionDenied("Only marketers can import spend and results, for their own teams' campaigns.")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.import_upload(
                actor=request.user,
                file=upload,
                filename=upload.name,
                commit_mode=form.cleaned_data["commit_mode"],
                format=form.cleaned_data["format"] or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if batch.status == ImportStatus.CHECKING:
                messages.success(request, f"“{batch.filename}” uploaded; a worker is checking its rows.")
            else:
                messages.success(request, f"“{batch.filename}” uploaded and checked.")
            return redirect("campaigns:import-detail", pk=batch.pk)
    return render(request, "campaigns/imports/upload.html", {"form": form})


def _visible_import(request, pk):
    return get_object_or_404(permissions.imports_visible_to(request.user), pk=pk)


def _own_import(request, pk):
    batch = _visible_import(request, pk)
    if batch.uploaded_by_id != request.user.pk:
        raise PermissionDenied("Only the person who uploaded the file can map and start its import.")
    return batch


def _mapping_form(batch, user, data=None):
    refs = selectors.unknown_refs(batch)
    if not refs or batch.status != ImportStatus.UPLOADED or batch.uploaded_by_id != user.pk:
        return None
    return ImportMappingForm(data, refs=refs, campaigns=editable_campaigns(user=user))


def _import_context(request, batch, mapping_form=None):
    labels = dict(FactSource.choices)
    repeats = [{**r, "source_label": labels.get(r["source"], r["source"])} for r in batch.repeats[:200]]
    return {
        "batch": batch,
        "columns_ignored": [c["column"] for c in batch.columns if not c.get("field")],
        "repeats": repeats,
        "repeats_more": batch.repeat_count - len(repeats),
        "repeats_message": import_messages.repeats(batch),
        "row_errors": import_messages.row_errors(batch),
        "is_uploader": batch.uploaded_by_id == request.user.pk,
        "stalled": imports.import_stalled(batch),
        "mapping_form": mapping_form or _mapping_form(batch, request.user),
        "unknown_refs": selectors.unknown_refs(batch),
        "errors": batch.errors[:200],
        "row_error_count": selectors.import_row_error_count(batch),
    }


@require_GET
def import_detail(request, pk):
    batch = _visible_import(request, pk)
    return render(request, "campaigns/imports/detail.html", _import_context(request, batch))


@require_POST
def import_map(request, pk):
    batch = _own_import(request, pk)
    form = _mapping_form(batch, request.user, request.POST)
    if form is None:
        messages.info(request, "Nothing left to map.")
        return redirect("campaigns:import-detail", pk=pk)
    if form.is_valid():
        try:
            imports.import_map(actor=request.user, batch=batch, mapping=form.mapping())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Mapping saved; it is remembered for the next file from this source.")
            return redirect("campaigns:import-detail", pk=pk)
    return render(request, "campaigns/imports/detail.html", _import_context(request, batch, form), status=400)


@require_POST
def import_start(request, pk):
    batch = _own_import(request, pk)
    try:
        batch = imports.import_start(
            actor=request.user, batch=batch, allow_repeated_spend=bool(request.POST.get("allow_repeated_spend"))
        )
    except (ValidationError, Conflict) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, "Import started." if batch.status != ImportStatus.DONE else "Import finished.")
    return redirect("campaigns:import-detail", pk=pk)


@require_GET
def import_progress(request, pk):
    """The progress partial the detail page polls (htmx) while the import is queued or running."""
    batch = _visible_import(request, pk)
    return render(request, "campaigns/imports/_progress.html", {"batch": batch})
