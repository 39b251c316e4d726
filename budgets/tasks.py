"""Celery tasks of budgets. None yet."""
