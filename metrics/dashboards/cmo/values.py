"""The CMO dashboard's KPI values in words (for the page, for a table cell, for a download) and its
targets: each objective's monthly targets pro-rated to the period, and the status they give."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from metrics.dashboards.cmo.reads import Reads
from metrics.dashboards.panels import rounded
from metrics.kpis import catalogue as kpis
from planning.models import KpiTarget

ON_TRACK = "on track"
AT_RISK = "at risk"
NO_TARGET = "no target"
NOT_STARTED = "not started"  # the period has no day in the past yet
NO_VALUE = "no value"  # the actual is a ratio with a zero denominator
ON_TRACK_SHARE = Decimal("0.95")
STATUS_HELP = (
    "On track: actual to date ≥ 95 % of the target to date (for lower-is-better KPIs such as CAC: at "
    "most the target ÷ 95 %); at risk otherwise. Target to date: each monthly target pro-rated by the "
    "days of the month in the period that are past."
)


def _overlap_days(a_start, a_end, b_start, b_end) -> int:
    return max((min(a_end, b_end) - max(a_start, b_start)).days + 1, 0)


def text(reads: Reads, code: str, value) -> str:
    """A KPI value for the page: "—" for no value, money with the base currency code."""
    kpi = reads.catalogue[code]
    shown = kpis.display(kpi, value)
    return f"{shown} {reads.currency}" if kpi.unit == "money" and value is not None else shown


def number(reads: Reads, code: str, value):
    """A KPI value for a download: money to the cent, percentages as percent (12.34), ratios to 4
    places, counts whole; None stays None (the export writes "—")."""
    if value is None:
        return None
    kpi = reads.catalogue[code]
    if kpi.unit == "percent":
        return rounded(Decimal(value) * 100, "0.01")
    return kpis.quantize(kpi, value)


def amount(reads: Reads, code: str, value) -> str:
    """A KPI value for a table cell whose header names the unit: "1,234.50", "12.3", "3.45", "—"."""
    return kpis.display(reads.catalogue[code], value).removesuffix(" %").removesuffix("×")


def unit_label(reads: Reads, code: str) -> str:
    return {"money": reads.currency, "percent": "%", "ratio": "×", "count": "count"}.get(reads.catalogue[code].unit, "")


def header(reads: Reads, code: str, name: str | None = None) -> str:
    """A download column header with its unit: "Spend (USD)", "ROI (%)"."""
    label = name or reads.catalogue[code].name
    unit = unit_label(reads, code)
    return f"{label} ({unit})" if unit and unit != "count" else label


@dataclass(frozen=True)
class Target:
    to_date: Decimal | None  # pro-rated to the days past; None: no target
    period: Decimal | None  # for the whole filtered period


def target(reads: Reads, code: str, targets: list[KpiTarget], start=None, end=None) -> Target:
    """The target on ``code`` for [start, end] (default: the filtered period) from monthly targets:
    summed measures add up the months' targets pro-rated by their days in the range; ratios take the
    mean of the months' targets weighted by those days. None where no target month overlaps."""
    start = start or reads.filters.start
    end = end or reads.filters.end
    additive = reads.catalogue[code].measure

    def over(last: datetime.date) -> Decimal | None:
        total, days_counted = Decimal(0), 0
        for t in targets:
            days = _overlap_days(t.period.start_date, t.period.end_date, start, last)
            if days:
                month_days = (t.period.end_date - t.period.start_date).days + 1
                total += t.target_value * days / month_days if additive else t.target_value * days
                days_counted += days
        if not days_counted:
            return None
        return total if additive else total / days_counted

    return Target(to_date=over(min(end, reads.today)), period=over(end))


def status(reads: Reads, code: str, actual, goal: Target) -> tuple[Decimal | None, str]:
    """(% of target to date, status)."""
    if goal.period is None:
        return None, NO_TARGET
    if goal.to_date is None:
        return None, NOT_STARTED
    if actual is None:
        return None, NO_VALUE
    percent = (Decimal(actual) / goal.to_date * 100) if goal.to_date else None
    if reads.catalogue[code].direction == "higher":
        on_track = actual >= ON_TRACK_SHARE * goal.to_date
    else:
        on_track = ON_TRACK_SHARE * actual <= goal.to_date
    return percent, ON_TRACK if on_track else AT_RISK
