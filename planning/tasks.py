"""Celery tasks of planning. None yet: planning has no background work so far."""
