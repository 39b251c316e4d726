"""Celery tasks of metrics. None yet."""
