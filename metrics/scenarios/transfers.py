"""From an accepted scenario to budget transfer requests: per channel (or program) the difference
between the scenario and the budget of its budget lines in the months, spread over its lines and
months, paired from the lines that lose money to those that gain it within each month, and asked
for through ``budgets.transfers.services.reallocations_propose`` (the "Budget transfer" workflow). The
scenario never moves money itself: finance approves each transfer."""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from budgets.transfers import services as transfer_services
from metrics.scenarios import permissions as policy
from metrics.scenarios import selectors as sel
from metrics.scenarios.models import ModelLevel, Scenario, ScenarioStatus, ScenarioTransfer
from metrics.scenarios.services import apply_transition
from mops.errors import Conflict

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Move:
    from_line: object
    from_period: object
    to_line: object
    to_period: object
    amount: Decimal
    reason: str


def _split(amount: Decimal, weights: dict) -> dict:
    """``amount`` split over the keys of ``weights`` in proportion (evenly when they are all zero),
    in cents adding up exactly: each share rounded down, the left-over cents to the largest
    remainders (ties: the first key). A negative weight counts as zero: a line's own budget is
    negative when its sub-lines hold more than it (under a soft parent) and it has nothing to give."""
    weights = {k: max(v, ZERO) for k, v in weights.items()}
    keys = list(weights)
    total = sum(weights.values(), ZERO)
    exact = {k: amount * (weights[k] / total if total else Decimal(1) / len(keys)) for k in keys}
    shares = {k: v.quantize(CENT, rounding=ROUND_DOWN) for k, v in exact.items()}
    left = int((amount - sum(shares.values(), ZERO)) / CENT)
    for k in sorted(keys, key=lambda k: -(exact[k] - shares[k]))[:left]:
        shares[k] += CENT
    return shares


def transfer_moves(scenario: Scenario) -> list[Move]:
    """The transfers that turn the current budget of the scenario's channels (or programs) into the
    scenario: per member the difference between its scenario amount and its budget lines' budget in
    the months, spread over its lines and months in proportion to their budget; then money goes
    from the cells that lose to the cells that gain, the same month first. Raises ValidationError
    with every reason it cannot (a member without a budget line, a period over two fiscal years or
    with no budget, a total that differs from the current budget, a cut larger than the budget)."""
    model = scenario.response_model
    lines = list(scenario.lines.all())
    budget = sel.period_budget(
        level=model.level,
        members={line.member: line.member_id for line in lines},
        start=scenario.start,
        months=scenario.months,
        team_id=scenario.team_id,
    )
    errors = []
    if budget.missing_months or len({p.fiscal_year_id for p in budget.periods}) > 1:
        errors.append(
            "Transfers move money within one fiscal year's budget: the scenario's months "
            f"({scenario.start:%b %Y}, {scenario.months} months) must all lie in one fiscal year that has a budget."
        )
    what = "channel" if model.level == ModelLevel.CHANNEL else "program"
    changes = {}
    for line in lines:
        planned = budget.members.get(line.member)
        change = line.amount - (planned.amount if planned else ZERO)
        if change == 0:
            continue
        if planned is None:
            errors.append(
                f"{line.member} has no budget line in these months, so no transfer can give it {line.amount:,}: "
                f"ask finance for a {what} line, or lock {line.member} at 0 and optimise again."
            )
            continue
        if change < 0 and -change > planned.amount:
            errors.append(f"{line.member} would give up {-change:,}, more than its budget of {planned.amount:,}.")
            continue
        changes[line.member] = (change, planned)
    net = sum((change for change, _ in changes.values()), ZERO)
    if net and not errors:
        errors.append(
            f"The scenario spends {abs(net):,} {'more' if net > 0 else 'less'} than the current budget of its "
            f"{what}s' lines in these months; transfers only move money between lines. Set the total to the current "
            "budget, or ask finance for an allocation change."
        )
    if errors:
        raise ValidationError({"scenario": errors})
    if not changes:
        raise ValidationError({"scenario": ["The scenario is the current budget: there is nothing to move."]})

    cells: dict[tuple, Decimal] = {}
    for change, planned in changes.values():
        shares = _split(abs(change), planned.cells)
        cells.update({cell: share if change > 0 else -share for cell, share in shares.items()})
    _match_months(cells)
    periods = {p.pk: p for p in budget.periods}
    line_objects = {pk: line for _, planned in changes.values() for pk, line in planned.lines.items()}
    member_of = {pk: key for key, (_, planned) in changes.items() for pk in planned.lines}
    givers = {cell: -amount for cell, amount in cells.items() if amount < 0}
    takers = {cell: amount for cell, amount in cells.items() if amount > 0}
    moves = []

    def pair(give_cells, take_cells):
        for giver in sorted(give_cells, key=lambda c: (-givers[c], c)):
            for taker in sorted(take_cells, key=lambda c: (-takers[c], c)):
                amount = min(givers[giver], takers[taker])
                if amount <= 0:
                    continue
                givers[giver] -= amount
                takers[taker] -= amount
                moves.append(
                    Move(
                        from_line=line_objects[giver[0]],
                        from_period=periods[giver[1]],
                        to_line=line_objects[taker[0]],
                        to_period=periods[taker[1]],
                        amount=amount,
                        reason=(
                            f"Scenario “{scenario.name}” (#{scenario.pk}): {member_of[giver[0]]} → "
                            f"{member_of[taker[0]]}, as the {model.get_outcome_display().lower()} response model "
                            f"#{model.pk} suggests."
                        ),
                    )
                )

    for period_id in periods:  # the same month first
        pair([c for c in givers if c[1] == period_id], [c for c in takers if c[1] == period_id])
    pair(list(givers), list(takers))  # what is left, across months
    return moves


