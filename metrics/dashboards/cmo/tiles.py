"""The CMO dashboard's headline: a tile per KPI with its change vs the previous period and its target
to date, and the same numbers as a table to download."""

from decimal import Decimal

from metrics.dashboards.cmo.reads import Reads
from metrics.dashboards.cmo.values import STATUS_HELP, number, status, target, text, unit_label
from metrics.dashboards.panels import Comparison, Panel, Tile, day_range, rounded
from metrics.kpis import catalogue as kpis

TILES = ("spend", "pipeline", "revenue", "roi", "cac")
TILE_TITLES = {
    "spend": "Spend vs budget",
    "pipeline": "Pipeline",
    "revenue": "Won revenue",
    "roi": "ROI",
    "cac": "CAC",
}
CHANGE_SHOWN = 999  # percent


def tiles(reads: Reads) -> list[Tile]:
    codes = [*TILES, "budget_utilisation"]
    now = kpis.evaluate(codes, reads.current.measures, reads.catalogue)
    before = kpis.evaluate(codes, reads.previous.measures, reads.catalogue)
    result = []
    for code in TILES:
        kpi = reads.catalogue[code]
        value, previous = now[code], before[code]
        change, change_text = _change(kpi, value, previous)
        tone = "neutral"
        if change and code != "spend":  # more spend is neither good nor bad in itself
            tone = "good" if (change > 0) == (kpi.direction == "higher") else "bad"
        goal = target(reads, code, reads.targets(code))
        percent, state = status(reads, code, value, goal)
        detail = ""
        help_text = kpi.description
        if code == "spend":
            budget = reads.current.measures["budget"]
            utilisation = text(reads, "budget_utilisation", now["budget_utilisation"])
            detail = f"Budget {text(reads, 'budget', budget)} · utilisation {utilisation}"
            help_text = f"{kpi.description}; {reads.catalogue['budget_utilisation'].description}"
        result.append(
            Tile(
                label=TILE_TITLES[code],
                text=text(reads, code, value),
                help=help_text,
                code=code,
                value=value,
                unit=reads.currency if kpi.unit == "money" and value is not None else "",
                detail=detail,
                comparison=Comparison(
                    previous=previous,
                    change=change,
                    change_text=change_text,
                    change_tone=tone,
                    target=goal.to_date,
                    target_shown=text(reads, code, goal.to_date),
                    percent_of_target=percent,
                    status=state,
                ),
            )
        )
    return result


def _change(kpi: kpis.Kpi, value, previous) -> tuple[Decimal | None, str]:
    """Percentages change by points; everything else by a share of the previous value."""
    if value is None or previous is None:
        return None, kpis.NO_VALUE
    if kpi.unit == "percent":
        points = rounded((Decimal(value) - Decimal(previous)) * 100, "0.1")
        return points, f"{points:+,.1f} pts"
    if not previous:
        return None, kpis.NO_VALUE
    change = rounded((Decimal(value) - Decimal(previous)) / abs(Decimal(previous)) * 100, "0.1")
    if abs(change) > CHANGE_SHOWN:  # 140,000 % says no more than "many times"; the download has it
        return change, f"{'>+' if change > 0 else '<−'}{CHANGE_SHOWN:,} %"
    return change, f"{change:+,.1f} %"


def headline(reads: Reads) -> Panel:
    """The tiles' numbers as a table (the page draws them as tiles; this is their download)."""
    comparison = day_range(reads.comparison.start, reads.comparison.end)
    rows = []
    for tile in tiles(reads):
        unit, vs = reads.catalogue[tile.code].unit, tile.comparison
        rows.append(
            [
                reads.catalogue[tile.code].name,
                unit_label(reads, tile.code),
                number(reads, tile.code, tile.value),
                number(reads, tile.code, vs.previous),
                vs.change,
                "pts" if unit == "percent" else "%",
                number(reads, tile.code, vs.target),
                rounded(vs.percent_of_target, "0.01") if vs.percent_of_target is not None else None,
                vs.status,
                tile.help,
            ]
        )
    return Panel(
        id="headline",
        title="Headline numbers",
        header=[
            "KPI",
            "Unit",
            "This period",
            f"Previous period ({comparison})",
            "Change",
            "Change unit",
            "Target to date",
            "% of target to date",
            "Status",
            "Formula",
        ],
        rows=rows,
        help=f"Change vs {comparison}. {STATUS_HELP}",
    )
