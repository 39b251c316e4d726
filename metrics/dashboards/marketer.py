"""The marketer's dashboard: my teams' campaigns of the period with spend paced against their
allocation, results against what was expected, and the workflow tasks waiting for me."""

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from budgets.models import Allocation
from campaigns.models import Campaign, CampaignStatus
from campaigns.permissions import campaigns_visible_to
from metrics.dashboards import figures
from metrics.dashboards.common import MAX_LIST, campaign_measures_to_date
from metrics.dashboards.forecast import Pacing, PacingStatus, spend_pacing
from metrics.dashboards.panels import (
    Board,
    Inputs,
    Panel,
    Tile,
    as_percent,
    count_text,
    link,
    local_time,
    money_text,
    or_dash,
    percent_text,
    share,
)
from metrics.rollups.models import MONEY_MEASURES
from metrics.rollups.selectors import empty_measures
from mops.money import money
from workflows.models import StepTask
from workflows.selectors import my_tasks

MAX_CAMPAIGNS = 200  # rows of the table; narrower filters show the others
CHART_CAMPAIGNS = 15  # bars of the pacing chart


@dataclass(frozen=True)
class CampaignLine:
    campaign: Campaign
    allocation: Decimal
    measures: dict  # from the campaign's first fact to today
    pacing: Pacing


