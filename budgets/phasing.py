"""Phasing helpers for finance's pages: spreading a yearly total over months (evenly or by a seasonal
profile, to the cent), the budget tree with its measures, and the phasing file (CSV/XLSX) that
downloads and uploads a whole budget as a lossless round trip. Writes go through
``budgets.services.phasing_set``; nothing here touches the ledger directly."""

import csv
import io
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from budgets import selectors, services
from budgets.models import Budget, BudgetEntry, BudgetLine
from campaigns.models import SpendEntry
from mops.money import CENT, check_money_bound, money

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=settings.MONEY_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES)

# Seasonal profiles: relative weights for the 12 months of the fiscal year (first month first).
PROFILES: dict[str, tuple[str, tuple[int, ...]]] = {
    "flat": ("Flat (evenly)", (1,) * 12),
    "q4-peak": ("Q4 peak", (7, 7, 7, 8, 8, 8, 8, 8, 9, 10, 10, 10)),
    "summer-dip": ("Summer dip", (9, 9, 9, 9, 8, 6, 5, 6, 9, 10, 10, 10)),
    "front-loaded": ("Front-loaded", (12, 11, 10, 9, 9, 8, 8, 7, 7, 7, 6, 6)),
}
PROFILE_CHOICES = [(key, label) for key, (label, _) in PROFILES.items()]


def spread(total: Decimal, weights) -> list[Decimal]:
    """Split ``total`` over len(weights) months in proportion to the weights, in whole cents, so the
    parts add up to ``total`` exactly: each part is rounded down, and the cents left over go to the
    months with the largest remainders (earliest first on ties)."""
    total = money(total)
    weights = [Decimal(w) for w in weights]
    weight_sum = sum(weights)
    if total < 0:
        raise ValueError("A total to spread cannot be negative.")
    if not weights or weight_sum <= 0:
        raise ValueError("The profile has no weight.")
    exact = [total * w / weight_sum for w in weights]
    parts = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    leftover = int((total - sum(parts)) / CENT)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += CENT
    return parts


def spread_profile(total: Decimal, profile: str, periods) -> dict:
    """{period: amount} for ``periods`` (the open months of a year, in order), shaped by a profile
    whose 12 weights are indexed by the month's position in the fiscal year."""
    _, weights = PROFILES[profile]
    periods = list(periods)
    chosen = [weights[_month_index(p)] for p in periods]
    return dict(zip(periods, spread(total, chosen), strict=True))


def _month_index(period) -> int:
    start = period.fiscal_year.start_date
    return (period.start_date.year - start.year) * 12 + period.start_date.month - start.month


# --- the tree -------------------------------------------------------------------------------


@dataclass
class TreeRow:
    line: BudgetLine
    depth: int
    budget: Decimal = ZERO
    allocated: Decimal = ZERO
    committed: Decimal = ZERO
    actual: Decimal = ZERO
    available: Decimal = ZERO

    @property
    def indent(self) -> str:
        """A Bootstrap padding class for the depth (no inline styles)."""
        return f"ps-{min(self.depth * 3, 5)}" if self.depth else ""


def ordered_lines(budget: Budget) -> list[tuple[BudgetLine, int]]:
    """The budget's lines depth-first (children under their parent, by code), with their depth."""
    lines = list(BudgetLine.objects.filter(budget=budget).select_related("team", "channel", "program", "parent"))
    children: dict[int | None, list[BudgetLine]] = {}
    for line in lines:
        children.setdefault(line.parent_id, []).append(line)
    out: list[tuple[BudgetLine, int]] = []

    def walk(parent_id, depth):
        for line in sorted(children.get(parent_id, []), key=lambda x: x.code):
            out.append((line, depth))
            walk(line.pk, depth + 1)

    walk(None, 0)
    return out


def phased_totals(budgets) -> dict[int, Decimal]:
    """{budget id: the year's sum of its top-level lines} for versions shown side by side, one query."""
    rows = (
        BudgetEntry.objects.filter(
            line__budget__in=budgets, line__parent__isnull=True, effective_at__lte=timezone.now()
        )
        .values_list("line__budget_id")
        .annotate(total=Sum("amount"))
    )
    return dict(rows)


