"""The dashboards' figure builders are pure functions: rows and forecasts in, Plotly figures out.
Assertions are on the figure objects (Plotly's JSON encodes number arrays as base64), never on HTML."""

import datetime
from decimal import Decimal

import pytest

from metrics.dashboards import figures
from metrics.dashboards.forecast import Forecast, ForecastPoint
from metrics.rollups.selectors import Row, empty_measures

D = Decimal


def month_row(month: datetime.date, **measures) -> Row:
    return Row(key=month, label=f"{month:%b %Y}", measures={**empty_measures(), **measures})


MONTHS = [datetime.date(2026, m, 1) for m in range(1, 7)]
ROWS = [month_row(m, spend=D(f"{100 * i}.50"), revenue=D(f"{50 * i}.25")) for i, m in enumerate(MONTHS, start=1)]
SPEND_FORECAST = Forecast(
    points=(
        ForecastPoint(datetime.date(2026, 5, 1), D("480.00"), D("400.00"), D("560.00")),
        ForecastPoint(datetime.date(2026, 6, 1), D("500.00"), D("380.00"), D("640.00")),
    ),
    method="damped trend from recent months",
    note="",
)


def trend(**kwargs):
    arguments = {
        "measures": (("spend", "Spend"), ("revenue", "Won revenue")),
        "forecasts": {"spend": SPEND_FORECAST},
        "month_in_progress": datetime.date(2026, 5, 1),
        "currency": "USD",
        "title": "Spend and won revenue by month (USD)",
    }
    return figures.trend(ROWS, **{**arguments, **kwargs})


def by_name(fig):
    return {trace.name: trace for trace in fig.data}


def test_trend_draws_whole_months_solid_and_leaves_the_month_in_progress_off_the_line():
    traces = by_name(trend())
    spend = traces["Spend"]
    assert spend.line.dash is None
    assert list(spend.x) == [m.isoformat() for m in MONTHS[:4]]  # May is in progress; June has not come
    assert list(spend.y) == [100.5, 200.5, 300.5, 400.5]
    so_far = traces["Spend, month to date"]
    assert so_far.mode == "markers" and so_far.marker.symbol == "circle-open"
    assert list(so_far.x) == ["2026-05-01"] and list(so_far.y) == [500.5]


def test_trend_forecast_is_dashed_from_the_last_whole_month_with_its_band():
    traces = by_name(trend())
    forecast = traces["Spend forecast"]
    assert forecast.line.dash == "dash"
    assert list(forecast.x) == ["2026-04-01", "2026-05-01", "2026-06-01"]  # anchored on April's actual
    assert list(forecast.y) == [400.5, 480.0, 500.0]
    high, low = traces["Spend forecast, high"], traces["Spend forecast, 80 % prediction interval"]
    assert list(high.y) == [560.0, 640.0] and high.showlegend is False
    assert list(low.y) == [400.0, 380.0] and low.fill == "tonexty"
    names = [trace.name for trace in trend().data]
    assert names.index("Spend forecast, 80 % prediction interval") == names.index("Spend forecast, high") + 1
    assert "Won revenue forecast" not in traces  # no forecast given for it: no dashed line
    assert all(isinstance(value, float) for value in forecast.y)


def test_trend_without_forecasts_or_a_month_in_progress():
    fig = trend(forecasts={}, month_in_progress=None)
    assert [trace.name for trace in fig.data] == ["Spend", "Won revenue"]
    assert len(fig.data[0].x) == 6
    assert not [trace for trace in fig.data if trace.line.dash == "dash"]
    assert fig.layout.yaxis.title.text == "USD" and fig.layout.xaxis.type == "date"


def test_an_empty_forecast_draws_nothing_more():
    empty = Forecast(points=(), method="not enough history", note="A forecast needs at least 3 months.")
    assert len(trend(forecasts={"spend": empty}).data) == len(trend(forecasts={}).data)


def returns_row(label, spend, revenue, roas, key=None):
    row = Row(key=key or label, label=label, measures={**empty_measures(), "spend": D(spend), "revenue": D(revenue)})
    row.values = {"roas": None if roas is None else D(roas)}
    return row


def test_roas_bars_rank_members_with_spend_and_mark_break_even():
    rows = [
        returns_row("Events", "100", "250", "2.5"),
        returns_row("PR", "0", "0", None),
        returns_row("Display", "100", "40", "0.4"),
    ]
    fig = figures.roas_bars(rows, title="ROI and ROAS by channel", currency="USD", roi_text={"Events": "ROI 150.0 %"})
    bars = fig.data[0]
    assert bars.orientation == "h"
    assert list(bars.y) == ["Display", "Events"]  # ascending, so the best is drawn on top; PR had no spend
    assert list(bars.x) == [0.4, 2.5]
    assert list(bars.marker.color) == [figures.BAD, figures.GOOD]
    assert list(bars.text) == ["", "ROI 150.0 %"]
    assert [(shape.x0, shape.line.dash) for shape in fig.layout.shapes] == [(1, "dot")]
    assert fig.layout.annotations[0].text == "break-even"


