"""The campaign pages: who sees what, create and edit, the detail page (plan against actuals,
status moves, launch review, tactics) and the UTM builder — as owner, teammate, outsider and a
read-only role."""

import datetime
from decimal import Decimal

import pytest

from campaigns import services, utm
from campaigns.figures import spend_and_leads_by_week
from campaigns.models import Campaign, CampaignStatus, SpendEntry
from campaigns.selectors import WeekPoint
from mops.models import AuditEvent
from tests.campaigns.conftest import login, url
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def campaign_post(channel, team, **overrides):
    data = {
        "name": "Autumn launch",
        "code": "",
        "team": team.pk,
        "channel": channel.pk,
        "start_date": "2026-02-01",
        "end_date": "2026-02-28",
        "planned_cost": "5000",
        "currency": "USD",
        "expected_leads": "100",
        "expected_mqls": "40",
        "expected_pipeline": "50000",
        "expected_revenue": "10000",
        "landing_url": "https://example.com/autumn",
    }
    data.update(overrides)
    return data


# --- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["marketer", "teammate", "cmo", "finance", "ops_admin"])
def test_the_campaign_list_shows_visible_campaigns(client, request, who, campaign, other_campaign):
    user = request.getfixturevalue(who)
    response = login(client, user).get(url("home"))
    assert response.status_code == 200
    names = [c.name for c in response.context["page"]]
    if who in ("marketer", "teammate"):
        assert names == ["Spring webinar series"]
    else:
        assert sorted(names) == ["EMEA roadshow", "Spring webinar series"]


def test_only_marketers_see_the_new_campaign_button(client, marketer, cmo):
    assert b"New campaign" in login(client, marketer).get(url("home")).content
    assert b"New campaign" not in login(client, cmo).get(url("home")).content


@pytest.mark.parametrize("name", ["campaign-detail", "campaign-edit", "spend-log", "results-log"])
def test_another_teams_campaign_is_not_found(client, outsider, campaign, name):
    assert login(client, outsider).get(url(name, campaign.pk)).status_code == 404


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("campaign-edit", {"name": "x"}),
        ("campaign-status", {"status": "live"}),
        ("campaign-submit", {}),
        ("tactic-create", {"name": "x"}),
        ("spend-log", {"date": "2026-01-10", "amount": "1", "currency": "USD"}),
        ("results-log", {}),
    ],
)
def test_outsiders_cannot_write_and_readers_are_refused(client, outsider, cmo, campaign, name, data):
    assert login(client, outsider).post(url(name, campaign.pk), data).status_code == 404
    assert login(client, cmo).post(url(name, campaign.pk), data).status_code == 403
    assert Campaign.objects.get().name == "Spring webinar series"
    assert not SpendEntry.objects.exists()


def test_the_cmo_reads_a_campaign_without_edit_controls(client, cmo, campaign):
    response = login(client, cmo).get(url("campaign-detail", campaign.pk))
    assert response.status_code == 200
    assert response.context["can_edit"] is False
    content = response.content.decode()
    assert "Edit plan" not in content and "Log spend" not in content and 'data-testid="status-actions"' not in content
    assert login(client, cmo).get(url("campaign-edit", campaign.pk)).status_code == 403
    assert login(client, cmo).get(url("campaign-create")).status_code == 403
    # The spend and results pages are readable, without their forms.
    spend_page = client.get(url("spend-log", campaign.pk))
    assert spend_page.status_code == 200 and spend_page.context["form"] is None
    results_page = client.get(url("results-log", campaign.pk))
    assert results_page.status_code == 200 and b"Save the week" not in results_page.content


def test_a_teammate_edits_the_team_campaign(client, teammate, campaign):
    response = login(client, teammate).get(url("campaign-detail", campaign.pk))
    assert response.context["can_edit"] is True
    response = client.post(url("campaign-edit", campaign.pk), {**_edit_data(campaign), "name": "Spring webinars 2"})
    assert response.status_code == 302
    assert Campaign.objects.get().name == "Spring webinars 2"