def budget_tree(budget: Budget) -> list[TreeRow]:
    """Every line with its year's budget (its whole ledger, sub-lines included), allocated,
    committed, actual and available — a constant number of queries for the whole tree. Available is
    ``selectors.ledger_cells``' summed over the months: what the line can still promise, a parent
    counting only the money it has not passed down."""
    lines = ordered_lines(budget)
    ids = [line.pk for line, _ in lines]
    ledger = selectors.budget_cells(ids)
    cells = selectors.ledger_cells(budget=budget)
    rows = {line.pk: TreeRow(line=line, depth=depth) for line, depth in lines}
    for (line_id, period_id), cell in cells.items():
        row = rows[line_id]
        row.budget += ledger.get((line_id, period_id), ZERO)
        row.allocated += cell.allocated
        row.committed += cell.committed
        row.actual += cell.actual
        row.available += cell.available
    return list(rows.values())


# --- commitments ----------------------------------------------------------------------------


def with_invoiced(commitments):
    """Annotate commitments with ``invoiced`` (base currency: the campaign's spend quoting the
    reference, as ``selectors.open_commitment_cells`` counts it) and ``remaining`` (never below 0)."""
    invoiced = (
        SpendEntry.objects.filter(campaign_id=OuterRef("campaign_id"), reference=OuterRef("reference"))
        .values("campaign_id")
        .annotate(total=Sum("amount_base"))
        .values("total")
    )
    return (
        commitments.select_related("line", "campaign", "period")
        .annotate(invoiced=Coalesce(Subquery(invoiced, output_field=_MONEY), Value(ZERO, output_field=_MONEY)))
        .annotate(remaining=Greatest(F("amount_base") - F("invoiced"), Value(ZERO, output_field=_MONEY)))
    )


# --- the phasing file -----------------------------------------------------------------------

_DANGEROUS = ("=", "+", "-", "@")


