"""Scenario planning's tables (issue 7): response models (a fit of an outcome on spend by channel or
program), scenarios with their lines, and the budget transfers an accepted scenario proposed."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from mops.money import MoneyField


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
    ``metrics.scenarios.mmm.results.FitResult.to_dict()`` JSON. A marketer's model is limited to one of their teams
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
