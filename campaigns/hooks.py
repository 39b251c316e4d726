"""What campaigns tells the apps above it (metrics) without importing them: a signal sent after
commit whenever facts change, naming the campaigns and the date range touched."""

import datetime

from django.db import transaction
from django.dispatch import Signal

# sender=None; kwargs: campaign_ids (set[int]), start (date), end (date)
facts_changed = Signal()


def facts_changed_on_commit(campaign_ids, start: datetime.date, end: datetime.date) -> None:
    ids = set(campaign_ids)
    if ids:
        transaction.on_commit(lambda: facts_changed.send(sender=None, campaign_ids=ids, start=start, end=end))
