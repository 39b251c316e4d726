"""The weekly e-mail report: the CMO dashboard's headline numbers (spend vs budget, pipeline, revenue,
ROI, CAC) for the last full week, Monday to Sunday, and for the fiscal year to date, organisation-wide,
with a link to the dashboard. It goes to every active CMO and finance user with an e-mail address,
one message each, through Django's e-mail backend.

Numbers are read from the rollups with ``selectors.measures_by`` and KPIs computed by
``kpis.evaluate``, exactly as the dashboards do; a KPI without a value (a zero denominator) reads "—".
The rollups are kept current by the refresh task and its every-minute sweep, so nothing is refreshed
here.

Sending is idempotent per week and recipient: each message accepted by the backend is recorded
right away (``ReportSend``, unique per report, week and user), and a later run for the same week
mails only those without a record — a retry after a partial SMTP failure finishes the mailing, a
second run sends nothing. Two runs at the very same moment could both mail someone (the record
follows the send, so a failed send is never recorded as done); the beat runs one a week.
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

from metrics.dashboards.models import ReportKind, ReportSend
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


@dataclass(frozen=True)
class Recipient:
    address: str
    user_ids: tuple[int, ...]  # every recipient user with this address (lowest id first)


@dataclass(frozen=True)
class Delivery:
    """What one run of ``deliver`` did (or, with ``dry_run``, would do) for one week."""

    week_start: datetime.date
    week_end: datetime.date
    sent: int  # messages the backend accepted in this run (to send, for a dry run)
    already_sent: int  # recipients who had this week's report from an earlier run
    dry_run: bool = False


def _recipients() -> list[Recipient]:
    """Active CMO and finance users with an address, one entry per address (case-insensitive)."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=RECIPIENT_ROLES)
        .exclude(email="")
        .values_list("pk", "email")
        .distinct()
        .order_by("pk")
    )
    by_address: dict[str, tuple[str, list[int]]] = {}
    for pk, address in users:
        by_address.setdefault(address.strip().lower(), (address.strip(), []))[1].append(pk)
    return [Recipient(by_address[key][0], tuple(by_address[key][1])) for key in sorted(by_address)]


def recipients() -> list[str]:
    """The e-mail addresses of active CMO and finance users, each address once."""
    return [recipient.address for recipient in _recipients()]


def report_date(week: datetime.date) -> datetime.date:
    """The ``today`` whose last full week is the week holding ``week`` (its next Monday)."""
    return calendar.bucket_start(Grain.WEEK, week) + datetime.timedelta(days=7)


def deliver(today: datetime.date | None = None, *, dry_run: bool = False) -> Delivery:
    """Send the report of the last full week before ``today`` to each recipient who has not had it:
    one message each (nobody sees the others' addresses), each recorded as sent as soon as the
    backend accepts it. An SMTP error stops the run with the earlier sends recorded, so running it
    again mails only the rest. With ``dry_run`` nothing is built, sent or recorded: ``sent`` is how
    many would be mailed."""
    today = today or timezone.localdate()
    week_start, week_end = last_full_week(today)
    everyone = _recipients()
    done = set(
        ReportSend.objects.filter(report=ReportKind.WEEKLY, period_start=week_start).values_list(
            "recipient_id", flat=True
        )
    )
    pending = [r for r in everyone if done.isdisjoint(r.user_ids)]
    already = len(everyone) - len(pending)
    if dry_run or not pending:
        to_send = len(pending) if dry_run else 0
        return Delivery(week_start, week_end, sent=to_send, already_sent=already, dry_run=dry_run)
    subject, text, html = render(build(today))
    sent = 0
    with get_connection() as connection:
        for recipient in pending:
            message = EmailMultiAlternatives(subject, text, None, [recipient.address])
            message.attach_alternative(html, "text/html")
            if not connection.send_messages([message]):
                continue  # the backend refused it without raising: not sent, not recorded
            # Recorded at once (autocommit), so a failure on a later recipient keeps this one done.
            ReportSend.objects.get_or_create(
                report=ReportKind.WEEKLY,
                period_start=week_start,
                recipient_id=recipient.user_ids[0],
                defaults={"address": recipient.address, "sent_at": timezone.now()},
            )
            sent += 1
    return Delivery(week_start, week_end, sent=sent, already_sent=already)


def send(today: datetime.date | None = None) -> int:
    """``deliver`` the report; returns the number of messages sent in this run (0 when everyone
    already had this week's)."""
    return deliver(today).sent
