"""The workflow subjects budgets registers: allocation requests (approval turns them into
allocations) and transfers (approval writes their two ledger entries).

One direction: this module imports the requests' and transfers' services (whose functions are the
callbacks), and no service imports it — they start workflows with the subject keys defined beside
the models (``budgets.models.BUDGET_ALLOCATION`` / ``BUDGET_TRANSFER``). ``BudgetsConfig.ready()``
calls ``register()``."""

from django.urls import reverse

from budgets.models import BUDGET_ALLOCATION, BUDGET_TRANSFER
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from workflows import registry


def register() -> None:
    registry.register(
        registry.SubjectType(
            key=BUDGET_ALLOCATION,
            label="Budget allocation request",
            model="budgets.AllocationRequest",
            attributes=(
                registry.Attribute("amount", "Amount (base currency)", "decimal", lambda r: r.amount_base),
                registry.Attribute("team", "Team (code)", "text", lambda r: r.team.slug),
            ),
            team_of=lambda r: r.team,
            owner_of=lambda r: r.requested_by,
            url_of=lambda r: reverse("budgets:request-detail", args=[r.pk]),
            on_approved=lambda instance: request_services.allocation_approved(instance),
            on_rejected=lambda instance: request_services.request_status_callback("rejected")(instance),
            on_returned=lambda instance: request_services.request_status_callback("returned")(instance),
            on_resubmitted=lambda instance: request_services.request_status_callback("pending")(instance),
            on_cancelled=lambda instance: request_services.request_status_callback("cancelled")(instance),
        )
    )
    registry.register(
        registry.SubjectType(
            key=BUDGET_TRANSFER,
            label="Budget transfer",
            model="budgets.Transfer",
            attributes=(
                registry.Attribute("amount", "Amount (base currency)", "decimal", lambda t: t.amount),
                registry.Attribute("team", "Team (code)", "text", lambda t: t.team.slug if t.team else None),
            ),
            team_of=lambda t: t.team,
            owner_of=lambda t: t.requested_by,
            url_of=lambda t: reverse("budgets:transfer-detail", args=[t.pk]),
            on_approved=lambda instance: transfer_services.transfer_approved(instance),
            on_rejected=lambda instance: transfer_services.transfer_status_callback("rejected")(instance),
            on_returned=lambda instance: transfer_services.transfer_status_callback("returned")(instance),
            on_resubmitted=lambda instance: transfer_services.transfer_status_callback("pending")(instance),
            on_cancelled=lambda instance: transfer_services.transfer_status_callback("cancelled")(instance),
        )
    )