def test_spend_entries_of_other_teams_are_not_found(client, outsider, cmo, marketer, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    assert login(client, outsider).get(url("spend-edit", entry.pk)).status_code == 404
    assert client.post(url("spend-delete", entry.pk)).status_code == 404
    assert login(client, cmo).get(url("spend-edit", entry.pk)).status_code == 403
    assert client.post(url("spend-delete", entry.pk)).status_code == 403
    assert SpendEntry.objects.count() == 1


# --- create and edit ------------------------------------------------------------------------------


def test_a_marketer_creates_a_campaign_with_utm_tags_from_the_convention(client, marketer, team, paid_search):
    response = login(client, marketer).post(url("campaign-create"), campaign_post(paid_search, team))
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == url("campaign-detail", campaign.pk)
    assert (campaign.code, campaign.status, campaign.owner, campaign.team) == (
        "autumn-launch",
        CampaignStatus.DRAFT,
        marketer,
        team,
    )
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == (
        "paid-search",
        "paid_media",
        "autumn-launch",
    )
    assert campaign.planned_cost_base == Decimal("5000.00")
    assert AuditEvent.objects.filter(action="campaign.create").exists()


def test_utm_tags_typed_in_are_kept(client, marketer, team, paid_search):
    data = campaign_post(paid_search, team, code="aut-26", utm_source="google", utm_campaign="")
    login(client, marketer).post(url("campaign-create"), data)
    campaign = Campaign.objects.get()
    assert (campaign.utm_source, campaign.utm_medium, campaign.utm_campaign) == ("google", "paid_media", "aut-26")


def test_the_create_form_offers_only_the_users_teams(client, marketer, team, other_team, paid_search):
    response = login(client, marketer).get(url("campaign-create"))
    assert list(response.context["form"].fields["team"].queryset) == [team]
    response = client.post(url("campaign-create"), campaign_post(paid_search, other_team))
    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not Campaign.objects.exists()


def test_a_missing_exchange_rate_is_shown_on_the_form_and_input_kept(client, marketer, team, paid_search):
    response = login(client, marketer).post(url("campaign-create"), campaign_post(paid_search, team, currency="GBP"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "No exchange rate for GBP" in str(form.errors["planned_cost"])
    assert 'value="Autumn launch"' in response.content.decode()
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2026-01-01"}, "end_date", "on or after the start date"),
        ({"planned_cost": "-5"}, "planned_cost", "greater than or equal to 0"),
        ({"code": "spring-webinars"}, "code", "already exists"),
        ({"landing_url": "not a url"}, "landing_url", "valid URL"),
    ],
)
def test_bad_campaign_input_is_refused_on_its_field(
    client, marketer, team, paid_search, campaign, overrides, field, message
):
    response = login(client, marketer).post(url("campaign-create"), campaign_post(paid_search, team, **overrides))
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert Campaign.objects.count() == 1


def test_a_derived_code_that_is_taken_is_reported_on_the_code(client, marketer, team, paid_search, campaign):
    response = login(client, marketer).post(
        url("campaign-create"), campaign_post(paid_search, team, name="Spring webinars")
    )
    assert response.status_code == 200
    assert "code" in response.context["form"].errors


def _edit_data(campaign, **overrides):
    data = {
        "name": campaign.name,
        "code": campaign.code,
        "team": campaign.team_id,
        "channel": campaign.channel_id,
        "start_date": campaign.start_date.isoformat(),
        "end_date": campaign.end_date.isoformat(),
        "planned_cost": str(campaign.planned_cost),
        "currency": campaign.currency,
        "expected_leads": campaign.expected_leads,
        "expected_mqls": campaign.expected_mqls,
        "expected_pipeline": str(campaign.expected_pipeline),
        "expected_revenue": str(campaign.expected_revenue),
    }
    data.update(overrides)
    return data


def test_editing_saves_only_what_changed_and_audits_it(client, marketer, campaign, eur_rate):
    response = login(client, marketer).post(
        url("campaign-edit", campaign.pk), _edit_data(campaign, planned_cost="2000", currency="EUR")
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.planned_cost, campaign.currency, campaign.planned_cost_base) == (
        Decimal("2000.00"),
        "EUR",
        Decimal("2200.00"),
    )
    event = AuditEvent.objects.get(action="campaign.update")
    assert event.before["currency"] == "USD" and event.after["currency"] == "EUR"
    # The history on the campaign page shows the change.
    page = client.get(url("campaign-detail", campaign.pk)).content.decode()
    assert "changed the plan" in page and "currency: USD → EUR" in page


def test_editing_with_a_missing_rate_keeps_the_campaign_as_it_was(client, marketer, campaign):
    response = login(client, marketer).post(url("campaign-edit", campaign.pk), _edit_data(campaign, currency="GBP"))
    assert response.status_code == 200
    assert "No exchange rate for GBP" in str(response.context["form"].errors["planned_cost"])
    campaign.refresh_from_db()
    assert campaign.currency == "USD"


# --- detail ---------------------------------------------------------------------------------------


def test_the_campaign_page_shows_plan_against_actuals(client, marketer, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(expected_leads=200)
    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal("1500"), currency="USD")
    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 20), amount=Decimal("500"), currency="USD")
    services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 6), leads=30, pipeline=Decimal("9000"))
    services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 21), leads=20)
    response = login(client, marketer).get(url("campaign-detail", campaign.pk))
    actuals = response.context["actuals"]
    assert (actuals.spend, actuals.leads, actuals.pipeline) == (Decimal("2000.00"), 50, Decimal("9000.00"))
    content = response.content.decode()
    assert 'data-actual="cost">2,000.00' in content
    assert 'data-actual="leads">50' in content
    assert "25%" in content  # 50 of 200 expected leads
    assert 'class="mops-figure"' in content and "plotly.min.js" in content
    assert "<script>" not in content  # figures come as JSON data, drawn by static/mops/figures.js