def _safe_text(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula."""
    return f"'{value}" if value and value.startswith(_DANGEROUS) else value


def _unsafe_text(value: str) -> str:
    return value[1:] if value and value.startswith("'") and value[1:].startswith(_DANGEROUS) else value


def _header(periods) -> list[str]:
    return ["code", "name", "parent code", *[f"{p.start_date:%Y-%m}" for p in periods]]


def phasing_rows(budget: Budget) -> tuple[list[str], list[list]]:
    """The header and one row per line: code, name, parent code, then the 12 month amounts."""
    periods = list(budget.fiscal_year.periods.order_by("start_date"))
    lines = ordered_lines(budget)
    cells = selectors.budget_cells([line.pk for line, _ in lines])
    rows = [
        [
            line.code,
            line.name,
            line.parent.code if line.parent_id else "",
            *[money(cells.get((line.pk, p.pk), ZERO)) for p in periods],
        ]
        for line, _ in lines
    ]
    return _header(periods), rows


def phasing_csv(budget: Budget) -> str:
    header, rows = phasing_rows(budget)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_text(v) if isinstance(v, str) else f"{v:.2f}" for v in row])
    return out.getvalue()


def phasing_xlsx(budget: Budget) -> bytes:
    from openpyxl import Workbook  # here: openpyxl takes ~0.2 s to load, only downloads need it

    header, rows = phasing_rows(budget)
    book = Workbook()
    sheet = book.active
    sheet.title = "Phasing"
    sheet.append(header)
    for row in rows:
        sheet.append([_safe_text(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row][3:]:
            cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_upload(uploaded) -> list[list]:
    """The rows of an uploaded CSV or XLSX file (raw cell values; numbers of XLSX stay numbers)."""
    name = (getattr(uploaded, "name", "") or "").lower()
    data = uploaded.read()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        from openpyxl import load_workbook  # here: ~0.2 s to load, only XLSX uploads need it

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise ValidationError({"file": [f"This is not a readable XLSX file ({exc.__class__.__name__})."]}) from None
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": ["The CSV file must be UTF-8 text."]}) from None
    return list(csv.reader(io.StringIO(text)))


def _amount(value) -> Decimal:
    """A cell as money, exactly: text and numbers through their decimal text, never float arithmetic."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ZERO
    if isinstance(value, bool):
        raise InvalidOperation
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as this float: 0.1 → "0.1"
    amount = Decimal(str(value).strip())
    if not amount.is_finite():
        raise InvalidOperation
    if amount != amount.quantize(CENT):
        raise InvalidOperation  # more than cents: refuse rather than round silently
    return money(amount)


@dataclass
class UploadResult:
    lines_changed: int = 0
    entries: int = 0
    warnings: list[str] = field(default_factory=list)


def phasing_upload(*, actor, budget: Budget, rows: list[list]) -> UploadResult:
    """Apply a phasing file to ``budget``: for each line, the months whose amount differs go through
    ``phasing_set``. All or nothing: any error (by row number) rolls the whole file back.

    Increases are applied top-down and decreases bottom-up, so a parent and its children can move
    together without tripping the hierarchy limit half-way."""
    rows = [row for row in rows if any(v not in (None, "") for v in row)]
    if not rows:
        raise ValidationError({"file": ["The file is empty."]})
    periods = list(budget.fiscal_year.periods.order_by("start_date"))
    by_month = {f"{p.start_date:%Y-%m}": p for p in periods}
    header = [str(v or "").strip() for v in rows[0]]
    errors = []
    if [h.lower() for h in header[:3]] != ["code", "name", "parent code"]:
        raise ValidationError({"file": ["Row 1: the columns must start with code, name, parent code."]})
    columns = []
    for month in header[3:]:
        if month not in by_month:
            errors.append(f"Row 1: {month or 'an empty column'} is not a month of {budget.fiscal_year} (YYYY-MM).")
        columns.append(by_month.get(month))  # an unknown column is reported and its cells left alone
    lines = {line.code: (line, depth) for line, depth in ordered_lines(budget)}
    current = selectors.budget_cells([line.pk for line, _ in lines.values()])
    wanted: dict[int, dict] = {}
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        code = _unsafe_text(str(row[0] if row else "").strip())
        if code not in lines:
            errors.append(f"Row {number}: no line with code “{code}” in {budget}.")
            continue
        if code in seen:
            errors.append(f"Row {number}: line “{code}” already given in row {seen[code]}.")
            continue
        seen[code] = number
        line, _ = lines[code]
        values = list(row[3:]) + [None] * (len(columns) - len(row[3:]))
        for period, value in zip(columns, values, strict=False):
            if period is None:
                continue
            where = f"Row {number}, {period.start_date:%Y-%m}"
            try:
                amount = _amount(value)
            except (InvalidOperation, ValueError):
                errors.append(f"{where}: “{value}” is not an amount.")
                continue
            if amount < 0:
                errors.append(f"{where}: the amount must be zero or more.")
                continue
            try:
                check_money_bound(amount, what=f"{where}: the amount")
            except ValidationError as error:
                errors += error.messages
                continue
            was = current.get((line.pk, period.pk), ZERO)
            if amount != was and period.is_closed:
                errors.append(
                    f"{where}: {period} is closed by finance, so its budget stays {was:,.2f} "
                    f"(the file has {amount:,.2f})."
                )
                continue
            if amount != current.get((line.pk, period.pk), ZERO):
                wanted.setdefault(line.pk, {"row": number, "line": line, "up": {}, "down": {}})
                side = "up" if amount > current.get((line.pk, period.pk), ZERO) else "down"
                wanted[line.pk][side][period] = amount
    # No early return on the errors so far: the changes that did parse still go through the
    # hierarchy checks below, so the file's every error is named in one pass (then rolled back).
    depth = {line.pk: d for line, d in lines.values()}
    result = UploadResult()
    with transaction.atomic():
        for side, reverse in (("up", False), ("down", True)):
            for line_id in sorted(wanted, key=lambda pk: depth[pk], reverse=reverse):
                change = wanted[line_id]
                if not change[side]:
                    continue
                try:
                    outcome = services.phasing_set(
                        actor=actor, line=change["line"], amounts=change[side], note="Phasing file upload"
                    )
                except ValidationError as exc:
                    errors += [f"Row {change['row']}: {message}" for message in exc.messages]
                    continue
                result.entries += len(outcome.entries)
                result.warnings += [f"Row {change['row']}: {w}" for w in outcome.warnings]
        if errors:
            raise ValidationError({"file": errors})  # rolls back what was applied
    result.lines_changed = len(wanted)
    return result
