from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    """Budget envelopes and lines, allocations, requests, transfers, commitments, period locks."""

    name = "budgets"
    verbose_name = "Budgets"

    def ready(self):
        # Imports inside ready(): apps.py is imported before the models are loaded, and these modules read them.
        from budgets import subjects
        from budgets.permissions import can_request_from, can_view_budgets, sees_all_budgets
        from mops.navigation import MenuEntry, register

        subjects.register()
        register(
            MenuEntry(50, "Budgets", "budgets:home", allowed=can_view_budgets),
            MenuEntry(60, "Approvals", "budgets:queue", allowed=sees_all_budgets),  # finance's approval queue
            MenuEntry(
                70,
                "Budget requests",
                "budgets:request-list",
                allowed=lambda user: can_request_from(user) and not sees_all_budgets(user),
            ),
        )
