"""Models of metrics: the calendar the rollups bucket by, the rollup tables, the dirty marks that
drive incremental refreshes, the record of each refresh, and custom KPI definitions.

Rollups are derived data: every row can be rebuilt from the facts (``metrics.rollups``). They hold
ids of the dimensions they cut by as plain integers, not foreign keys, so that a rollup never blocks
or cascades a change to the things it describes.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from mops.money import MoneyField


class Grain(models.TextChoices):
    DAY = "d", "Day"
    WEEK = "w", "Week"
    MONTH = "m", "Month"
    QUARTER = "q", "Fiscal quarter"
    YEAR = "y", "Fiscal year"


class Dimension(models.TextChoices):
    ORGANISATION = "org", "Organisation"
    CAMPAIGN = "campaign", "Campaign"
    PROGRAM = "program", "Program"
    CHANNEL = "channel", "Channel"
    CHANNEL_GROUP = "channel_group", "Channel group"
    TEAM = "team", "Team"
    REGION = "region", "Region"
    OBJECTIVE = "objective", "Objective"
    BUDGET_LINE = "budget_line", "Budget line"


class CalendarBucket(models.Model):
    """Which bucket of each grain a day falls in: five rows per day (fiscal-aware quarters and
    years). Joining facts to it buckets them in plain SQL on PostgreSQL and SQLite alike."""

    date = models.DateField()
    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateField()
    ordinal = models.IntegerField()  # date.toordinal(): day arithmetic in SQL that runs on both databases

    class Meta:
        constraints = [models.UniqueConstraint(fields=["date", "grain"], name="calendarbucket_unique_date_grain")]

    def __str__(self):
        return f"{self.date} {self.grain} {self.period_start}"


class CellSource(models.TextChoices):
    CAMPAIGN = "c", "Campaign facts"  # spend, planned cost and results
    BUDGET_LINE = "b", "Budget line"  # budget, allocated, committed


MEASURE_FIELDS = (
    "spend",
    "planned_cost",
    "budget",
    "allocated",
    "committed",
    "impressions",
    "clicks",
    "leads",
    "mqls",
    "sqls",
    "opportunities",
    "pipeline",
    "new_customers",
    "revenue",
)
MONEY_MEASURES = ("spend", "planned_cost", "budget", "allocated", "committed", "pipeline", "revenue")


def SumField(**kwargs) -> models.DecimalField:  # noqa: N802 — reads like a field class at call sites
    """A sum of money amounts: the money precision with MONEY_SUM_MAX_DIGITS digits, wide enough for
    the sum of every amount the bound (``mops.money.MONEY_MAX``) allows, so a refresh never overflows.
    No bound validator: a sum is not an amount anyone types."""
    return models.DecimalField(
        max_digits=settings.MONEY_SUM_MAX_DIGITS, decimal_places=settings.MONEY_DECIMAL_PLACES, **kwargs
    )


class Measures(models.Model):
    """The summed base measures (money in the base currency, as sums: ``SumField``)."""

    spend = SumField(default=0)
    planned_cost = SumField(default=0)
    budget = SumField(default=0)
    allocated = SumField(default=0)
    committed = SumField(default=0)
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    leads = models.BigIntegerField(default=0)
    mqls = models.BigIntegerField(default=0)
    sqls = models.BigIntegerField(default=0)
    opportunities = models.BigIntegerField(default=0)
    pipeline = SumField(default=0)
    new_customers = models.BigIntegerField(default=0)
    revenue = SumField(default=0)

    class Meta:
        abstract = True


class Cell(Measures):
    """The finest rollup: one campaign's facts on one channel (tactics may use another channel than
    their campaign), or one budget line, per bucket of a grain. It carries the campaign's or line's
    dimensions so that any filter or grouping is one ``GROUP BY`` over cells."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateField()
    source = models.CharField(max_length=1, choices=CellSource.choices)
    source_id = models.IntegerField()
    channel_id = models.IntegerField(null=True)
    channel_group = models.CharField(max_length=20, null=True)
    team_id = models.IntegerField(null=True)
    program_id = models.IntegerField(null=True)
    region_id = models.IntegerField(null=True)
    objective_id = models.IntegerField(null=True)

    class Meta:
        indexes = [
            # Refreshes delete and rebuild a source's cells over a range of buckets.
            models.Index(fields=["source", "source_id", "grain", "period_start"], name="cell_source_idx"),
            # Filtered dashboard reads: a grain over a date range, then the filter columns.
            models.Index(fields=["grain", "period_start", "team_id"], name="cell_grain_period_team_idx"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.source_id} {self.grain} {self.period_start}"


class Rollup(Measures):
    """Summed measures of one member of one dimension per bucket. ``member`` is the member's id
    (or channel group code) as text; "" is the organisation, or "none" (a campaign without a program,
    region or objective; a budget line without a team, channel or program). The campaign and budget
    line dimensions need no rows here: the cells are already per campaign and per line."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateField()
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    member = models.CharField(max_length=32)
    cell_count = models.IntegerField(default=0)  # cells summed here; 0 after a refresh: the row goes

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "grain", "member", "period_start"], name="rollup_unique_member_bucket"
            )
        ]
        indexes = [models.Index(fields=["grain"], condition=Q(cell_count=0), name="rollup_emptied_idx")]

    def __str__(self):
        return f"{self.dimension} {self.member or 'all'} {self.grain} {self.period_start}"


class DirtyMark(models.Model):
    """Facts of a campaign (between two dates; no dates: all of them) or a budget line changed and
    the rollups have not caught up yet. Written in the database so that nothing is lost while the
    broker or the workers are down; the refresh task deletes the marks it has folded in.

    A mark whose refresh failed (its campaign's or line's SQL raised) is *set aside*: ``attempts``
    counts the failures, ``last_error`` says the last one, and the refresh leaves it alone until
    ``next_attempt_at`` (a backoff that doubles) unless a new change to the same campaign or line
    arrives, so one bad source never blocks the others (``metrics.services.refresh_pending``)."""

    source = models.CharField(max_length=1, choices=CellSource.choices)
    source_id = models.IntegerField()
    start = models.DateField(null=True)
    end = models.DateField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)  # failed refreshes of this mark
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # None: due now (never failed)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True, end__isnull=True) | Q(start__lte=models.F("end")),
                name="dirtymark_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(attempts=0, next_attempt_at__isnull=True)
                | Q(attempts__gt=0, next_attempt_at__isnull=False),
                name="dirtymark_set_aside_has_retry",
            ),
        ]
        indexes = [
            # The set-aside marks (few): the refresh skips those not yet due, health and ops list them.
            models.Index(fields=["next_attempt_at"], condition=Q(attempts__gt=0), name="dirtymark_set_aside_idx"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.source_id} {self.start or '…'}–{self.end or '…'}"


class RefreshKind(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full rebuild"


class RefreshRun(models.Model):
    """One refresh of the rollups: what it covered, how long it took and, for a full rebuild, whether
    the rows it replaced (kept incrementally) agreed with the rebuilt ones."""

    kind = models.CharField(max_length=12, choices=RefreshKind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    marks = models.PositiveIntegerField(default=0)
    campaigns = models.PositiveIntegerField(default=0)
    budget_lines = models.PositiveIntegerField(default=0)
    cells_written = models.PositiveIntegerField(default=0)
    rollups_written = models.PositiveIntegerField(default=0)
    agreed = models.BooleanField(null=True)  # full rebuilds only
    differences = models.PositiveIntegerField(default=0)
    set_aside = models.PositiveIntegerField(default=0)  # marks whose refresh failed in this run (retried later)

    class Meta:
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["kind", "-finished_at"], name="refreshrun_kind_finished_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.finished_at:%Y-%m-%d %H:%M:%S}"

    @property
    def duration_ms(self) -> float:
        return (self.finished_at - self.started_at).total_seconds() * 1000


class KpiUnit(models.TextChoices):
    MONEY = "money", "Money"
    RATIO = "ratio", "Ratio (×)"
    PERCENT = "percent", "Percent"
    COUNT = "count", "Count"
    NUMBER = "number", "Number"


class KpiDirection(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class KpiDefinition(models.Model):
    """A custom KPI defined by an ops admin: a formula over base measures and other KPIs. Editing
    one adds a version; charts name the version they used."""

    code = models.SlugField(max_length=40)
    version = models.PositiveSmallIntegerField(default=1)
    name = models.CharField(max_length=80)
    formula = models.CharField(max_length=500)
    unit = models.CharField(max_length=8, choices=KpiUnit.choices, default=KpiUnit.NUMBER)
    direction = models.CharField(max_length=6, choices=KpiDirection.choices, default=KpiDirection.HIGHER)
    description = models.CharField(max_length=200, blank=True)
    is_current = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="kpidefinition_unique_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_current=True), name="kpidefinition_one_current_version"
            ),
        ]

    def __str__(self):
        return f"{self.name} (v{self.version})"


# --- scenario planning (issue 7) ------------------------------------------------------------------


class ModelOutcome(models.TextChoices):
    """The measure a response model explains (summed from the weekly rollup cells)."""

    PIPELINE = "pipeline", "Pipeline"
    REVENUE = "revenue", "Revenue"
    MQLS = "mqls", "MQLs"
    LEADS = "leads", "Leads"


class ModelLevel(models.TextChoices):
    """What the model has one response curve for."""

    CHANNEL = "channel", "Channel"
    PROGRAM = "program", "Program"


class FitStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # asked for; the task has not started
    RUNNING = "running", "Running"  # a worker is fitting it
    DONE = "done", "Done"  # ``result`` holds the fit
    FAILED = "failed", "Failed"  # ``error`` says why, in plain words


class ResponseModel(models.Model):
    """A marketing-mix model fitted to the weekly rollups: how ``outcome`` responds to spend per
    channel (or program). Asked for by a user, fitted by the ``fit_response_model`` task, kept as
    ``metrics.mmm.FitResult.to_dict()`` JSON. A marketer's model is limited to one of their teams
    (``team``); the CMO's and finance's cover the organisation unless they pick a team or region.
    ``members`` maps each curve's name (the key inside ``result``) to its channel or program id."""

    outcome = models.CharField(max_length=10, choices=ModelOutcome.choices)
    level = models.CharField(max_length=8, choices=ModelLevel.choices, default=ModelLevel.CHANNEL)
    team = models.ForeignKey("mops.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("planning.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    history_start = models.DateField(null=True, blank=True)  # None: from the first week with data
    history_end = models.DateField(null=True, blank=True)  # None: to the last complete week
    status = models.CharField(max_length=8, choices=FitStatus.choices, default=FitStatus.QUEUED)
    error = models.TextField(blank=True)
    weeks = models.PositiveIntegerField(null=True, blank=True)
    first_week = models.DateField(null=True, blank=True)
    last_week = models.DateField(null=True, blank=True)
    members = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    fit_seconds = models.FloatField(null=True, blank=True)  # the model fit alone, without reading the rollups

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(result__isnull=False), name="responsemodel_done_has_result"
            ),
            models.CheckConstraint(condition=~Q(status="failed") | ~Q(error=""), name="responsemodel_failed_says_why"),
            models.CheckConstraint(
                condition=Q(history_start__isnull=True)
                | Q(history_end__isnull=True)
                | Q(history_start__lte=models.F("history_end")),
                name="responsemodel_history_ordered",
            ),
        ]
        indexes = [
            # The sweep that finds fits whose task never ran (broker down): few rows, so a partial index.
            models.Index(
                fields=["created_at"], condition=Q(status__in=["queued", "running"]), name="responsemodel_open_idx"
            ),
            # Marketers' lists: their teams' models, newest first.
            models.Index(fields=["team", "-created_at"], name="responsemodel_team_idx"),
        ]

    def __str__(self):
        scope = f", {self.team}" if self.team_id else ""
        return f"{self.get_outcome_display()} by {self.get_level_display().lower()}{scope} (#{self.pk})"


