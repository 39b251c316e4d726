from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    """Budget envelopes and lines, allocations, requests, transfers, commitments, period locks."""

    name = "budgets"
    verbose_name = "Budgets"

    def ready(self):
        from budgets import subjects

        subjects.register()
