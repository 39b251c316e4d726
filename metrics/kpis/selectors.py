"""Reads of KPIs: the catalogue every reader uses (measures, built-ins and the current custom KPIs) and
the KPIs of rollup rows; for the ops admin pages and the API, the custom definitions with their
versions and the live preview of a KPI (its value this fiscal year, overall and by channel).

The preview reads rollups through ``selectors.measures_by`` and computes through ``kpis.evaluate``,
the same path every dashboard takes, so what the admin sees is what a chart will show.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from metrics.kpis import catalogue as kpis
from metrics.kpis.formulas import FormulaError
from metrics.kpis.models import KpiDefinition
from metrics.rollups import selectors
from planning.fiscal import fiscal_year_bounds, fiscal_year_of

STANDARD: tuple[kpis.Kpi, ...] = (*kpis.MEASURE_KPIS, *kpis.BUILTIN_KPIS)
STANDARD_BY_CODE = {kpi.code: kpi for kpi in STANDARD}


def as_kpi(definition: KpiDefinition) -> kpis.Kpi:
    """The catalogue entry of a stored custom KPI definition."""
    return kpis.Kpi(
        code=definition.code,
        name=definition.name,
        formula=definition.formula,
        unit=definition.unit,
        direction=definition.direction,
        description=definition.description or f"{definition.name} = {definition.formula}",
        version=definition.version,
    )


def kpi_catalogue() -> dict[str, kpis.Kpi]:
    """Measures, built-ins and the current version of every active custom KPI (one query)."""
    return kpis.catalogue(as_kpi(d) for d in KpiDefinition.objects.filter(is_current=True, is_active=True))


def with_kpis(rows: list[selectors.Row], codes, catalogue: dict) -> list[selectors.Row]:
    """Evaluate the KPIs ``codes`` on each row's sums."""
    codes = list(codes)
    for row in rows:
        row.values = kpis.evaluate(codes, row.measures, catalogue)
    return rows


def custom_definitions(*, include_inactive: bool = True) -> QuerySet[KpiDefinition]:
    """The current version of every custom KPI, by code."""
    qs = KpiDefinition.objects.filter(is_current=True).select_related("created_by").order_by("code")
    return qs if include_inactive else qs.filter(is_active=True)


def current_definition(code: str) -> KpiDefinition | None:
    return KpiDefinition.objects.filter(code=code, is_current=True).select_related("created_by").first()


def definition_versions(code: str) -> QuerySet[KpiDefinition]:
    """Every version of a custom KPI, newest first."""
    return KpiDefinition.objects.filter(code=code).select_related("created_by").order_by("-version")


def catalogue_with(kpi: kpis.Kpi) -> dict[str, kpis.Kpi]:
    """The live catalogue with ``kpi`` in it as given: a proposed definition not saved yet, or an
    inactive one, previewed as if it were current. Raises FormulaError for a built-in code."""
    if kpi.builtin:
        return kpi_catalogue()
    others = [as_kpi(d) for d in custom_definitions(include_inactive=False).exclude(code=kpi.code)]
    return kpis.catalogue([*others, kpi])


def used_by(code: str, catalogue: dict[str, kpis.Kpi]) -> list[str]:
    """Codes of the custom KPIs whose formulas name ``code`` directly."""
    return sorted(
        other.code
        for other in catalogue.values()
        if not other.builtin and other.code != code and code in other.parsed.names
    )


@dataclass(frozen=True)
class PreviewRow:
    label: str
    value: Decimal | None
    shown: str  # kpis.display of the value: "—" for no value


@dataclass(frozen=True)
class Preview:
    """A KPI's value over the fiscal year so far as the rollups know it, overall and per channel.
    ``error`` explains a KPI that cannot be computed (e.g. it names a KPI deactivated since)."""

    kpi: kpis.Kpi
    fiscal_year: int
    start: datetime.date
    end: datetime.date
    overall: PreviewRow | None = None
    by_channel: list[PreviewRow] = field(default_factory=list)
    error: str = ""


def preview(kpi: kpis.Kpi, *, user, today: datetime.date | None = None) -> Preview:
    """``kpi`` over the current fiscal year for what ``user`` may see (``selectors.scope_of``).
    Three queries: the organisation total and the channels (numbers, then labels)."""
    today = today or timezone.localdate()
    year = fiscal_year_of(today)
    start, end = fiscal_year_bounds(year)
    try:
        catalogue = catalogue_with(kpi)
        scope = selectors.scope_of(user)
        filters = selectors.Filters(start=start, end=end)
        overall = selectors.total(selectors.measures_by(filters, "organisation", scope=scope), label="All channels")
        rows = [_row(kpi, row, catalogue) for row in (overall, *selectors.measures_by(filters, "channel", scope=scope))]
    except (FormulaError, kpis.UnknownKpi) as error:
        return Preview(kpi=kpi, fiscal_year=year, start=start, end=end, error=str(error))
    return Preview(kpi=kpi, fiscal_year=year, start=start, end=end, overall=rows[0], by_channel=rows[1:])


def _row(kpi: kpis.Kpi, row: selectors.Row, catalogue) -> PreviewRow:
    value = kpis.evaluate([kpi.code], row.measures, catalogue)[kpi.code]
    return PreviewRow(label=row.label, value=value, shown=kpis.display(kpi, value))
