"""The ops dashboard: workflow throughput and SLA breaches, data freshness (imports, rollups) and
data quality warnings (spend without results and back, duplicate-looking spend, sudden jumps)."""

import datetime
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone

from campaigns.models import FactSource, ImportBatch, ImportStatus, SpendEntry
from metrics.dashboards import figures
from metrics.dashboards.common import MAX_LIST, cells_where, day_bounds, list_note
from metrics.dashboards.panels import (
    NO_VALUE,
    Board,
    Inputs,
    Panel,
    Tile,
    as_percent,
    count_text,
    formatted,
    freshness,
    link,
    local_time,
    money_text,
    or_dash,
    percent_text,
    rounded,
    share,
)
from metrics.rollups import calendar, marks
from metrics.rollups.engine import T
from metrics.rollups.models import CellSource, Grain
from metrics.rollups.selectors import grain_for, rollup_status
from mops.money import money
from workflows.models import InstanceStatus, StepStatus, StepTask
from workflows.permissions import instances_visible_to

# Activity follows spend within days; the later funnel (MQLs … revenue) trails it by weeks or months,
# so only activity without spend suggests spend that was never logged.
ACTIVITY = ("impressions", "clicks", "leads")
LATER_RESULTS = ("mqls", "sqls", "opportunities", "pipeline", "new_customers", "revenue")
JUMP_FACTOR = 3  # a week's spend above 3× the average of the weeks before is a sudden jump …
JUMP_WEEKS = 4  # … of these four weeks before


