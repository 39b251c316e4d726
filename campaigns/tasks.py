"""Celery tasks of campaigns. None yet."""