class ScenarioKind(models.TextChoices):
    OPTIMISED = "optimised", "Optimised"  # the optimiser's split of a total budget
    HAND = "hand", "Hand edit"  # amounts or percentage changes typed by a user
    PLAN = "plan", "Current plan"  # the budget lines as they are, for comparison


class ScenarioStatus(models.TextChoices):
    DRAFT = "draft", "Draft"  # being worked on
    ACCEPTED = "accepted", "Accepted"  # the owner (or the CMO) settled on it; transfers can be proposed
    PROPOSED = "proposed", "Transfers proposed"  # its transfer requests are in the budget workflow


class Scenario(models.Model):
    """A named split of a budget over a response model's channels (or programs) for a period of
    whole months, with the model's prediction of the outcome for it and for the current plan.
    Predictions are stored when the scenario is saved, so comparing scenarios reads no model.
    Marketers see their team's scenarios; the CMO and finance see all."""

    name = models.CharField(max_length=120)
    response_model = models.ForeignKey(ResponseModel, on_delete=models.PROTECT, related_name="scenarios")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey("mops.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ScenarioKind.choices)
    status = models.CharField(max_length=10, choices=ScenarioStatus.choices, default=ScenarioStatus.DRAFT)
    start = models.DateField()  # the first day of the first month
    months = models.PositiveSmallIntegerField(default=3)
    weeks = models.PositiveSmallIntegerField()  # the months' length in weeks, what the model plans over
    total_budget = MoneyField()
    plan_total = MoneyField()  # the current plan's total over the same channels and months
    note = models.TextField(blank=True)  # e.g. the hand edits: "+10 % paid social, −20 % events"
    predicted = models.DecimalField(max_digits=20, decimal_places=2)
    predicted_low = models.DecimalField(max_digits=20, decimal_places=2)
    predicted_high = models.DecimalField(max_digits=20, decimal_places=2)
    plan_predicted = models.DecimalField(max_digits=20, decimal_places=2)
    plan_predicted_low = models.DecimalField(max_digits=20, decimal_places=2)
    plan_predicted_high = models.DecimalField(max_digits=20, decimal_places=2)
    uplift = models.DecimalField(max_digits=20, decimal_places=2)
    uplift_low = models.DecimalField(max_digits=20, decimal_places=2)
    uplift_high = models.DecimalField(max_digits=20, decimal_places=2)
    equalised_marginal_return = models.FloatField(null=True, blank=True)
    marginal_return_gap = models.FloatField(null=True, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_budget__gte=0), name="scenario_budget_not_negative"),
            models.CheckConstraint(condition=Q(months__gte=1, months__lte=12), name="scenario_months_1_to_12"),
            models.CheckConstraint(condition=Q(start__day=1), name="scenario_starts_on_a_month"),
        ]
        indexes = [models.Index(fields=["team", "-updated_at"], name="scenario_team_idx")]  # marketers' lists

    def __str__(self):
        return self.name