def _weeks(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The Mondays of the weeks from the one holding ``first`` to the one holding ``last``."""
    week, weeks = calendar.bucket_start(Grain.WEEK, first), []
    while week <= last:
        weeks.append(week)
        week += datetime.timedelta(days=7)
    return weeks


class OpsBoard(Board):
    """Workflow throughput and SLA breaches, data freshness, data quality warnings."""

    title = "Ops dashboard"
    intro = "Are workflows moving, is the data arriving, and does it look right?"
    filename = "ops"
    sections = (
        ("Workflows", ("throughput", "sla", "overdue")),
        ("Data freshness", ("imports", "rollups", "refresh-failures")),
        ("Data quality", ("spend-without-results", "results-without-spend", "duplicates", "jumps")),
    )

    def __init__(self, inputs: Inputs):
        super().__init__(inputs)
        self.now = timezone.now()
        self.builders = {
            "throughput": self.throughput_panel,
            "sla": self.sla_panel,
            "overdue": self.overdue_panel,
            "imports": self.imports_panel,
            "rollups": self.rollups_panel,
            "refresh-failures": self.refresh_failures_panel,
            "spend-without-results": lambda: self.quality_panel("spend-without-results"),
            "results-without-spend": lambda: self.quality_panel("results-without-spend"),
            "duplicates": self.duplicates_panel,
            "jumps": self.jumps_panel,
        }

    def _instances(self):
        qs = instances_visible_to(self.inputs.user)
        return qs.filter(team_id__in=self.inputs.filters.team) if self.inputs.filters.team else qs

    # workflows

    @cached_property
    def throughput(self) -> list[list]:
        """Per week of the period: instances started, completed and rejected (two GROUP BY queries)."""
        start, end = day_bounds(self.inputs.filters)
        counts: dict[tuple[datetime.date, str], int] = {}
        started = (
            self._instances()
            .filter(started_at__gte=start, started_at__lt=end)
            .annotate(week=TruncWeek("started_at"))
            .values("week")
            .annotate(n=Count("id"))
        )
        for row in started:
            counts[(timezone.localtime(row["week"]).date(), "started")] = row["n"]
        finished = (
            self._instances()
            .filter(finished_at__gte=start, finished_at__lt=end)
            .filter(status__in=[InstanceStatus.COMPLETED, InstanceStatus.REJECTED])
            .annotate(week=TruncWeek("finished_at"))
            .values("week", "status")
            .annotate(n=Count("id"))
        )
        for row in finished:
            counts[(timezone.localtime(row["week"]).date(), row["status"])] = row["n"]
        kinds = ("started", InstanceStatus.COMPLETED, InstanceStatus.REJECTED)
        return [
            [calendar.bucket_label(Grain.WEEK, week), week, *(counts.get((week, kind), 0) for kind in kinds)]
            for week in _weeks(self.inputs.filters.start, self.inputs.filters.end)
        ]

    def throughput_panel(self) -> Panel:
        rows = self.throughput
        figure = figures.grouped_bars(
            [r[1] for r in rows],
            {"Started": [r[2] for r in rows], "Completed": [r[3] for r in rows], "Rejected": [r[4] for r in rows]},
            title="Workflows per week",
        )
        return Panel(
            id="throughput",
            title="Workflow throughput",
            header=["Week", "Week starting", "Started", "Completed", "Rejected"],
            rows=rows,
            display_rows=formatted(rows, [str, str, count_text, count_text, count_text]),
            help="Workflow instances started, and finished (completed or rejected), per week; the team filter applies.",
            figure=figure,
        )

    @cached_property
    def sla(self) -> list[list]:
        """Per workflow: steps due in the period, those breached (decided after their due time, or still
        waiting past it) and steps overdue right now (one GROUP BY query)."""
        start, end = day_bounds(self.inputs.filters)
        waiting_late = Q(status=StepStatus.ACTIVE, due_at__lt=self.now)
        due_in_period = Q(due_at__gte=start, due_at__lt=end)
        breached = due_in_period & (Q(decided_at__gt=F("due_at")) | waiting_late)
        rows = (
            StepTask.objects.filter(instance__in=self._instances())
            .filter(due_in_period | waiting_late)
            .values("instance__template__name")
            .annotate(
                due=Count("id", filter=due_in_period),
                breached=Count("id", filter=breached),
                overdue=Count("id", filter=waiting_late),
            )
            .order_by("instance__template__name")
        )
        return [
            [
                r["instance__template__name"],
                r["due"],
                r["breached"],
                as_percent(share(r["breached"], r["due"])),
                r["overdue"],
            ]
            for r in rows
        ]

    def sla_panel(self) -> Panel:
        rows = self.sla
        figure = figures.grouped_bars(
            [r[0] for r in rows],
            {
                "Due in the period": [r[1] for r in rows],
                "Breached": [r[2] for r in rows],
                "Overdue now": [r[4] for r in rows],
            },
            title="Steps due and SLA breaches",
        )
        return Panel(
            id="sla",
            title="SLA breaches by workflow",
            header=["Workflow", "Steps due", "Breached", "Breach rate %", "Overdue now"],
            rows=rows,
            display_rows=formatted(rows, [str, count_text, count_text, percent_text, count_text]),
            help="Breached = decided after its due time, or still waiting past it; breach rate = breached ÷ steps due.",
            figure=figure if rows else None,
            table=True,
        )

    @cached_property
    def overdue(self) -> list[StepTask]:
        return list(
            StepTask.objects.filter(instance__in=self._instances(), status=StepStatus.ACTIVE, due_at__lt=self.now)
            .select_related("instance__template", "instance__team")
            .prefetch_related("assignees")
            .order_by("due_at", "id")
        )

    def overdue_panel(self) -> Panel:
        data, shown = [], []
        for task in self.overdue:
            instance = task.instance
            late = (self.now - task.due_at).days
            who = ", ".join(sorted(u.get_full_name() or u.username for u in task.assignees.all()))
            row = [
                task.name,
                instance.template.name,
                instance.subject_repr,
                instance.team.name if instance.team else None,
            ]
            row += [local_time(task.due_at), late, who]
            data.append(row)
            if len(shown) < MAX_LIST:
                url = reverse("workflows:instance-detail", args=[instance.pk])
                shown.append([link(url, task.name), *map(or_dash, row[1:5]), count_text(late), or_dash(who)])
        return Panel(
            id="overdue",
            title="Steps overdue now",
            header=["Step", "Workflow", "Subject", "Team", "Due", "Days late", "Waiting for"],
            rows=data,
            display_rows=shown,
            help="Active steps past their due time, oldest first (whatever the period).",
            note=list_note(data),
            width=12,
        )

    # freshness

    @cached_property
    def imports(self) -> list[list]:
        """Per source: the last finished import, how many finished and failed (one GROUP BY query)."""
        found = {
            r["format"]: r
            for r in ImportBatch.objects.values("format").annotate(
                last=Max("finished_at", filter=Q(status=ImportStatus.DONE)),
                done=Count("id", filter=Q(status=ImportStatus.DONE)),
                failed=Count("id", filter=Q(status=ImportStatus.FAILED)),
                last_failed=Max("created_at", filter=Q(status=ImportStatus.FAILED)),
            )
        }
        rows = []
        for source, label in FactSource.choices:
            if source in found:
                r = found[source]
                rows.append([label, local_time(r["last"]), r["done"], r["failed"], local_time(r["last_failed"])])
        return rows

    def imports_panel(self) -> Panel:
        return Panel(
            id="imports",
            title="Last import per source",
            header=["Source", "Last finished import", "Imports done", "Imports failed", "Last failure"],
            rows=self.imports,
            display_rows=formatted(self.imports, [str, or_dash, count_text, count_text, or_dash]),
            help="Spreadsheet and ad-platform uploads of every user, whatever the filters.",
        )

    @cached_property
    def status(self):
        return rollup_status()

    def rollups_panel(self) -> Panel:
        s = self.status
        agreed = {True: "yes", False: "no", None: None}[s.last_full_agreed]
        data = [
            ["Last refresh", local_time(s.last_refresh)],
            ["Pending dirty marks", s.pending_marks],
            ["Campaigns waiting", s.pending_campaigns],
            ["Budget lines waiting", s.pending_budget_lines],
            ["Changes set aside (refresh failed)", sum(f.marks for f in self.set_aside)],
            ["Last nightly rebuild", local_time(s.last_full_rebuild)],
            ["Rebuild agreed with incremental", agreed],
        ]
        return Panel(
            id="rollups",
            title="Rollup status",
            header=["Check", "Value"],
            rows=data,
            display_rows=[[label, or_dash(value)] for label, value in data],
            help="Dashboards read the rollups; marks wait for the refresh task, the nightly rebuild checks it.",
        )

    @cached_property
    def set_aside(self) -> list[marks.SetAside]:
        return marks.set_aside(limit=None)  # few; downloads hold them all

    def refresh_failures_panel(self) -> Panel:
        rows = [
            [f.label, f.marks, f.attempts, local_time(f.since), local_time(f.next_attempt_at), f.last_error]
            for f in self.set_aside
        ]
        shown = []
        for f, row in zip(self.set_aside[:MAX_LIST], rows, strict=False):
            name = row[0]
            if f.source == CellSource.CAMPAIGN:
                name = link(reverse("campaigns:campaign-detail", args=[f.source_id]), name)
            shown.append([name, count_text(row[1]), count_text(row[2]), row[3], row[4], row[5]])
        return Panel(
            id="refresh-failures",
            title="Rollup refresh failures",
            header=[
                "Campaign or budget line",
                "Changes waiting",
                "Failed attempts",
                "Waiting since",
                "Next try",
                "Error",
            ],
            rows=rows,
            display_rows=shown,
            help=(
                "Campaigns and budget lines whose rollup refresh failed: their changes are set aside and tried "
                "again after 1, 2, 4 … minutes (at most an hour apart), or at once when they change again; "
                "every other change keeps reaching the dashboards. Fix the data named in the error."
            ),
            note=list_note(rows),
            width=12,
        )

    # data quality

    @cached_property
    def spend_vs_results(self) -> dict[str, list[list]]:
        """Campaigns of the period with spend but no result at all, or activity (impressions, clicks,
        leads) but no spend (one GROUP BY over the rollup cells)."""
        f = self.inputs.filters
        grain = grain_for(f.start, f.end)
        where, params = cells_where(f, self.inputs.scope, grain, f.start, calendar.bucket_start(grain, f.end))
        activity = " + ".join(f"SUM(x.{m})" for m in ACTIVITY)
        results = " + ".join(f"SUM(x.{m})" for m in (*ACTIVITY, *LATER_RESULTS))
        sql = (
            f"SELECT q.source_id, c.name, q.spend, q.impressions, q.clicks, q.leads FROM ("
            f"SELECT x.source_id, SUM(x.spend) AS spend, SUM(x.impressions) AS impressions, "
            f"SUM(x.clicks) AS clicks, SUM(x.leads) AS leads "
            f"FROM {T['cell']} x WHERE {where} GROUP BY x.source_id "
            f"HAVING (SUM(x.spend) > 0 AND {results} = 0) OR (SUM(x.spend) = 0 AND {activity} > 0)"
            f") q JOIN {T['campaign']} c ON c.id = q.source_id ORDER BY c.name, q.source_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        found = {"spend-without-results": [], "results-without-spend": []}
        for campaign_id, name, spend, *counts in fetched:
            if money(spend) > 0:
                found["spend-without-results"].append([name, campaign_id, money(spend)])
            else:
                found["results-without-spend"].append([name, campaign_id, *(int(n or 0) for n in counts)])
        return found

    def quality_panel(self, panel_id: str) -> Panel:
        rows = self.spend_vs_results[panel_id]
        c = self.inputs.currency
        spend_side = panel_id == "spend-without-results"
        shown = [
            [
                link(reverse("campaigns:campaign-detail", args=[r[1]]), r[0]),
                str(r[1]),
                *([money_text(r[2])] if spend_side else map(count_text, r[2:])),
            ]
            for r in rows[:MAX_LIST]
        ]
        return Panel(
            id=panel_id,
            title="Spend without results" if spend_side else "Results without spend",
            header=[
                "Campaign",
                "Campaign id",
                *([f"Spend ({c})"] if spend_side else ["Impressions", "Clicks", "Leads"]),
            ],
            rows=rows,
            display_rows=shown,
            help=(
                "Campaigns with spend in the period but no impressions, clicks, leads or later results."
                if spend_side
                else "Campaigns with impressions, clicks or leads in the period but no spend logged (organic "
                "work, or missing invoices). Later results without spend are normal: they trail the spend."
            ),
            note=list_note(rows),
        )

    @cached_property
    def duplicates(self) -> list[list]:
        """Spend entries on the same campaign, day and amount from different sources, or entered by
        hand twice (one GROUP BY … HAVING query over the spend entries)."""
        f, scope = self.inputs.filters, self.inputs.scope
        qs = SpendEntry.objects.filter(date__gte=f.start, date__lte=f.end)
        if scope.team_ids is not None:
            qs = qs.filter(campaign__team_id__in=sorted(scope.team_ids))
        for name in ("team", "channel", "program", "region"):
            if getattr(f, name):
                qs = qs.filter(**{f"campaign__{name}_id__in": getattr(f, name)})
        groups = (
            qs.values("campaign_id", "campaign__name", "date", "amount", "currency")
            .annotate(
                entries=Count("id"),
                sources=Count("source", distinct=True),
                by_hand=Count("id", filter=Q(external_key__isnull=True)),
                total_base=Sum("amount_base"),
            )
            .filter(Q(sources__gt=1) | Q(by_hand__gt=1))
            .order_by("-date", "campaign__name")
        )
        return [
            [
                g["campaign__name"],
                g["campaign_id"],
                g["date"],
                g["amount"],
                g["currency"],
                g["entries"],
                g["sources"],
                g["total_base"],
            ]
            for g in groups
        ]

    def duplicates_panel(self) -> Panel:
        rows = self.duplicates
        c = self.inputs.currency
        shown = [
            [
                link(reverse("campaigns:campaign-detail", args=[r[1]]), r[0]),
                *map(str, r[1:3]),
                f"{r[3]:,.2f}",
                r[4],
                *map(count_text, r[5:7]),
                money_text(r[7]),
            ]
            for r in rows[:MAX_LIST]
        ]
        return Panel(
            id="duplicates",
            title="Duplicate-looking spend entries",
            header=["Campaign", "Campaign id", "Date", "Amount", "Currency", "Entries", "Sources", f"Together ({c})"],
            rows=rows,
            display_rows=shown,
            help="Same campaign, day, amount and currency, from different sources or entered by hand more than once.",
            note=list_note(rows),
            width=12,
        )

    @cached_property
    def jumps(self) -> list[list]:
        """Campaign weeks of the period whose spend is more than 3× the average of the four weeks
        before, for campaigns spending since at least four weeks before. One query over the week
        cells: weeks are numbered in Python (so the SQL needs no date arithmetic) and the trailing sum
        is a window over those numbers, so weeks without cells count as zero."""
        f = self.inputs.filters
        weeks = _weeks(f.start - datetime.timedelta(weeks=JUMP_WEEKS), f.end)
        where, params = cells_where(f, self.inputs.scope, Grain.WEEK, weeks[0], weeks[-1])
        values = ", ".join(["(%s, %s)"] * len(weeks))
        n = int(JUMP_WEEKS)  # a window frame offset cannot be a query parameter
        sql = (
            f"WITH wk(week, idx) AS (VALUES {values}), "
            "weekly AS (SELECT x.source_id AS campaign_id, wk.idx AS idx, SUM(x.spend) AS spend "
            f"FROM {T['cell']} x JOIN wk ON wk.week = x.period_start WHERE {where} GROUP BY x.source_id, wk.idx), "
            "paced AS (SELECT campaign_id, idx, spend, "
            f"SUM(spend) OVER (PARTITION BY campaign_id ORDER BY idx RANGE BETWEEN {n} PRECEDING AND 1 PRECEDING) "
            "AS trailing, MIN(CASE WHEN spend > 0 THEN idx END) OVER (PARTITION BY campaign_id) AS first_idx "
            "FROM weekly) "
            f"SELECT p.campaign_id, c.name, p.idx, p.spend, p.trailing FROM paced p "
            f"JOIN {T['campaign']} c ON c.id = p.campaign_id "
            "WHERE p.idx >= %s AND p.spend > 0 AND p.first_idx <= p.idx - %s AND p.trailing > 0 "
            "AND %s * p.spend > %s * p.trailing ORDER BY p.idx DESC, c.name"
        )
        week_params = [value for index, week in enumerate(weeks) for value in (week, index)]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*week_params, *params, n, n, n, JUMP_FACTOR])
            fetched = cursor.fetchall()
        rows = []
        for campaign_id, name, index, spend, trailing in fetched:
            average = money(Decimal(str(trailing)) / JUMP_WEEKS)
            ratio = rounded(money(spend) / average, "0.1") if average else None
            rows.append([name, campaign_id, weeks[index], money(spend), average, ratio])
        return rows

    def jumps_panel(self) -> Panel:
        rows = self.jumps
        c = self.inputs.currency
        shown = [
            [
                link(reverse("campaigns:campaign-detail", args=[r[1]]), r[0]),
                str(r[1]),
                str(r[2]),
                money_text(r[3]),
                money_text(r[4]),
                NO_VALUE if r[5] is None else f"{r[5]}×",
            ]
            for r in rows[:MAX_LIST]
        ]
        return Panel(
            id="jumps",
            title="Sudden jumps in weekly spend",
            header=[
                "Campaign",
                "Campaign id",
                "Week starting",
                f"Week's spend ({c})",
                f"Trailing 4-week average ({c})",
                "Ratio",
            ],
            rows=rows,
            display_rows=shown,
            help=(
                "A week's spend above 3× the average of the four weeks before it (weeks without spend count as "
                "zero), for campaigns spending since at least four weeks before."
            ),
            note=list_note(rows),
            width=12,
        )

    def freshness(self) -> str:
        return freshness(self.status.last_refresh, self.status.pending_marks)

    def tiles(self) -> list[Tile]:
        s = self.status
        breaches = sum(r[2] for r in self.sla)
        warnings = sum(len(v) for v in self.spend_vs_results.values()) + len(self.duplicates) + len(self.jumps)
        agreed = {True: ("agreed", "success"), False: ("disagreed", "danger"), None: (NO_VALUE, "")}[s.last_full_agreed]
        return [
            Tile(
                "Overdue steps",
                count_text(len(self.overdue)),
                "Active workflow steps past their due time",
                "danger" if self.overdue else "",
            ),
            Tile("SLA breaches", count_text(breaches), "Steps due in the period decided late or still waiting"),
            Tile("Data quality warnings", count_text(warnings), "The four lists below", "warning" if warnings else ""),
            Tile(
                "Pending dirty marks",
                count_text(s.pending_marks),
                f"Last refresh {or_dash(local_time(s.last_refresh))}",
            ),
            Tile(
                "Refresh failures",
                count_text(len(self.set_aside)),
                "Campaigns and budget lines whose changes are set aside",
                "danger" if self.set_aside else "",
            ),
            Tile("Nightly check", agreed[0], f"Last rebuild {or_dash(local_time(s.last_full_rebuild))}", agreed[1]),
        ]
