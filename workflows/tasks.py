"""Celery tasks of workflows. None yet."""