def test_a_campaign_without_facts_has_no_empty_chart(client, marketer, campaign):
    content = login(client, marketer).get(url("campaign-detail", campaign.pk)).content.decode()
    assert "No spend or results yet" in content
    assert "mops-figure" not in content and "plotly.min.js" not in content


def test_the_chart_stops_at_today_for_a_running_campaign(marketer, campaign):
    from campaigns.selectors import weekly_spend_and_leads

    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 7), amount=Decimal("70"), currency="USD")
    points = weekly_spend_and_leads(campaign, until=D(2026, 2, 4))
    assert (points[0].week, points[-1].week) == (D(2025, 12, 29), D(2026, 2, 2))
    early = weekly_spend_and_leads(campaign, until=D(2025, 6, 1))  # before the start: up to the last fact
    assert [p.week for p in early] == [D(2025, 12, 29), D(2026, 1, 5)]


def test_status_moves_by_hand(client, marketer, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT)
    response = login(client, marketer).get(url("campaign-detail", campaign.pk))
    assert [status for status, _ in response.context["moves"]] == ["planned", "cancelled"]
    response = client.post(url("campaign-status", campaign.pk), {"status": "planned"}, follow=True)
    assert "The campaign is now planned." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PLANNED


def test_a_move_the_table_does_not_allow_is_shown_as_an_error(client, marketer, campaign):
    response = login(client, marketer).post(url("campaign-status", campaign.pk), {"status": "completed"}, follow=True)
    assert "A planned campaign cannot become completed." in response.content.decode()
    assert Campaign.objects.get().status == CampaignStatus.PLANNED


@pytest.fixture
def launch_template(ops_admin):
    from campaigns.subjects import CAMPAIGN_LAUNCH
    from workflows import services as workflow_services

    return workflow_services.template_create(
        actor=ops_admin,
        name="Campaign launch",
        subject_type=CAMPAIGN_LAUNCH,
        steps=[{"name": "Lead review", "stage": 1, "kind": "approval", "assignee_type": "team_lead"}],
    )


def test_submit_for_launch_starts_the_workflow_and_shows_its_strip(client, marketer, lead, campaign, launch_template):
    response = login(client, marketer).get(url("campaign-detail", campaign.pk))
    assert response.context["launch_review"] is True
    assert "live" not in [status for status, _ in response.context["moves"]]  # live only through review
    response = client.post(url("campaign-submit", campaign.pk), follow=True)
    assert "Submitted for launch review." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.IN_LAUNCH_REVIEW
    page = client.get(url("campaign-detail", campaign.pk))
    assert [step.name for step in page.context["steps"]] == ["Lead review"]
    assert 'aria-label="Workflow progress"' in page.content.decode()


def test_submitting_twice_is_refused_with_a_message(client, marketer, lead, campaign, launch_template):
    login(client, marketer).post(url("campaign-submit", campaign.pk))
    response = client.post(url("campaign-submit", campaign.pk), follow=True)
    assert "Only a planned campaign can be submitted for launch." in response.content.decode()