class ScenarioLine(models.Model):
    """One channel (or program) of a scenario: the amount for the period, its constraints, the current
    plan's amount beside it, and the model's predicted contribution and marginal return at each."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="lines")
    member = models.CharField(max_length=200)  # the curve's name in the model
    member_id = models.IntegerField(null=True)  # the channel or program id (None: campaigns with none)
    amount = MoneyField()
    plan_amount = MoneyField()
    plan_source = models.CharField(max_length=8)  # "budget" (its budget lines) or "run rate" (recent spend)
    minimum = MoneyField(null=True, blank=True)
    maximum = MoneyField(null=True, blank=True)
    locked = models.BooleanField(default=False)
    change_percent = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)  # a hand edit
    predicted = models.DecimalField(max_digits=20, decimal_places=2)
    predicted_low = models.DecimalField(max_digits=20, decimal_places=2)
    predicted_high = models.DecimalField(max_digits=20, decimal_places=2)
    plan_predicted = models.DecimalField(max_digits=20, decimal_places=2)
    # Outcome per extra currency unit at ``amount``; None where it is unbounded (a concave curve at zero).
    marginal_return = models.FloatField(null=True, blank=True)
    constraint = models.CharField(max_length=8)  # what holds it: free, minimum, maximum, locked

    class Meta:
        ordering = ["scenario", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "member"], name="scenarioline_unique_member"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="scenarioline_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(minimum__isnull=True) | Q(maximum__isnull=True) | Q(minimum__lte=models.F("maximum")),
                name="scenarioline_min_below_max",
            ),
        ]

    def __str__(self):
        return f"{self.member}: {self.amount}"

    @property
    def change(self):
        return self.amount - self.plan_amount


class ScenarioTransfer(models.Model):
    """A budget transfer request proposed from a scenario: the link from the plan to the workflow."""

    scenario = models.ForeignKey(Scenario, on_delete=models.PROTECT, related_name="transfers")
    transfer = models.OneToOneField("budgets.Transfer", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scenario", "id"]

    def __str__(self):
        return f"{self.scenario} → transfer #{self.transfer_id}"
