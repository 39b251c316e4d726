"""Budgets: a fiscal year's envelope as a tree of lines phased by month, kept as a ledger of
approved entries (nothing is edited in place: a line's budget at any date is the sum of its
entries effective by then); allocation requests and the allocations they become; transfers;
and commitments (purchase orders) that invoices — campaign spend with the same reference — release.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from mops.money import CurrencyField, MoneyField


class BudgetKind(models.TextChoices):
    APPROVED = "approved", "Approved budget"  # the plan the year started with
    REFORECAST = "reforecast", "Reforecast"  # a later revision, kept beside the approved one


class Budget(models.Model):
    """One version of a fiscal year's marketing budget. Reports use the current version."""

    fiscal_year = models.ForeignKey("planning.FiscalYear", on_delete=models.PROTECT, related_name="budgets")
    name = models.CharField(max_length=120)
    version = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=12, choices=BudgetKind.choices, default=BudgetKind.APPROVED)
    target = MoneyField(default=0)  # the top-down envelope, base currency
    is_current = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fiscal_year__year", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["fiscal_year", "version"], name="budget_unique_year_version"),
            # One version per year is the one reports and requests use.
            models.UniqueConstraint(
                fields=["fiscal_year"], condition=Q(is_current=True), name="budget_one_current_per_year"
            ),
            models.CheckConstraint(condition=Q(target__gte=0), name="budget_target_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class BudgetLine(models.Model):
    """A node of the budget tree (team → channel or program …). A parent's children may not add up
    to more than it in any month, unless the parent is marked soft (a warning only)."""

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=160)
    code = models.SlugField(max_length=60)
    team = models.ForeignKey("mops.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey("planning.Channel", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("campaigns.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    is_soft = models.BooleanField(default=False, help_text="Children may exceed this line (warning only).")

    class Meta:
        ordering = ["budget", "code"]
        constraints = [models.UniqueConstraint(fields=["budget", "code"], name="budgetline_unique_budget_code")]

    def __str__(self):
        return self.name


class EntryKind(models.TextChoices):
    PHASING = "phasing", "Phasing"  # finance set or changed the month's amount
    TRANSFER = "transfer", "Transfer"  # an approved move between lines or months
    CARRY_FORWARD = "carry_forward", "Carry-forward"  # unspent money moved to a later month


class BudgetEntry(models.Model):
    """One approved movement of a line's money in one month (signed). Append-only."""

    line = models.ForeignKey(BudgetLine, on_delete=models.CASCADE, related_name="entries")
    period = models.ForeignKey("planning.Period", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()  # base currency; negative moves money out
    kind = models.CharField(max_length=14, choices=EntryKind.choices)
    transfer = models.ForeignKey("Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    effective_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["effective_at", "id"]
        # "Budget of these lines per month as of a date": the ledger sum's access path.
        indexes = [models.Index(fields=["line", "period", "effective_at"], name="budgetentry_line_period_idx")]

    def __str__(self):
        return f"{self.line} {self.period}: {self.amount:+}"


# The workflow subject types of requests and transfers (``workflows.registry`` keys): stored on every
# workflow instance and template of them, so never renamed. ``budgets.subjects`` registers them; the
# requests' and transfers' services start their workflows; pages and tests filter tasks by them.
BUDGET_ALLOCATION = "budget_allocation"
BUDGET_TRANSFER = "budget_transfer"


class RequestStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RETURNED = "returned", "Sent back"
    CANCELLED = "cancelled", "Cancelled"


class AllocationRequest(models.Model):
    """A marketer asks for money from a line for a campaign (or program), by month. It runs through
    the "Budget allocation request" workflow; only approval turns it into allocations."""

    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="requests")
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    program = models.ForeignKey("campaigns.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("mops.Team", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    justification = models.TextField()
    currency = CurrencyField()
    amount = MoneyField()  # total in ``currency``
    amount_base = MoneyField()  # total in base currency at the request date's rate
    fx_rate = models.DecimalField(max_digits=20, decimal_places=10)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(campaign__isnull=False) | Q(program__isnull=False), name="allocreq_has_a_target"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocreq_amount_positive"),
        ]
        # Finance's approval queue: pending requests, oldest first.
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="allocreq_pending_idx"),
        ]

    def __str__(self):
        target = self.campaign or self.program
        return f"{self.amount_base} for {target} from {self.line}"


class AllocationRequestMonth(models.Model):
    request = models.ForeignKey(AllocationRequest, on_delete=models.CASCADE, related_name="months")
    period = models.ForeignKey("planning.Period", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    amount_base = MoneyField()

    class Meta:
        ordering = ["request", "period__start_date"]
        constraints = [
            models.UniqueConstraint(fields=["request", "period"], name="allocreqmonth_unique_request_period"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocreqmonth_amount_positive"),
        ]

    def __str__(self):
        return f"{self.period}: {self.amount} {self.request.currency}"


class Allocation(models.Model):
    """Money promised from a line to a campaign (or program) for a month: an approved request's month."""

    request = models.ForeignKey(AllocationRequest, on_delete=models.PROTECT, related_name="allocations")
    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="allocations")
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    program = models.ForeignKey("campaigns.Program", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period = models.ForeignKey("planning.Period", on_delete=models.PROTECT, related_name="+")
    amount_base = MoneyField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["request", "period"], name="allocation_unique_request_period")]
        # Budget vs actual sums allocations per line and month.
        indexes = [models.Index(fields=["line", "period"], name="allocation_line_period_idx")]

    def __str__(self):
        return f"{self.amount_base} {self.period} → {self.campaign or self.program}"


class TransferKind(models.TextChoices):
    REALLOCATION = "reallocation", "Reallocation"  # between lines (and/or months)
    CARRY_FORWARD = "carry_forward", "Carry-forward"  # unspent money of a line to a later month


class Transfer(models.Model):
    """A request to move base-currency money from (line, month) to (line, month). Runs through the
    "Budget transfer" workflow; approval writes the two ledger entries."""

    kind = models.CharField(max_length=14, choices=TransferKind.choices, default=TransferKind.REALLOCATION)
    from_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="transfers_out")
    from_period = models.ForeignKey("planning.Period", on_delete=models.PROTECT, related_name="+")
    to_line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="transfers_in")
    to_period = models.ForeignKey("planning.Period", on_delete=models.PROTECT, related_name="+")
    amount = MoneyField()
    reason = models.TextField()
    team = models.ForeignKey("mops.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~(Q(from_line=F("to_line")) & Q(from_period=F("to_period"))), name="transfer_moves_something"
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.from_line} {self.from_period} → {self.to_line} {self.to_period}"


class CommitmentStatus(models.TextChoices):
    OPEN = "open", "Open"  # ordered, not (fully) invoiced
    CLOSED = "closed", "Closed"  # released: fully invoiced or cancelled; no longer holds money


class Commitment(models.Model):
    """A purchase order or contract against a line (and campaign). Spend entries of the campaign
    with the same ``reference`` are its invoices: they move money from committed to actual."""

    line = models.ForeignKey(BudgetLine, on_delete=models.PROTECT, related_name="commitments")
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    period = models.ForeignKey("planning.Period", on_delete=models.PROTECT, related_name="+")  # expected month
    vendor = models.CharField(max_length=160)
    reference = models.CharField(max_length=80)  # PO number; invoices (spend entries) quote it
    currency = CurrencyField()
    amount = MoneyField()
    amount_base = MoneyField()
    fx_rate = models.DecimalField(max_digits=20, decimal_places=10)
    status = models.CharField(max_length=8, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["line", "reference"], name="commitment_unique_line_reference"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="commitment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.reference} {self.vendor}"
