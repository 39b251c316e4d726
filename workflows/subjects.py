"""The workflow subject the engine offers itself: a general approval request."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from mops.selectors import FxRateMissing, to_base_currency
from mops.services import audit
from workflows import registry
from workflows.models import Request, RequestStatus
from workflows.permissions import can_start_request_for
from workflows.services.instances import instance_start

GENERAL_REQUEST = "general_request"


def _set_status(status):
    def callback(instance):
        Request.objects.filter(pk=instance.subject_id).update(status=status)

    return callback


def register() -> None:
    registry.register(
        registry.SubjectType(
            key=GENERAL_REQUEST,
            label="General approval request",
            model="workflows.Request",
            attributes=(
                registry.Attribute("amount", "Amount (base currency)", "decimal", lambda r: r.amount_base),
                registry.Attribute("team", "Team (code)", "text", lambda r: r.team.slug),
            ),
            team_of=lambda r: r.team,
            owner_of=lambda r: r.requested_by,
            url_of=lambda r: reverse("workflows:request-detail", args=[r.pk]),
            on_approved=_set_status(RequestStatus.APPROVED),
            on_rejected=_set_status(RequestStatus.REJECTED),
            on_returned=_set_status(RequestStatus.CHANGES_REQUESTED),
            on_resubmitted=_set_status(RequestStatus.IN_REVIEW),
            on_cancelled=_set_status(RequestStatus.CANCELLED),
        )
    )


def request_create(*, actor, template, title, team, description="", amount=None, currency="") -> Request:
    """Raise a general request and start its workflow, in one transaction."""
    if not can_start_request_for(actor, team):
        raise PermissionDenied("You can raise requests only for your own teams.")
    if template.subject_type != GENERAL_REQUEST:
        raise ValidationError({"template": ["Choose a template for general approval requests."]})
    request = Request(title=title.strip(), description=description, team=team, requested_by=actor)
    if amount is not None:
        if not currency:
            raise ValidationError({"currency": ["Give the currency of the amount."]})
        try:
            request.amount_base = to_base_currency(amount, currency, timezone.localdate())
        except FxRateMissing as exc:
            raise ValidationError({"currency": [str(exc)]}) from None
        request.amount, request.currency = amount, currency
    request.full_clean()
    with transaction.atomic():
        request.save()
        audit(
            actor=actor, action="request.create", obj=request, after={"title": request.title, "amount": request.amount}
        )
        instance_start(actor=actor, subject=request, subject_type=GENERAL_REQUEST, template=template)
    return request
