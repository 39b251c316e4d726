"""The app's wiring, connected in ``MetricsConfig.ready``.

How metrics learns of changes without the lower apps importing it: their signals and hooks mark
the affected campaigns and budget lines dirty (``metrics.rollups.marks``).

- ``campaigns.hooks.facts_changed`` — bulk writes (imports, the API's batch upserts) name the
  campaigns and dates they touched.
- ``post_save``/``post_delete`` of spend, results, campaigns and tactics — every single-row write,
  whatever path it took (page, API, admin, shell). A campaign or tactic change may move its
  channel, team or planned cost, so it marks all of the campaign's dates.
- ``budgets.hooks.budget_changed`` and ``post_save``/``post_delete`` of ledger entries, allocations and
  commitments — the budget lines whose budget, allocated or committed moved.

And how metrics' own writes reach its Celery tasks without importing them (the tasks import the
services): the marks get the refresh task to schedule, scenario planning the task that fits a model.
"""

from django.db.models.signals import post_delete, post_save, pre_save

from budgets import hooks as budget_hooks
from budgets.models import Allocation, Budget, BudgetEntry, BudgetLine, Commitment
from campaigns import hooks as campaign_hooks
from campaigns.models import Campaign, ResultFact, SpendEntry, Tactic
from metrics import tasks
from metrics.rollups import marks
from metrics.scenarios import services as scenario_services


def _facts_changed(sender, campaign_ids, start, end, **kwargs):
    marks.mark_campaigns(campaign_ids, start, end)


def _fact_saving(sender, instance, **kwargs):
    """Remember where an existing fact was, so that moving it refreshes the old place too."""
    if instance.pk is not None:
        instance._metrics_before = sender.objects.filter(pk=instance.pk).values_list("campaign_id", "date").first()


def _fact_saved(sender, instance, **kwargs):
    before = getattr(instance, "_metrics_before", None)
    if before and before != (instance.campaign_id, instance.date):
        marks.mark_campaigns([before[0]], before[1], before[1])
    marks.mark_campaigns([instance.campaign_id], instance.date, instance.date)


def _campaign_saved(sender, instance, **kwargs):
    marks.mark_campaigns([instance.pk])


def _tactic_saved(sender, instance, **kwargs):
    marks.mark_campaigns([instance.campaign_id])


def _budget_changed(sender, line_ids, **kwargs):
    marks.mark_budget_lines(line_ids)


def _line_row_saved(sender, instance, **kwargs):
    marks.mark_budget_lines([instance.line_id])


def _budget_saved(sender, instance, **kwargs):
    # Which version is current decides which lines count: all lines of the year may move.
    marks.mark_budget_lines(
        BudgetLine.objects.filter(budget__fiscal_year_id=instance.fiscal_year_id).values_list("pk", flat=True)
    )


def _line_saved(sender, instance, **kwargs):
    marks.mark_budget_lines([instance.pk])


def connect() -> None:
    marks.use_refresh_task(tasks.refresh_rollups)
    scenario_services.use_fit_task(tasks.fit_response_model)
    campaign_hooks.facts_changed.connect(_facts_changed, dispatch_uid="metrics.facts_changed")
    budget_hooks.budget_changed.connect(_budget_changed, dispatch_uid="metrics.budget_changed")
    for model in (SpendEntry, ResultFact):
        pre_save.connect(_fact_saving, sender=model, dispatch_uid=f"metrics.pre_save.{model.__name__}")
    for model, receiver in (
        (SpendEntry, _fact_saved),
        (ResultFact, _fact_saved),
        (Campaign, _campaign_saved),
        (Tactic, _tactic_saved),
        (BudgetEntry, _line_row_saved),
        (Allocation, _line_row_saved),
        (Commitment, _line_row_saved),
        (Budget, _budget_saved),
        (BudgetLine, _line_saved),
    ):
        for signal in (post_save, post_delete):
            signal.connect(receiver, sender=model, dispatch_uid=f"metrics.{signal is post_save}.{model.__name__}")
