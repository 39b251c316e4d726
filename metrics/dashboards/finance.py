"""The finance dashboard: budget vs allocated vs committed vs actual by month and team (rollups),
variance and utilisation, pending approvals, and spend paced to the end of the fiscal year.

One set of books with budget vs actual (``budgets.reports.selectors.budget_vs_actual``): budget, allocated
and committed are each line's own (a dollar counts once, on the deepest line that holds it); a row's
actual is the spend of the campaigns a line of the year's budget funds, and the spend of campaigns
no line funds is its own row, "Spend outside any budget line", so the total actual is all the spend
— the CMO's."""

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Sum
from django.urls import reverse

from budgets.models import Budget, RequestStatus
from budgets.permissions import lines_visible_to, requests_visible_to, sees_all_budgets, transfers_visible_to
from budgets.selectors import OUTSIDE, OUTSIDE_LABEL, ledger_cells  # the row budget vs actual shows
from metrics.dashboards import figures
from metrics.dashboards.common import CATALOGUE
from metrics.dashboards.forecast import Pacing, PacingStatus, spend_pacing
from metrics.dashboards.panels import (
    Board,
    Inputs,
    Panel,
    Tile,
    as_percent,
    count_text,
    formatted,
    link,
    money_text,
    percent_text,
)
from metrics.kpis import catalogue as kpis
from metrics.kpis.selectors import with_kpis
from metrics.rollups import calendar
from metrics.rollups.models import Grain
from metrics.rollups.selectors import Row, empty_measures, measures_by, total
from mops.money import money
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from planning.models import Period

BUDGET_KPIS = ("variance_to_budget", "budget_utilisation")
AVAILABLE_HELP = (
    "Available = budget − max(allocated, committed + actual) per line and month, summed over the "
    "period's months: what the lines can still promise, as budget vs actual and the approvals count it"
)
OUTSIDE_HELP = (
    "Spend outside any budget line: spend of campaigns with no allocation from the current budget of "
    "their fiscal year; it counts against no line (budget vs actual shows the same row)."
)


@dataclass(frozen=True)
class YearPacing:
    fiscal_year: int
    start: datetime.date
    end: datetime.date
    months: list[Row]
    pacing: Pacing


