"""What the CMO dashboard reads for the filters within the user's scope, each thing at most once
per request and lazily: the page reads a fixed set of rollup queries whatever the size of the data,
and a download (one panel) reads only what that panel needs."""

import datetime
from dataclasses import replace
from functools import cached_property

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from metrics.dashboards.forecast import Forecast, forecast_monthly
from metrics.kpis import catalogue as kpis
from metrics.kpis import selectors as kpi_selectors
from metrics.rollups import selectors
from metrics.rollups.calendar import add_months
from metrics.rollups.selectors import Filters, Row, Scope
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import KpiTarget, Objective

HISTORY_YEARS = 2  # fiscal years of history before the forecast year (36 months in all)
RETURN_KPIS = ("roas", "roi", "pipeline_per_spend")


class Reads:
    """What the CMO dashboard reads for ``filters`` within ``scope``, each at most once."""

    def __init__(self, filters: Filters, *, scope: Scope, today: datetime.date | None = None, currency: str = ""):
        self.filters = filters
        self.scope = scope
        self.today = today or timezone.localdate()
        self.currency = currency or settings.BASE_CURRENCY
        self.catalogue = kpis.catalogue()  # the built-ins: this dashboard shows no custom KPI
        self._by: dict[str, list[Row]] = {}
        self._forecasts: dict[str, Forecast] = {}
        self.history_months: dict[str, int] = {}  # months each forecast was made from

    # --- periods ---

    @cached_property
    def in_progress(self) -> bool:
        return self.filters.start <= self.today < self.filters.end

    @cached_property
    def comparison(self) -> Filters:
        """The previous period; like for like while this one is still running."""
        previous = self.filters.shifted_back()
        if self.in_progress:
            elapsed = self.today - self.filters.start
            previous = replace(previous, end=min(previous.end, previous.start + elapsed))
        return previous

    @cached_property
    def year(self) -> tuple[datetime.date, datetime.date]:
        """The fiscal year the forecast runs to the end of: the one the filtered period ends in."""
        return fiscal_year_bounds(fiscal_year_of(self.filters.end))

    @cached_property
    def this_month(self) -> datetime.date:
        return self.today.replace(day=1)

    # --- rollup reads ---

    @cached_property
    def current(self) -> Row:
        return selectors.total(selectors.measures_by(self.filters, "organisation", scope=self.scope))

    @cached_property
    def previous(self) -> Row:
        return selectors.total(selectors.measures_by(self.comparison, "organisation", scope=self.scope))

    @cached_property
    def months(self) -> list[Row]:
        """The filtered period by month (edge months cut to the period)."""
        return selectors.series(self.filters, "month", scope=self.scope)

    @cached_property
    def history(self) -> list[Row]:
        """Whole months from two fiscal years before the forecast year to its end, same filters."""
        start, end = self.year
        window = replace(self.filters, start=add_months(start, -12 * HISTORY_YEARS), end=end)
        return selectors.series(window, "month", scope=self.scope)

    def by(self, group_by: str) -> list[Row]:
        """The period's measures per member of ``group_by``, with ROAS, ROI and pipeline per spend."""
        if group_by not in self._by:
            rows = selectors.measures_by(self.filters, group_by, scope=self.scope)
            self._by[group_by] = kpi_selectors.with_kpis(rows, RETURN_KPIS, self.catalogue)
        return self._by[group_by]

    # --- planning reads ---

    @cached_property
    def objectives(self) -> list[Objective]:
        """Active objectives of the fiscal years the period and the forecast year touch, with their
        monthly targets (two queries)."""
        first = min(self.filters.start, self.year[0])
        targets = KpiTarget.objects.select_related("period").order_by("kpi", "period__start_date")
        return list(
            Objective.objects.filter(
                is_active=True, fiscal_year__start_date__lte=self.year[1], fiscal_year__end_date__gte=first
            )
            .order_by("name")
            .prefetch_related(Prefetch("targets", queryset=targets))
        )

    def targets(self, code: str, objective: Objective | None = None) -> list[KpiTarget]:
        chosen = [objective] if objective is not None else self.objectives
        return [t for o in chosen for t in o.targets.all() if t.kpi == code]

    # --- forecast ---

    @cached_property
    def forecast_possible(self) -> bool:
        return self.today <= self.year[1]

    def forecast(self, code: str) -> Forecast | None:
        """The measure's monthly forecast from the whole months before this one to year end."""
        if not self.forecast_possible:
            return None
        if code not in self._forecasts:
            history = [(row.key, row.measures[code]) for row in self.history if row.key < self.this_month]
            # Months before the first booking predate the data: they are not months of zero. The first
            # month with data is left out too: the data rarely starts on its first day, and a month
            # that is half missing would read as a slump (and be repeated as one next year).
            first = next((i for i, (_, value) in enumerate(history) if value), len(history))
            self.history_months[code] = len(history[first + 1 :])
            self._forecasts[code] = forecast_monthly(history[first + 1 :], until=self.year[1])
        return self._forecasts[code]