class MarketerBoard(Board):
    """My teams' campaigns of the period: pacing against allocation, results vs expected, my tasks."""

    title = "Marketing dashboard"
    intro = (
        "My teams' campaigns: spend against allocation, results against what was expected, and the tasks "
        "waiting for me."
    )
    filename = "marketing"
    sections = (("My teams' campaigns", ("pacing", "results")), ("My work", ("tasks",)))

    def __init__(self, inputs: Inputs):
        super().__init__(inputs)
        self.builders = {"pacing": self.pacing_panel, "results": self.results_panel, "tasks": self.tasks_panel}

    @cached_property
    def campaigns(self) -> list[Campaign]:
        """Visible campaigns overlapping the period (cancelled ones left out), one more than shown."""
        f = self.inputs.filters
        qs = campaigns_visible_to(self.inputs.user).filter(start_date__lte=f.end, end_date__gte=f.start)
        qs = qs.exclude(status=CampaignStatus.CANCELLED)
        for name in ("team", "channel", "program", "region"):
            if getattr(f, name):
                qs = qs.filter(**{f"{name}_id__in": getattr(f, name)})
        return list(qs.order_by("start_date", "name", "id")[: MAX_CAMPAIGNS + 1])

    @cached_property
    def lines(self) -> list[CampaignLine]:
        campaigns = self.campaigns[:MAX_CAMPAIGNS]
        ids = [c.pk for c in campaigns]
        allocated = dict(
            Allocation.objects.filter(campaign_id__in=ids)
            .values("campaign_id")
            .annotate(total=Sum("amount_base"))
            .values_list("campaign_id", "total")
        )
        to_date = campaign_measures_to_date(ids, self.inputs.today)
        empty = empty_measures()
        lines = []
        for campaign in campaigns:
            measures = to_date.get(campaign.pk, empty)
            allocation = money(allocated.get(campaign.pk) or 0)
            pacing = spend_pacing(
                spent=measures["spend"],
                start=campaign.start_date,
                end=campaign.end_date,
                today=self.inputs.today,
                allocation=allocation,
            )
            lines.append(CampaignLine(campaign, allocation, measures, pacing))
        return lines

    def _note(self) -> str:
        if len(self.campaigns) > MAX_CAMPAIGNS:
            return f"Showing the first {MAX_CAMPAIGNS} campaigns by start date; narrow the filters to see others."
        return ""

    def _campaign_cell(self, campaign: Campaign) -> str:
        return link(reverse("campaigns:campaign-detail", args=[campaign.pk]), campaign.name)

    def pacing_panel(self) -> Panel:
        c = self.inputs.currency
        header = ["Campaign", "Status", "Start", "End", f"Allocation ({c})", f"Spent to date ({c})"]
        header += [f"Run rate per day ({c})", f"Projected ({c})", f"Projected variance ({c})", "Pacing"]
        data, shown = [], []
        for line in self.lines:
            p, cmp = line.pacing, line.campaign
            row = [cmp.name, cmp.get_status_display(), cmp.start_date, cmp.end_date, line.allocation, p.spent]
            row += [p.run_rate_per_day, p.projected, p.projected_variance, str(p.status)]
            data.append(row)
            shown.append(
                [self._campaign_cell(cmp), row[1], str(row[2]), str(row[3]), *map(money_text, row[4:9]), row[9]]
            )
        today = self.inputs.today
        running = sorted(
            self.lines,
            key=lambda ln: (not ln.campaign.start_date <= today <= ln.campaign.end_date, -ln.allocation),
        )[:CHART_CAMPAIGNS]
        figure = figures.grouped_bars(
            [ln.campaign.name for ln in running],
            {
                "Allocation": [ln.allocation for ln in running],
                "Spent to date": [ln.pacing.spent for ln in running],
                "Projected": [ln.pacing.projected for ln in running],
            },
            title="Spend against allocation",
            value_title=c,
            horizontal=True,
        )
        note = self._note()
        if len(self.lines) > CHART_CAMPAIGNS:
            note = f"The chart shows {CHART_CAMPAIGNS} campaigns (running ones first, largest allocation first). {note}"
        return Panel(
            id="pacing",
            title="Campaign pacing against allocation",
            header=header,
            rows=data,
            display_rows=shown,
            help=(
                "Campaigns of my teams running in the period. Spent to date = every spend entry up to today; "
                "run rate = spent ÷ days since the start; projected = spent + run rate × days to the end; "
                "on track within ±10 % of the allocation (approved allocations from every line)."
            ),
            figure=figure if running else None,
            note=note.strip(),
            width=12,
            table=True,
        )

    def results_panel(self) -> Panel:
        c = self.inputs.currency
        pairs = (("leads", "expected_leads"), ("mqls", "expected_mqls"))
        money_pairs = (("pipeline", "expected_pipeline"), ("revenue", "expected_revenue"))
        header = ["Campaign"]
        for label in ("Leads", "MQLs"):
            header += [label, f"Expected {label}", f"{label} % of expected"]
        for label in ("Pipeline", "Revenue"):
            header += [f"{label} ({c})", f"Expected {label.lower()} ({c})", f"{label} % of expected"]
        sums = dict.fromkeys([m for pair in (*pairs, *money_pairs) for m in pair], Decimal(0))
        data, shown = [], []
        for line in self.lines:
            row, display = [line.campaign.name], [self._campaign_cell(line.campaign)]
            for actual_name, expected_name in (*pairs, *money_pairs):
                actual, expected = line.measures[actual_name], getattr(line.campaign, expected_name)
                sums[actual_name] += actual
                sums[expected_name] += expected
                row += [actual, expected, as_percent(share(actual, expected))]
                fmt = money_text if actual_name in MONEY_MEASURES else count_text
                display += [fmt(actual), fmt(expected), percent_text(row[-1])]
            data.append(row)
            shown.append(display)
        total_row, total_display = ["Total"], ["Total"]
        reached = []
        for actual_name, expected_name in (*pairs, *money_pairs):
            actual, expected = sums[actual_name], sums[expected_name]
            fraction = share(actual, expected)
            reached.append(fraction)
            if actual_name not in MONEY_MEASURES:
                actual, expected = int(actual), int(expected)
            total_row += [actual, expected, as_percent(fraction)]
            fmt = money_text if actual_name in MONEY_MEASURES else count_text
            total_display += [fmt(actual), fmt(expected), percent_text(as_percent(fraction))]
        figure = figures.grouped_bars(
            ["Leads", "MQLs", "Pipeline", "Revenue"],
            {"Reached": reached},
            title="Results so far as a share of expected",
            percent=True,
        )
        return Panel(
            id="results",
            title="Results vs expected",
            header=header,
            rows=[*data, total_row],
            display_rows=[*shown, total_display],
            help=(
                "Results logged up to today against each campaign's expected leads, MQLs, pipeline and revenue; "
                "% of expected = actual ÷ expected (— when nothing was expected). The total is the sum over campaigns."
            ),
            figure=figure if self.lines else None,
            note=self._note(),
            width=12,
            table=True,
        )

    @cached_property
    def tasks(self) -> list[StepTask]:
        return list(my_tasks(self.inputs.user)[: MAX_LIST + 1])

    def tasks_panel(self) -> Panel:
        now = timezone.now()
        data, shown = [], []
        for task in self.tasks[:MAX_LIST]:
            instance = task.instance
            overdue = task.due_at is not None and task.due_at < now
            row = [
                task.name,
                instance.template.name,
                instance.subject_repr,
                local_time(task.due_at),
                "yes" if overdue else "no",
            ]
            data.append(row)
            url = reverse("workflows:task-detail", args=[task.pk])
            shown.append([link(url, task.name), row[1], row[2], or_dash(row[3]), row[4]])
        more = len(self.tasks) > MAX_LIST
        return Panel(
            id="tasks",
            title="My tasks",
            header=["Task", "Workflow", "Subject", "Due", "Overdue"],
            rows=data,
            display_rows=shown,
            help="Workflow steps waiting for me (or for someone I stand in for today), soonest due first.",
            note=f"Showing the first {MAX_LIST}; see all under Tasks." if more else "",
            width=12,
        )

    def tiles(self) -> list[Tile]:
        statuses = [line.pacing.status for line in self.lines]
        leads = sum(line.measures["leads"] for line in self.lines)
        expected = sum(line.campaign.expected_leads for line in self.lines)
        overdue = sum(1 for task in self.tasks if task.due_at is not None and task.due_at < timezone.now())
        return [
            Tile("Campaigns", count_text(len(self.lines)), "My teams' campaigns running in the period"),
            Tile(
                "Overspending",
                count_text(statuses.count(PacingStatus.OVERSPENDING)),
                "Projected more than 10 % above the allocation",
                "danger" if PacingStatus.OVERSPENDING in statuses else "",
            ),
            Tile(
                "Underspending",
                count_text(statuses.count(PacingStatus.UNDERSPENDING)),
                "Projected more than 10 % below",
            ),
            Tile(
                "Leads vs expected", percent_text(as_percent(share(leads, expected))), "Leads so far ÷ expected leads"
            ),
            Tile(
                "My tasks",
                f"{MAX_LIST}+" if len(self.tasks) > MAX_LIST else count_text(len(self.tasks)),
                f"{overdue} overdue",
                "danger" if overdue else "",
            ),
        ]