class FinanceBoard(Board):
    """Budget vs allocated vs committed vs actual by month and team, pending approvals, pacing."""

    title = "Finance dashboard"
    intro = (
        "Budget, allocations, commitments and spend from the rollups, approvals waiting, and where the year is heading."
    )
    filename = "finance"
    sections = (("Budget vs actual", ("by-month", "by-team")), ("Pacing and approvals", ("pacing", "pending")))

    def __init__(self, inputs: Inputs):
        super().__init__(inputs)
        self.builders = {
            "by-month": self.by_month_panel,
            "by-team": self.by_team_panel,
            "pacing": self.pacing_panel,
            "pending": self.pending_panel,
        }

    @cached_property
    def by_month(self) -> list[Row]:
        rows = measures_by(self.inputs.filters, "month", scope=self.inputs.scope)
        return with_kpis(rows, BUDGET_KPIS, CATALOGUE)

    @cached_property
    def by_team(self) -> list[Row]:
        rows = measures_by(self.inputs.filters, "team", scope=self.inputs.scope)
        return with_kpis(rows, BUDGET_KPIS, CATALOGUE)

    @cached_property
    def totals(self) -> Row:
        return with_kpis([total(self.by_month)], BUDGET_KPIS, CATALOGUE)[0]

    def _outside(self, group_by: str) -> list[Row]:
        return measures_by(self.inputs.filters, group_by, scope=self.inputs.scope, outside_budget_lines=True)

    @cached_property
    def outside_by_month(self) -> list[Row]:
        return self._outside("month")

    @cached_property
    def outside_spend(self) -> Decimal:
        return sum((row.measures["spend"] for row in self.outside_by_month), money(0))

    @cached_property
    def months(self) -> list[Period]:
        """The fiscal months the period touches."""
        filters = self.inputs.filters
        return list(Period.objects.filter(start_date__gte=filters.start.replace(day=1), start_date__lte=filters.end))

    @cached_property
    def budgets(self) -> list[Budget]:
        """The current budget of each fiscal year the period touches."""
        years = {p.fiscal_year_id for p in self.months}
        return list(Budget.objects.filter(is_current=True, fiscal_year_id__in=years).select_related("fiscal_year"))

    @property
    def outside_url(self) -> str:
        """The campaigns behind the row of spend outside any budget line, in budget vs actual (the
        budget of the period's fiscal year when it has one)."""
        query = "key=outside&group_by=team"
        if len(self.budgets) == 1:
            query += f"&budget={self.budgets[0].pk}"
        return f"{reverse('budgets:bva-cell')}?{query}"

    @cached_property
    def available(self) -> Decimal | None:
        """What the lines can still promise in the period's months: budget vs actual's available,
        from ``budgets.selectors.ledger_cells`` (the figure approvals check), over the current
        budget of each fiscal year the period touches and the lines the filters name. None under a
        region filter: budget lines have no region."""
        filters = self.inputs.filters
        if filters.region or not self.inputs.scope.budgets:
            return None
        periods, budgets = self.months, self.budgets
        lines = lines_visible_to(self.inputs.user)
        for name in ("team", "channel", "program"):
            if getattr(filters, name):
                lines = lines.filter(**{f"{name}_id__in": getattr(filters, name)})
        every_line = not filters.narrowed and sees_all_budgets(self.inputs.user)
        found = money(0)
        for budget in budgets:
            line_ids = None if every_line else list(lines.filter(budget=budget).values_list("pk", flat=True))
            period_ids = [p.pk for p in periods if p.fiscal_year_id == budget.fiscal_year_id]
            cells = ledger_cells(budget=budget, line_ids=line_ids, period_ids=period_ids)
            found += sum((cell.available for cell in cells.values()), money(0))
        return found

    def _against_lines(self, rows: list[Row], outside: list[Row]) -> list[Row]:
        """The rows with the spend that counts against a budget line as their actual, then the row
        of spend outside any budget line: together, every dollar of spend once."""
        outside_of = {row.key: row.measures["spend"] for row in outside}
        lines = [
            Row(row.key, row.label, {**row.measures, "spend": row.measures["spend"] - outside_of.get(row.key, 0)})
            for row in rows
        ]
        spent = sum(outside_of.values(), money(0))
        if spent:
            lines.append(Row(OUTSIDE, OUTSIDE_LABEL, {**empty_measures(), "spend": spent}))
        return with_kpis(lines, BUDGET_KPIS, CATALOGUE)

    def _money_panel(self, panel_id: str, rows: list[Row], first: str, help_more: str = "") -> Panel:
        """Budget, allocated, committed and actual per row (month or team), with variance and
        utilisation, and their total."""
        c = self.inputs.currency
        header = [first, f"Budget ({c})", f"Allocated ({c})", f"Committed ({c})", f"Actual ({c})"]
        header += [f"Variance ({c})", "Utilisation %"]
        data = [
            [
                row.label,
                *(row.measures[m] for m in ("budget", "allocated", "committed", "spend")),
                row.values["variance_to_budget"],
                as_percent(row.values["budget_utilisation"]),
            ]
            for row in [*rows, *with_kpis([total(rows)], BUDGET_KPIS, CATALOGUE)]
        ]
        formats = [str, money_text, money_text, money_text, money_text, money_text, percent_text]
        series = {
            "Budget": [r.measures["budget"] for r in rows],
            "Allocated": [r.measures["allocated"] for r in rows],
            "Committed": [r.measures["committed"] for r in rows],
            "Actual": [r.measures["spend"] for r in rows],
        }
        shown = formatted(data, formats)
        for index, row in enumerate(rows):
            if row.key == OUTSIDE:  # to the campaigns behind it, in budget vs actual
                shown[index][0] = link(self.outside_url, row.label)
        return Panel(
            id=panel_id,
            title=f"Budget, allocated, committed and actual by {first.lower()}",
            header=header,
            rows=data,
            display_rows=shown,
            help=(
                f"{CATALOGUE['variance_to_budget'].description}; {CATALOGUE['budget_utilisation'].description}. "
                "Spend is the actual (spend entries); committed = open purchase orders not yet invoiced; "
                f"allocated = budget promised to campaigns.{help_more}"
            ),
            figure=figures.grouped_bars([r.label for r in rows], series, title=f"By {first.lower()}", value_title=c),
            width=12,
            table=True,
        )

    def by_month_panel(self) -> Panel:
        rows = self._against_lines(self.by_month, self.outside_by_month)
        return self._money_panel("by-month", rows, "Month", f" {OUTSIDE_HELP}")

    def by_team_panel(self) -> Panel:
        rows = self._against_lines(self.by_team, self._outside("team"))
        help_more = f" Lines without a team are under (none); a campaign's spend is under its team. {OUTSIDE_HELP}"
        return self._money_panel("by-team", rows, "Team", help_more)

    @cached_property
    def year_pacing(self) -> YearPacing:
        """The fiscal year of the period's day nearest today, paced on its spend so far."""
        filters, today = self.inputs.filters, self.inputs.today
        fiscal_year = fiscal_year_of(min(max(today, filters.start), filters.end))
        start, end = fiscal_year_bounds(fiscal_year)
        if (filters.start, filters.end) == (start, end):
            months = self.by_month
        else:
            months = measures_by(replace(filters, start=start, end=end), "month", scope=self.inputs.scope)
        budget = sum((row.measures["budget"] for row in months), Decimal(0))
        if start <= today <= end:
            month_start = today.replace(day=1)
            spent = sum((row.measures["spend"] for row in months if row.key < month_start), Decimal(0))
            this_month = measures_by(
                replace(filters, start=month_start, end=today), "organisation", scope=self.inputs.scope
            )
            spent += total(this_month).measures["spend"]
        else:
            spent = sum((row.measures["spend"] for row in months), Decimal(0))
        pacing = spend_pacing(spent=spent, start=start, end=end, today=today, allocation=budget)
        return YearPacing(fiscal_year=fiscal_year, start=start, end=end, months=months, pacing=pacing)

    def pacing_panel(self) -> Panel:
        year, c, today = self.year_pacing, self.inputs.currency, self.inputs.today
        p = year.pacing
        data = [
            ["Fiscal year", f"FY{year.fiscal_year}"],
            [f"Budget ({c})", p.allocation],
            [f"Spent to date ({c})", p.spent],
            [f"Run rate per day ({c})", p.run_rate_per_day],
            [f"Projected at year end ({c})", p.projected],
            [f"Projected variance ({c})", p.projected_variance],
            ["Status", str(p.status)],
        ]
        shown = [[label, value if isinstance(value, str) else money_text(value)] for label, value in data]
        over = [
            (row.key, row.measures["spend"]) for row in year.months if calendar.bucket_end(Grain.MONTH, row.key) < today
        ]
        figure = figures.pacing_to_year_end(
            budget_by_month=[(row.key, row.measures["budget"]) for row in year.months],
            actual_by_month=over,
            start=year.start,
            end=year.end,
            today=today,
            spent_to_date=p.spent,
            projected=p.projected,
            currency=c,
        )
        return Panel(
            id="pacing",
            title=f"Pacing to the end of FY{year.fiscal_year}",
            header=["Measure", "Value"],
            rows=data,
            display_rows=shown,
            help=(
                "The fiscal year of the period (of its day nearest today). Run rate = spend so far ÷ days "
                "elapsed; projected = spend so far + run rate × days left; on track within ±10 % of the "
                "year's budget."
            ),
            figure=figure,
            table=True,
        )

    @cached_property
    def pending(self) -> list[list]:
        """Pending allocation requests and transfers: count and value in the base currency."""
        team = self.inputs.filters.team
        requests = requests_visible_to(self.inputs.user).filter(status=RequestStatus.PENDING)
        transfers = transfers_visible_to(self.inputs.user).filter(status=RequestStatus.PENDING)
        if team:
            requests, transfers = requests.filter(team_id__in=team), transfers.filter(team_id__in=team)
        r = requests.aggregate(count=Count("id"), value=Sum("amount_base"))
        t = transfers.aggregate(count=Count("id"), value=Sum("amount"))
        zero = money(0)
        rows = [
            ["Allocation requests", r["count"], money(r["value"] or zero)],
            ["Transfers", t["count"], money(t["value"] or zero)],
        ]
        return [*rows, ["Total", rows[0][1] + rows[1][1], rows[0][2] + rows[1][2]]]

    def pending_panel(self) -> Panel:
        urls = [reverse("budgets:queue"), reverse("budgets:transfer-list"), None]
        shown = [
            [link(url, label) if url else label, count_text(n), money_text(value)]
            for url, (label, n, value) in zip(urls, self.pending, strict=True)
        ]
        return Panel(
            id="pending",
            title="Pending approvals",
            header=["Waiting for a decision", "Count", f"Value ({self.inputs.currency})"],
            rows=self.pending,
            display_rows=shown,
            help="Requests and transfers waiting for approval now (whatever the period), narrowed by the team filter.",
        )

    def tiles(self) -> list[Tile]:
        t, c = self.totals, self.inputs.currency
        p = self.year_pacing.pacing
        count, value = self.pending[-1][1:]
        tones = {
            PacingStatus.OVERSPENDING: "danger",
            PacingStatus.UNDERSPENDING: "warning",
            PacingStatus.ON_TRACK: "success",
        }
        tone = tones.get(p.status, "")
        return [
            Tile("Budget", f"{money_text(t.measures['budget'])} {c}", CATALOGUE["budget"].description),
            Tile("Actual", f"{money_text(t.measures['spend'])} {c}", CATALOGUE["spend"].description),
            Tile("Outside any budget line", f"{money_text(self.outside_spend)} {c}", OUTSIDE_HELP),
            Tile(
                "Available",
                f"{money_text(self.available)} {c}" if self.available is not None else kpis.NO_VALUE,
                AVAILABLE_HELP,
            ),
            Tile(
                "Variance",
                f"{money_text(t.values['variance_to_budget'])} {c}",
                CATALOGUE["variance_to_budget"].description,
            ),
            Tile(
                "Utilisation",
                kpis.display(CATALOGUE["budget_utilisation"], t.values["budget_utilisation"]),
                CATALOGUE["budget_utilisation"].description,
            ),
            Tile("Pending approvals", f"{count} · {money_text(value)} {c}", "Allocation requests and transfers"),
            Tile(f"Pacing FY{self.year_pacing.fiscal_year}", str(p.status), "Projected year-end spend vs budget", tone),
        ]