def test_funnel_shows_counts_and_each_stage_conversion():
    stages = [figures.Stage("Leads", 1000, ""), figures.Stage("MQLs", 300, "30.0 %"), figures.Stage("Won", 3, "1.0 %")]
    fig = figures.funnel(stages, title="Funnel")
    funnel = fig.data[0]
    assert funnel.type == "funnel"
    assert list(funnel.y) == ["Leads", "MQLs", "Won"] and list(funnel.x) == [1000, 300, 3]
    assert list(funnel.text) == ["1,000", "300 · 30.0 %", "3 · 1.0 %"]
    assert funnel.textinfo == "text"


def test_attainment_bars_colour_by_status_and_mark_the_threshold():
    items = [
        figures.Attainment("Pipeline", D("104.2"), "on track", "1,042 of 1,000"),
        figures.Attainment("Leads", D("60"), "at risk", "60 of 100"),
        figures.Attainment("CAC", None, "no value", ""),
    ]
    fig = figures.attainment_bars(items, title="% of target to date", threshold=D("95"))
    bars = fig.data[0]
    assert list(bars.y) == ["Pipeline", "Leads"] and list(bars.x) == [104.2, 60.0]
    assert list(bars.marker.color) == [figures.STATUS_COLORS["on track"], figures.STATUS_COLORS["at risk"]]
    assert sorted(shape.x0 for shape in fig.layout.shapes) == [95.0, 100]
    assert fig.layout.xaxis.range[1] >= 104.2


def test_year_end_stacks_actual_and_forecast_with_the_range_and_target():
    items = [
        figures.YearEnd("spend", "Spend", D("900"), D("100"), D("950"), D("1080"), None),
        figures.YearEnd("pipeline", "Pipeline", D("5000"), D("1000"), D("5600"), D("6500"), D("8000")),
    ]
    fig = figures.year_end(items, title="Where FY2026 lands", currency="USD", actual_label="A", forecast_label="F")
    actual, forecast, target = fig.data
    assert fig.layout.barmode == "stack"
    assert list(actual.x) == [900.0, 5000.0] and list(forecast.x) == [100.0, 1000.0]
    assert list(forecast.error_x.array) == [80.0, 500.0]  # high − projected
    assert list(forecast.error_x.arrayminus) == [50.0, 400.0]  # projected − low
    assert list(target.y) == ["Pipeline"] and list(target.x) == [8000.0] and target.marker.symbol == "diamond"


def test_the_house_style_has_no_named_template():
    fig = figures.grouped_bars(["Search"], {"Spend": [D("12.50")]}, title="Spend", value_title="USD")
    assert list(fig.data[0].y) == [12.5]
    assert fig.layout.template.layout.to_plotly_json() == {}  # "none": small, fast JSON
    assert fig.layout.title.text == "Spend" and fig.layout.yaxis.title.text == "USD"


# --- generic builders and the finance pacing -----------------------------------------------


def test_grouped_bars_keep_no_value_as_a_gap_and_check_lengths():
    fig = figures.grouped_bars(
        ["Jan", "Feb"], {"Budget": [D("10.50"), None], "Actual": [1, 2]}, title="By month", value_title="USD"
    )
    assert [trace.name for trace in fig.data] == ["Budget", "Actual"]
    assert list(fig.data[0].y) == [10.5, None]
    with pytest.raises(ValueError, match="2 categories"):
        figures.grouped_bars(["Jan", "Feb"], {"Budget": [1]}, title="x")


def test_horizontal_bars_grow_with_their_categories():
    names = [f"Campaign {i}" for i in range(20)]
    fig = figures.grouped_bars(names, {"Spent": list(range(20))}, title="x", horizontal=True)
    assert fig.data[0].orientation == "h" and list(fig.data[0].y) == names
    assert fig.layout.height > figures.HEIGHT


def test_pacing_figure_projects_from_today_to_the_year_end():
    fig = figures.pacing_to_year_end(
        budget_by_month=[(datetime.date(2026, m, 1), D("100")) for m in range(1, 13)],
        actual_by_month=[(datetime.date(2026, 1, 1), D("80")), (datetime.date(2026, 2, 1), D("90"))],
        start=datetime.date(2026, 1, 1),
        end=datetime.date(2026, 12, 31),
        today=datetime.date(2026, 3, 15),
        spent_to_date=D("200"),
        projected=D("1000"),
        currency="USD",
    )
    budget, projection, actual = fig.data
    assert list(budget.y)[-1] == 1200.0
    assert list(projection.y) == [200.0, 1000.0] and projection.line.dash == "dash"
    assert list(actual.y) == [0.0, 80.0, 170.0, 200.0]
