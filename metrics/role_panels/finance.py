"""The finance dashboard: budget vs allocated vs committed vs actual by month and team (rollups),
variance and utilisation, pending approvals, and spend paced to the end of the fiscal year."""

import datetime
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

from django.db.models import Count, Sum
from django.urls import reverse

from budgets.models import RequestStatus
from budgets.permissions import requests_visible_to, transfers_visible_to
from metrics import calendar, figures, kpis
from metrics.forecast import Pacing, PacingStatus, spend_pacing
from metrics.models import Grain
from metrics.panels import (
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
from metrics.role_panels.common import CATALOGUE
from metrics.selectors import Row, measures_by, total, with_kpis
from mops.money import money
from planning.fiscal import fiscal_year_bounds, fiscal_year_of

BUDGET_KPIS = ("variance_to_budget", "budget_utilisation")


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
        return Panel(
            id=panel_id,
            title=f"Budget, allocated, committed and actual by {first.lower()}",
            header=header,
            rows=data,
            display_rows=formatted(data, formats),
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
        return self._money_panel("by-month", self.by_month, "Month")

    def by_team_panel(self) -> Panel:
        return self._money_panel("by-team", self.by_team, "Team", " Lines without a team are under (none).")

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
