"""Forms of budgets. None yet."""
