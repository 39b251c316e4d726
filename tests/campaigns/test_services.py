import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import hooks, services
from campaigns.models import CampaignStatus, ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period

pytestmark = pytest.mark.django_db
D = datetime.date


def test_marketer_creates_a_campaign_for_their_team(marketer, team, paid_search, eur_rate):
    campaign = services.campaign_create(
        actor=marketer,
        team=team,
        name="EMEA Summit",
        channel=paid_search,
        start_date=D(2026, 2, 1),
        end_date=D(2026, 2, 28),
        planned_cost=Decimal("20000"),
        currency="EUR",
    )
    assert (campaign.code, campaign.status, campaign.owner) == ("emea-summit", CampaignStatus.DRAFT, marketer)
    assert campaign.planned_cost_base == Decimal("22000.00")  # at the start date's EUR rate
    assert campaign.utm_campaign == "emea-summit"
    assert AuditEvent.objects.filter(action="campaign.create").exists()


def test_marketers_cannot_create_campaigns_for_other_teams(outsider, team, paid_search):
    with pytest.raises(PermissionDenied):
        services.campaign_create(
            actor=outsider, team=team, name="X", channel=paid_search, start_date=D(2026, 1, 1), end_date=D(2026, 1, 2)
        )


def test_dates_must_be_in_order(marketer, team, paid_search):
    with pytest.raises(ValidationError):
        services.campaign_create(
            actor=marketer, team=team, name="X", channel=paid_search, start_date=D(2026, 2, 1), end_date=D(2026, 1, 1)
        )


def test_spend_is_converted_at_the_booking_dates_rate(marketer, campaign, eur_rate):
    entry = services.spend_log(
        actor=marketer, campaign=campaign, date=D(2026, 1, 10), amount=Decimal("100"), currency="EUR"
    )
    assert entry.amount_base == Decimal("110.00")


def test_spend_without_a_rate_is_refused_clearly(marketer, campaign):
    with pytest.raises(ValidationError, match="No exchange rate for GBP"):
        services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 10), amount=Decimal("1"), currency="GBP")


def test_a_closed_month_refuses_spend_and_results_everywhere(marketer, finance, campaign):
    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal("50"), currency="USD")
    entry = SpendEntry.objects.get()
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 1, 1)))
    with pytest.raises(ValidationError, match="Jan 2026 is closed by finance"):
        services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 20), amount=Decimal("1"), currency="USD")
    with pytest.raises(ValidationError, match="closed"):
        services.spend_update(actor=marketer, entry=entry, amount=Decimal("60"))
    with pytest.raises(ValidationError, match="closed"):
        services.spend_update(actor=marketer, entry=entry, date=D(2026, 2, 1))  # moving it out is a change too
    with pytest.raises(ValidationError, match="closed"):
        services.spend_delete(actor=marketer, entry=entry)
    with pytest.raises(ValidationError, match="closed"):
        services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 20), leads=3)
    assert SpendEntry.objects.get().amount == Decimal("50.00")


def test_results_for_a_day_are_one_row_updated_in_place(marketer, campaign):
    first = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 10), leads=5, clicks=100)
    second = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 10), leads=7)
    third = services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 10), leads=7)
    assert (first.outcome, second.outcome, third.outcome) == ("created", "updated", "unchanged")
    fact = ResultFact.objects.get()
    assert (fact.leads, fact.clicks) == (7, 100)
    assert AuditEvent.objects.filter(action__startswith="results.").count() == 2


def test_negative_results_are_refused(marketer, campaign):
    with pytest.raises(ValidationError) as error:
        services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 10), leads=-1)
    assert "leads" in error.value.message_dict


@pytest.mark.parametrize("who", ["teammate", "marketer"])
def test_teammates_may_log_for_the_teams_campaigns(request, who, campaign):
    services.results_log(actor=request.getfixturevalue(who), campaign=campaign, date=D(2026, 1, 3), clicks=1)


@pytest.mark.parametrize("who", ["outsider", "cmo", "finance", "ops_admin"])
def test_nobody_else_writes_a_teams_facts(request, who, campaign):
    with pytest.raises(PermissionDenied):
        services.results_log(actor=request.getfixturevalue(who), campaign=campaign, date=D(2026, 1, 3), clicks=1)


def test_fact_changes_are_announced_after_commit(marketer, campaign, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    hooks.facts_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.spend_log(
                actor=marketer, campaign=campaign, date=D(2026, 1, 7), amount=Decimal("5"), currency="USD"
            )
        assert seen == [
            {"signal": hooks.facts_changed, "campaign_ids": {campaign.pk}, "start": D(2026, 1, 7), "end": D(2026, 1, 7)}
        ]
    finally:
        hooks.facts_changed.disconnect(receiver)


def test_status_moves_follow_the_table(marketer, campaign):
    services.campaign_set_status(actor=marketer, campaign=campaign, status="live")  # no launch template: direct
    with pytest.raises(ValidationError, match="A live campaign cannot become draft"):
        services.campaign_set_status(actor=marketer, campaign=campaign, status="draft")
    services.campaign_set_status(actor=marketer, campaign=campaign, status="completed")
    assert campaign.status == CampaignStatus.COMPLETED


def test_launch_review_drives_the_status(marketer, lead, ops_admin, campaign):
    from tests.workflows.conftest import step
    from workflows import services as wf
    from workflows.selectors import my_tasks

    wf.template_create(
        actor=ops_admin,
        name="Launch",
        subject_type="campaign_launch",
        steps=[step("Lead approval", stage=1, assignee_type="team_lead")],
    )
    with pytest.raises(ValidationError, match="through launch review"):
        services.campaign_set_status(actor=marketer, campaign=campaign, status="live")
    services.campaign_submit_for_launch(actor=marketer, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_LAUNCH_REVIEW
    wf.task_act(actor=lead, task=my_tasks(lead).get(), action="approve")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LIVE
