"""Reads of planning data shared by pages, the API and other apps."""

import datetime
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone

from planning.fiscal import fiscal_year_of
from planning.models import ChannelGroup, FiscalYear, KpiTarget, Objective, Period
from planning.permissions import channels_visible_to


class PeriodClosed(ValidationError):
    """A write dated in a closed month. Other apps call ``assert_open`` before every dated write."""


def current_fiscal_year() -> FiscalYear | None:
    return FiscalYear.objects.filter(year=fiscal_year_of(timezone.localdate())).first()


def channels_by_group(*, user, active_only: bool = True) -> list[tuple[str, list]]:
    """[(group label, [channels…]), …] in the taxonomy's order."""
    qs = channels_visible_to(user)
    if active_only:
        qs = qs.filter(is_active=True)
    labels = dict(ChannelGroup.choices)
    return [
        (labels[group], list(items)) for group, items in groupby(qs.order_by("group", "name"), key=lambda c: c.group)
    ]


def periods_of(fiscal_year: FiscalYear):
    return fiscal_year.periods.select_related("closed_by").order_by("start_date")


def closed_periods_between(start: datetime.date, end: datetime.date) -> list[Period]:
    """The closed months overlapping [start, end] — one query, for validating a batch of rows."""
    return list(Period.objects.filter(is_closed=True, start_date__lte=end, end_date__gte=start).order_by("start_date"))


def assert_open(day: datetime.date, *, field: str = "date") -> None:
    """Raise PeriodClosed when ``day`` falls in a closed month."""
    closed = closed_periods_between(day, day)
    if closed:
        raise PeriodClosed({field: [f"{closed[0]} is closed by finance: nothing dated in it can be added or changed."]})


def objectives_with_targets(fiscal_year: FiscalYear):
    targets = Prefetch(
        "targets", queryset=KpiTarget.objects.select_related("period").order_by("kpi", "period__start_date")
    )
    return Objective.objects.filter(fiscal_year=fiscal_year).select_related("owner").prefetch_related(targets)


def target_grid(objective: Objective) -> list[tuple[str, str, list]]:
    """[(kpi, label, [value or None per month of the fiscal year])] for the objective's KPIs."""
    periods = list(objective.fiscal_year.periods.order_by("start_date"))
    by_kpi: dict[str, dict[int, object]] = {}
    for target in objective.targets.all():
        by_kpi.setdefault(target.kpi, {})[target.period_id] = target.target_value
    labels = dict(KpiTarget._meta.get_field("kpi").choices)
    return [(kpi, labels[kpi], [values.get(p.pk) for p in periods]) for kpi, values in sorted(by_kpi.items())]