def _match_months(cells: dict[tuple, Decimal]) -> None:
    """Shift the cents of rounding among a gaining line's months so that each month gains what the
    losing lines give in it: every transfer then stays within its month (no one-cent move from
    October to November). Cells are (line id, period id) → signed change; changed in place."""
    months = {period for _, period in cells}
    diff = {m: sum((v for (_, p), v in cells.items() if p == m), ZERO) for m in months}
    gainers = sorted({line for (line, _), v in cells.items() if v > 0})
    for plus in sorted(m for m in months if diff[m] > 0):
        for minus in sorted(m for m in months if diff[m] < 0):
            for line in gainers:
                if diff[plus] <= 0 or diff[minus] >= 0:
                    break
                movable = min(diff[plus], -diff[minus], cells.get((line, plus), ZERO))
                if movable > 0 and (line, minus) in cells:
                    cells[(line, plus)] -= movable
                    cells[(line, minus)] += movable
                    diff[plus] -= movable
                    diff[minus] += movable


def scenario_propose_transfers(*, actor, scenario: Scenario) -> list:
    """Turn an accepted scenario into budget transfer requests (``budgets.transfers.services.reallocations_propose``:
    the normal "Budget transfer" workflow, finance approves each) and mark it proposed — all in one
    transaction, so a refused move leaves no half-proposed scenario. Moves no money itself."""
    if not policy.can_change_scenario(actor, scenario):
        raise PermissionDenied("Only the scenario's owner or the CMO can propose its transfers.")
    with transaction.atomic():
        locked = Scenario.objects.select_for_update().select_related("response_model").get(pk=scenario.pk)
        if locked.status != ScenarioStatus.ACCEPTED:
            raise Conflict(
                "Its transfers were proposed already."
                if locked.status == ScenarioStatus.PROPOSED
                else "Accept the scenario before proposing its transfers."
            )
        moves = transfer_moves(locked)
        transfers = transfer_services.reallocations_propose(
            actor=actor,
            moves=[
                {
                    "from_line": m.from_line,
                    "from_period": m.from_period,
                    "to_line": m.to_line,
                    "to_period": m.to_period,
                    "amount": m.amount,
                    "reason": m.reason,
                }
                for m in moves
            ],
        )
        ScenarioTransfer.objects.bulk_create(ScenarioTransfer(scenario=locked, transfer=t) for t in transfers)
        apply_transition(actor=actor, scenario=locked, action="propose")
    scenario.status = locked.status
    return transfers
