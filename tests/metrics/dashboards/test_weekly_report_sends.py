"""The weekly report is sent once per week and recipient: a second run mails nobody, a run that an
SMTP error stops half-way is finished by its retry without mailing anyone twice, ``--dry-run`` sends
and records nothing, and ``manage.py send_weekly_report --week`` re-sends a missed week."""

import datetime
import io
from smtplib import SMTPServerDisconnected

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command

from metrics.dashboards import report
from metrics.dashboards.models import ReportKind, ReportSend
from metrics.tasks import send_weekly_report
from mops.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 3, 16)  # a Monday: the last full week is 9–15 March 2026
MONDAY_MORNING = datetime.datetime(2026, 3, 16, 7, 0, tzinfo=datetime.UTC)
ADDRESSES = ["both@example.test", "carol-cmo@example.test", "fred-finance@example.test"]


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://mops.example.test/"
    settings.FISCAL_YEAR_START_MONTH = 1
    settings.BASE_CURRENCY = "USD"


@pytest.fixture
def people(cmo, finance, marketer):
    UserFactory(username="both", email="both@example.test", roles=[Role.CMO, Role.FINANCE])
    UserFactory(username="same-inbox", email="CAROL-CMO@example.test", roles=[Role.FINANCE])


def mailed():
    return sorted(address for message in mail.outbox for address in message.to)


def test_running_the_report_twice_mails_each_recipient_once(people):
    assert report.send(TODAY) == 3
    assert report.send(TODAY) == 0
    assert mailed() == ADDRESSES
    sends = ReportSend.objects.filter(report=ReportKind.WEEKLY, period_start=datetime.date(2026, 3, 9))
    assert sorted(sends.values_list("address", flat=True)) == ADDRESSES  # carol's shared inbox: one row
    again = report.deliver(TODAY)
    assert (again.sent, again.already_sent) == (0, 3)


def test_the_next_week_is_a_new_period(people):
    report.send(TODAY)
    assert report.send(TODAY + datetime.timedelta(days=7)) == 3
    assert len(mail.outbox) == 6


def test_the_task_run_twice_mails_once(people):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        assert send_weekly_report.delay().get() == 3
        assert send_weekly_report.delay().get() == 0
    assert mailed() == ADDRESSES


def test_a_retry_after_an_smtp_failure_mails_only_those_not_yet_mailed(people, monkeypatch):
    real_send = EmailBackend.send_messages
    calls = []

    def send_failing_once_on_the_second(self, messages):
        calls.append(messages[0].to)
        if len(calls) == 2:
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_failing_once_on_the_second)
    with pytest.raises(SMTPServerDisconnected):
        report.send(TODAY)
    assert mailed() == ["both@example.test"]
    assert ReportSend.objects.count() == 1

    assert report.send(TODAY) == 2  # the retry
    assert mailed() == ADDRESSES  # each once
    assert ReportSend.objects.count() == 3


def test_dry_run_sends_and_records_nothing(people):
    planned = report.deliver(TODAY, dry_run=True)
    assert (planned.sent, planned.already_sent, planned.dry_run) == (3, 0, True)
    assert mail.outbox == [] and not ReportSend.objects.exists()

    out = io.StringIO()
    with time_machine.travel(MONDAY_MORNING, tick=False):
        call_command("send_weekly_report", "--dry-run", stdout=out)
    assert "would go to 3 recipient(s); 0 recipient(s) already had it" in out.getvalue()
    assert mail.outbox == [] and not ReportSend.objects.exists()


def test_the_command_sends_the_last_full_week_then_skips_who_had_it(people):
    out = io.StringIO()
    with time_machine.travel(MONDAY_MORNING, tick=False):
        call_command("send_weekly_report", stdout=out)
        call_command("send_weekly_report", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines == [
        "Weekly report for the week 2026-03-09 – 2026-03-15: 3 sent; 0 recipient(s) already had it.",
        "Weekly report for the week 2026-03-09 – 2026-03-15: 0 sent; 3 recipient(s) already had it.",
    ]
    assert mailed() == ADDRESSES


def test_the_command_resends_a_missed_week_and_refuses_one_not_over(people):
    out = io.StringIO()
    with time_machine.travel(MONDAY_MORNING, tick=False):
        call_command("send_weekly_report", "--week", "2026-02-25", stdout=out)  # a Wednesday
        assert "the week 2026-02-23 – 2026-03-01: 3 sent" in out.getvalue()
        assert mail.outbox[0].subject.startswith("Marketing weekly: W09 2026")
        assert ReportSend.objects.get(recipient__username="both").period_start == datetime.date(2026, 2, 23)
        with pytest.raises(CommandError, match="not over yet"):
            call_command("send_weekly_report", "--week", "2026-03-16")
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("send_weekly_report", "--week", "last week")