def test_without_a_launch_template_a_planned_campaign_goes_live_directly(client, marketer, campaign):
    response = login(client, marketer).get(url("campaign-detail", campaign.pk))
    assert response.context["launch_review"] is False
    assert "live" in [status for status, _ in response.context["moves"]]


def test_an_editor_adds_a_tactic(client, marketer, campaign):
    response = login(client, marketer).post(
        url("tactic-create", campaign.pk), {"name": "Retargeting", "planned_cost": "300"}
    )
    assert response.status_code == 302
    assert [t.name for t in campaign.tactics.all()] == ["Retargeting"]
    response = client.post(url("tactic-create", campaign.pk), {"name": "Retargeting", "planned_cost": "1"}, follow=True)
    assert "already exists" in response.content.decode()
    assert campaign.tactics.count() == 1


# --- UTM link builder -----------------------------------------------------------------------------


def test_the_utm_builder_builds_a_tracked_link(client, cmo, campaign):
    response = login(client, cmo).get(
        url("campaign-detail", campaign.pk),
        {
            "utm-landing_url": "https://example.com/webinar?ref=nav&utm_source=old#signup",
            "utm-utm_source": "google",
            "utm-utm_medium": "cpc",
            "utm-utm_campaign": "spring webinars",
            "utm-utm_content": "",
            "utm-utm_term": "",
        },
    )
    assert response.context["tracked_url"] == (
        "https://example.com/webinar?ref=nav&utm_source=google&utm_medium=cpc&utm_campaign=spring+webinars#signup"
    )
    assert 'data-testid="tracked-url"' in response.content.decode()


def test_the_utm_builder_refuses_an_invalid_url(client, marketer, campaign):
    response = login(client, marketer).get(
        url("campaign-detail", campaign.pk),
        {"utm-landing_url": "no such url", "utm-utm_source": "a", "utm-utm_medium": "b", "utm-utm_campaign": "c"},
    )
    assert response.context["tracked_url"] == ""
    assert "landing_url" in response.context["utm_form"].errors


def test_the_utm_builder_starts_from_the_campaigns_tags(client, marketer, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(landing_url="https://example.com/x", utm_source="google")
    form = login(client, marketer).get(url("campaign-detail", campaign.pk)).context["utm_form"]
    assert not form.is_bound
    assert form.initial["landing_url"] == "https://example.com/x" and form.initial["utm_source"] == "google"
    assert form.initial["utm_medium"] == "paid_media"  # not set on the campaign: the convention's


def test_utm_helpers():
    channel = ChannelFactory.build(slug="linkedin", group="paid_media")
    assert utm.suggest(channel=channel, code="q3-abm") == {
        "utm_source": "linkedin",
        "utm_medium": "paid_media",
        "utm_campaign": "q3-abm",
    }
    assert utm.tracked_url("https://a.example/p", utm_source="x y", utm_term="") == "https://a.example/p?utm_source=x+y"


def test_the_weekly_figure_is_a_pure_function():
    fig = spend_and_leads_by_week(
        [WeekPoint(D(2026, 1, 5), Decimal("100.50"), 3), WeekPoint(D(2026, 1, 12), Decimal(0), 0)], currency="USD"
    )
    bars, line = fig.data
    assert list(bars.y) == [100.5, 0.0] and list(line.y) == [3, 0]
    assert list(bars.x) == ["2026-01-05", "2026-01-12"]


def test_the_chart_covers_every_week_of_the_campaign(marketer, campaign):
    from campaigns.selectors import weekly_spend_and_leads

    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 7), amount=Decimal("70"), currency="USD")
    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 8), amount=Decimal("30"), currency="USD")
    services.results_log(actor=marketer, campaign=campaign, date=D(2026, 3, 30), leads=4)
    points = weekly_spend_and_leads(campaign)
    assert points[0].week == D(2025, 12, 29) and points[-1].week == D(2026, 3, 30)  # Mondays around 1 Jan–31 Mar
    assert len(points) == 14
    by_week = {p.week: p for p in points}
    assert by_week[D(2026, 1, 5)].spend == Decimal("100.00")
    assert by_week[D(2026, 3, 30)].leads == 4
    assert sum(p.spend for p in points) == Decimal("100.00")
