"""The workflow subjects budgets registers. The request models arrive with the budgets work;
templates can be defined and previewed for these types already."""

from workflows import registry

BUDGET_ALLOCATION = "budget_allocation"
BUDGET_TRANSFER = "budget_transfer"


def register() -> None:
    registry.register(
        registry.SubjectType(
            key=BUDGET_ALLOCATION,
            label="Budget allocation request",
            attributes=(
                registry.Attribute("amount", "Amount (base currency)", "decimal", lambda r: r.amount_base),
                registry.Attribute("team", "Team (code)", "text", lambda r: r.team.slug),
            ),
            team_of=lambda r: r.team,
            owner_of=lambda r: r.requested_by,
        )
    )
    registry.register(
        registry.SubjectType(
            key=BUDGET_TRANSFER,
            label="Budget transfer",
            attributes=(
                registry.Attribute("amount", "Amount (base currency)", "decimal", lambda r: r.amount_base),
                registry.Attribute("team", "Team (code)", "text", lambda r: r.team.slug),
            ),
            team_of=lambda r: r.team,
            owner_of=lambda r: r.requested_by,
        )
    )
