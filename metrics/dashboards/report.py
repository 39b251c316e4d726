"""The weekly e-mail report: the CMO dashboard's headline numbers (spend vs budget, pipeline, revenue,
ROI, CAC) for the last full week, Monday to Sunday, and for the fiscal year to date, organisation-wide,
with a link to the dashboard. It goes to every active CMO and finance user with an e-mail address,
one message each, through Django's e-mail backend.

Numbers are read from the rollups with ``selectors.measures_by`` and KPIs computed by
``kpis.evaluate``, exactly as the dashboards do; a KPI without a value (a zero denominator) reads "—".
The rollups are kept current by the refresh task and its every-minute sweep, so nothing is refreshed
here.

Sending is not idempotent per week: each call mails everyone again. The beat schedule runs it once
a week; running the task by hand is a deliberate resend.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from metrics.kpis import catalogue as kpis
from metrics.kpis import selectors as kpi_selectors
from metrics.rollups import calendar, selectors
from metrics.rollups.models import Grain
from mops.roles import Role
from planning.fiscal import fiscal_year_bounds, fiscal_year_of

ORGANISATION = selectors.Scope(team_ids=None, budgets=True)  # the report is organisation-wide
# Measure or KPI code → the label the report uses; values come from the catalogue's formulas.
HEADLINES = {"spend": "Spend", "pipeline": "Pipeline", "revenue": "Revenue", "roi": "ROI", "cac": "CAC"}
# Spend to date against the whole year's budget (budgets are phased by month, not by week).
BUDGET_USED = kpis.Kpi(
    code="budget_used",
    name="Budget used",
    formula="spend / budget",
    unit="percent",
    direction="lower",
    description="Budget used = spend in the fiscal year to date ÷ the fiscal year's budget",
)
RECIPIENT_ROLES = (Role.CMO, Role.FINANCE)


@dataclass(frozen=True)
class Headline:
    code: str
    label: str
    description: str  # the formula in words, e.g. "ROI = (won revenue − spend) ÷ spend"
    week: Decimal | None
    year_to_date: Decimal | None
    week_shown: str
    year_to_date_shown: str


@dataclass(frozen=True)
class WeeklyReport:
    week_start: datetime.date
    week_end: datetime.date
    fiscal_year: int
    year_start: datetime.date
    headlines: tuple[Headline, ...]
    budget: Decimal  # the fiscal year's budget (current version), base currency
    spend_to_date: Decimal
    budget_used: Decimal | None  # a fraction; None without a budget
    budget_shown: str
    spend_to_date_shown: str
    budget_used_shown: str
    currency: str
    dashboard_url: str

    @property
    def week_label(self) -> str:
        return calendar.bucket_label(Grain.WEEK, self.week_start)

    @property
    def subject(self) -> str:
        start, end = self.week_start, self.week_end
        return f"Marketing weekly: {self.week_label} ({start.day} {start:%b} – {end.day} {end:%b %Y})"


def last_full_week(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of the last week that ended before ``today``."""
    this_monday = calendar.bucket_start(Grain.WEEK, today)
    return this_monday - datetime.timedelta(days=7), this_monday - datetime.timedelta(days=1)


def _measures(start: datetime.date, end: datetime.date) -> dict:
    rows = selectors.measures_by(selectors.Filters(start=start, end=end), "organisation", scope=ORGANISATION)
    return selectors.total(rows).measures


def _shown(kpi: kpis.Kpi, value: Decimal | None, currency: str) -> str:
    text = kpis.display(kpi, value)
    return f"{text} {currency}" if kpi.unit == "money" and value is not None else text


def build(today: datetime.date | None = None) -> WeeklyReport:
    """The report's numbers as of ``today`` (default: the local date). Three reads of the rollups:
    the week, the fiscal year to the week's end, and the whole fiscal year's budget."""
    today = today or timezone.localdate()
    week_start, week_end = last_full_week(today)
    fiscal_year = fiscal_year_of(week_end)
    year_start, year_end = fiscal_year_bounds(fiscal_year)
    catalogue = kpi_selectors.kpi_catalogue()
    currency = settings.BASE_CURRENCY
    week = kpis.evaluate(HEADLINES, _measures(week_start, week_end), catalogue)
    to_date_measures = _measures(year_start, week_end)
    to_date = kpis.evaluate(HEADLINES, to_date_measures, catalogue)
    budget = _measures(year_start, year_end)["budget"]
    spend = to_date_measures["spend"]
    budget_used = BUDGET_USED.parsed.evaluate({"spend": spend, "budget": budget})
    headlines = tuple(
        Headline(
            code=code,
            label=label,
            description=catalogue[code].description,
            week=week[code],
            year_to_date=to_date[code],
            week_shown=_shown(catalogue[code], week[code], currency),
            year_to_date_shown=_shown(catalogue[code], to_date[code], currency),
        )
        for code, label in HEADLINES.items()
    )
    money = catalogue["spend"]
    return WeeklyReport(
        week_start=week_start,
        week_end=week_end,
        fiscal_year=fiscal_year,
        year_start=year_start,
        headlines=headlines,
        budget=budget,
        spend_to_date=spend,
        budget_used=budget_used,
        budget_shown=_shown(money, budget, currency) if budget else kpis.NO_VALUE,
        spend_to_date_shown=_shown(money, spend, currency),
        budget_used_shown=kpis.display(BUDGET_USED, budget_used),
        currency=currency,
        dashboard_url=f"{settings.SITE_URL.rstrip('/')}{reverse('metrics:cmo')}",
    )


def render(report: WeeklyReport) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the e-mail."""
    context = {"report": report, "budget_used_help": BUDGET_USED.description}
    return (
        report.subject,
        render_to_string("metrics/dashboards/email/weekly_report.txt", context),
        render_to_string("metrics/dashboards/email/weekly_report.html", context),
    )


def recipients() -> list[str]:
    """The e-mail addresses of active CMO and finance users, each address once."""
    addresses = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=RECIPIENT_ROLES)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    unique = {address.strip().lower(): address.strip() for address in addresses}
    return [unique[key] for key in sorted(unique)]


def send(today: datetime.date | None = None) -> int:
    """Build, render and send the report: one message per recipient (nobody sees the others'
    addresses). Returns the number of messages the backend accepted."""
    addresses = recipients()
    if not addresses:
        return 0
    subject, text, html = render(build(today))
    messages = []
    for address in addresses:
        message = EmailMultiAlternatives(subject, text, None, [address])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    with get_connection() as connection:
        return connection.send_messages(messages) or 0
