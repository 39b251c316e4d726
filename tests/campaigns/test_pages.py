"""The campaign pages: list, create/edit, detail, spend, results week, calendar — as owner,
teammate, outsider and a read-only role."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns import services, utm
from campaigns.figures import spend_and_leads_by_week
from campaigns.models import Campaign, CampaignStatus, ResultFact, SpendEntry
from campaigns.selectors import WeekPoint
from metrics.rollups import services as metrics_services
from metrics.rollups.models import DirtyMark
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period
from tests.factories import CampaignFactory, ChannelFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def url(name, *args):
    return reverse(f"campaigns:{name}", args=args)


def login(client, user):
    client.force_login(user)
    return client


def close_month(finance, day):
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=day.replace(day=1)))


@pytest.fixture
def other_campaign(other_team, outsider, paid_search, fiscal_2026):
    return CampaignFactory(
        name="EMEA roadshow", code="emea-roadshow", team=other_team, owner=outsider, channel=paid_search
    )


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


# --- spend ----------------------------------------------------------------------------------------


def test_a_marketer_logs_spend_in_another_currency(client, marketer, campaign, eur_rate):
    response = login(client, marketer).post(
        url("spend-log", campaign.pk),
        {"date": "2026-01-10", "amount": "100", "currency": "EUR", "vendor": "Google", "reference": "INV-1"},
    )
    assert response.status_code == 302
    entry = SpendEntry.objects.get()
    assert (entry.amount_base, entry.vendor, entry.created_by) == (Decimal("110.00"), "Google", marketer)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "greater than or equal to 0"),
        ({"currency": "GBP"}, "currency", "No exchange rate for GBP"),
        ({"date": ""}, "date", "required"),
    ],
)
def test_bad_spend_is_refused_on_its_field(client, marketer, campaign, data, field, message):
    post = {"date": "2026-01-10", "amount": "10", "currency": "USD", **data}
    response = login(client, marketer).post(url("spend-log", campaign.pk), post)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])
    assert not SpendEntry.objects.exists()


def test_spend_in_a_closed_month_is_refused_on_the_date(client, marketer, finance, campaign):
    close_month(finance, D(2026, 1, 1))
    response = login(client, marketer).post(
        url("spend-log", campaign.pk), {"date": "2026-01-10", "amount": "10", "currency": "USD", "vendor": "Acme"}
    )
    assert "Jan 2026 is closed by finance" in str(response.context["form"].errors["date"])
    assert 'value="Acme"' in response.content.decode()  # input kept


def test_a_tactic_of_another_campaign_cannot_be_chosen(client, marketer, campaign, team):
    other = CampaignFactory(team=team, owner=marketer)
    tactic = services.tactic_create(actor=marketer, campaign=other, name="Elsewhere")
    response = login(client, marketer).post(
        url("spend-log", campaign.pk), {"date": "2026-01-10", "amount": "10", "currency": "USD", "tactic": tactic.pk}
    )
    assert "tactic" in response.context["form"].errors


def test_spend_is_edited_and_deleted(client, marketer, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    response = login(client, marketer).get(url("spend-edit", entry.pk))
    assert response.context["form"].initial["amount"] == Decimal("5.00")
    response = client.post(
        url("spend-edit", entry.pk), {"date": "2026-01-06", "amount": "7.50", "currency": "USD", "vendor": "Meta"}
    )
    assert response.status_code == 302 and response.url == url("spend-log", campaign.pk)
    entry.refresh_from_db()
    assert (entry.date, entry.amount, entry.vendor) == (D(2026, 1, 6), Decimal("7.50"), "Meta")
    assert client.post(url("spend-delete", entry.pk)).status_code == 302
    assert not SpendEntry.objects.exists()
    assert AuditEvent.objects.filter(action="spend.delete").exists()


def test_spend_of_a_closed_month_cannot_be_edited_or_deleted(client, marketer, finance, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    close_month(finance, D(2026, 1, 1))
    response = login(client, marketer).post(
        url("spend-edit", entry.pk), {"date": "2026-01-05", "amount": "9", "currency": "USD"}
    )
    assert "closed by finance" in str(response.context["form"].errors["date"])
    response = client.post(url("spend-delete", entry.pk), follow=True)
    assert "closed by finance" in response.content.decode()
    assert SpendEntry.objects.get().amount == Decimal("5.00")


def test_moving_spend_to_a_currency_without_a_rate_is_refused(client, marketer, campaign):
    entry = services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal(5), currency="USD")
    response = login(client, marketer).post(
        url("spend-edit", entry.pk), {"date": "2026-01-05", "amount": "5", "currency": "GBP"}
    )
    assert "No exchange rate for GBP" in str(response.context["form"].errors["currency"])


# --- results, a week at a time ------------------------------------------------------------------


def week_post(rows: dict[int, dict]):
    """The week form's POST data: ``rows`` maps a day offset (0 = Monday) to its measures."""
    data = {"day-TOTAL_FORMS": "7", "day-INITIAL_FORMS": "7", "day-MIN_NUM_FORMS": "7", "day-MAX_NUM_FORMS": "7"}
    for offset in range(7):
        for measure, value in rows.get(offset, {}).items():
            data[f"day-{offset}-{measure}"] = str(value)
    return data


def test_a_week_of_results_is_logged_day_by_day(client, marketer, campaign):
    page = url("results-log", campaign.pk) + "?week=2026-01-07"  # any day picks its week
    response = login(client, marketer).get(page)
    assert response.context["week"] == D(2026, 1, 5)
    response = client.post(page, week_post({0: {"leads": 3, "clicks": 40}, 1: {"leads": 5}, 4: {"revenue": "99.50"}}))
    assert response.status_code == 302
    facts = {f.date: f for f in ResultFact.objects.all()}
    assert sorted(facts) == [D(2026, 1, 5), D(2026, 1, 6), D(2026, 1, 9)]
    assert (facts[D(2026, 1, 5)].leads, facts[D(2026, 1, 5)].clicks) == (3, 40)
    assert facts[D(2026, 1, 9)].revenue == Decimal("99.50")
    message = next(iter(client.get(response.url).context["messages"]))
    assert str(message) == "3 days created, 0 updated, 0 unchanged."


def test_logging_the_week_again_reports_updated_and_unchanged_days(client, marketer, campaign):
    page = url("results-log", campaign.pk) + "?week=2026-01-05"
    login(client, marketer).post(page, week_post({0: {"leads": 3}, 1: {"leads": 5}}))
    # The form comes back filled with what was saved.
    form = client.get(page).context["formset"].forms[0]
    assert form.initial["leads"] == 3
    response = client.post(page, week_post({0: {"leads": 3}, 1: {"leads": 6}, 2: {"leads": 1}}), follow=True)
    assert "1 day created, 1 updated, 1 unchanged." in response.content.decode()
    assert ResultFact.objects.count() == 3
    assert ResultFact.objects.get(date=D(2026, 1, 6)).leads == 6


def test_a_bad_row_saves_nothing_of_the_week(client, marketer, campaign):
    page = url("results-log", campaign.pk) + "?week=2026-01-05"
    response = login(client, marketer).post(page, week_post({0: {"leads": 3}, 3: {"leads": -1}}))
    assert response.status_code == 200
    assert "greater than or equal to 0" in str(response.context["formset"].forms[3].errors["leads"])
    assert not ResultFact.objects.exists()


def test_a_closed_day_rolls_back_the_rows_saved_before_it(client, marketer, finance, campaign):
    close_month(finance, D(2026, 2, 1))
    page = url("results-log", campaign.pk) + "?week=2026-01-26"  # Mon 26 Jan … Sun 1 Feb
    response = login(client, marketer).post(page, week_post({0: {"leads": 3}, 6: {"leads": 2}}))
    assert response.status_code == 200
    row = response.context["formset"].forms[6]
    assert "Feb 2026 is closed by finance" in str(row.non_field_errors())
    assert "Nothing was saved" in response.content.decode()
    assert not ResultFact.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="results.").exists()


def test_an_empty_week_saves_nothing(client, marketer, campaign):
    response = login(client, marketer).post(url("results-log", campaign.pk) + "?week=2026-01-05", week_post({}))
    assert response.status_code == 302
    assert not ResultFact.objects.exists()


def test_a_tampered_week_form_is_refused(client, marketer, campaign):
    data = week_post({0: {"leads": 1}}) | {"day-TOTAL_FORMS": "8"}
    response = login(client, marketer).post(url("results-log", campaign.pk) + "?week=2026-01-05", data)
    assert response.status_code == 200
    assert not ResultFact.objects.exists()


# --- the list: filters, sorting, totals, queries ------------------------------------------------


@pytest.fixture
def portfolio(marketer, teammate, team, paid_search, fiscal_2026, eur_rate):
    """Four campaigns of the marketer's team with spend and results, and one of another team."""
    email = ChannelFactory(name="Email", slug="email", group="owned")

    def make(**kw):
        return CampaignFactory(**{"team": team, "owner": marketer, "channel": paid_search, **kw})

    a = make(name="Alpha search", code="alpha", start_date=D(2026, 1, 1), end_date=D(2026, 1, 31))
    b = make(
        name="Bravo email",
        code="bravo",
        channel=email,
        start_date=D(2026, 2, 1),
        end_date=D(2026, 3, 15),
        planned_cost_base=Decimal("500"),
    )
    c = make(name="Charlie search", code="charlie", status="live", start_date=D(2026, 3, 1), end_date=D(2026, 4, 30))
    d = make(name="Delta", code="delta-x", owner=teammate, start_date=D(2026, 5, 1), end_date=D(2026, 5, 2))
    CampaignFactory(name="Other team", code="zz", team=TeamFactory(slug="apac"), channel=paid_search)
    for campaign, amounts in ((a, ["100", "50.25"]), (b, ["300"]), (c, ["20"])):
        for day, amount in enumerate(amounts, start=1):
            services.spend_log(
                actor=marketer, campaign=campaign, date=D(2026, 1, day), amount=Decimal(amount), currency="EUR"
            )
    for campaign, days in ((a, [(5, 10, "1000")]), (b, [(6, 4, "0"), (7, 6, "250.50")]), (d, [(8, 1, "5")])):
        for day, leads, pipeline in days:
            services.results_log(
                actor=marketer, campaign=campaign, date=D(2026, 1, day), leads=leads, pipeline=Decimal(pipeline)
            )
    return {"a": a, "b": b, "c": c, "d": d}


def listed(client, **params):
    response = client.get(url("home"), params)
    assert response.status_code == 200
    return response, [c.code for c in response.context["page"]]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({}, ["delta-x", "charlie", "bravo", "alpha"]),
        ({"status": "live"}, ["charlie"]),
        ({"channel": "email"}, ["bravo"]),
        ({"q": "SEARCH"}, ["charlie", "alpha"]),
        ({"q": "delta-"}, ["delta-x"]),
        ({"owner": "bob"}, ["delta-x"]),
        ({"start": "2026-03-10", "end": "2026-03-20"}, ["charlie", "bravo"]),  # overlapping, not contained
        ({"start": "2026-04-15"}, ["delta-x", "charlie"]),
        ({"end": "2026-01-31"}, ["alpha"]),
        ({"status": "nonsense"}, ["delta-x", "charlie", "bravo", "alpha"]),  # bad values are ignored
    ],
)
def test_list_filters(client, marketer, portfolio, params, codes):
    params = dict(params)
    if params.get("channel") == "email":
        params["channel"] = portfolio["b"].channel_id
    if params.get("owner") == "bob":
        params["owner"] = portfolio["d"].owner_id
    _, shown = listed(login(client, marketer), **params)
    assert shown == codes


def test_list_filters_by_team(client, cmo, portfolio):
    _, shown = listed(login(client, cmo), team=portfolio["a"].team_id, sort="name")
    assert shown == ["alpha", "bravo", "charlie", "delta-x"]


@pytest.mark.parametrize(
    ("sort", "codes"),
    [
        ("name", ["alpha", "bravo", "charlie", "delta-x"]),
        ("-name", ["delta-x", "charlie", "bravo", "alpha"]),
        ("start", ["alpha", "bravo", "charlie", "delta-x"]),
        ("-planned", ["alpha", "charlie", "delta-x", "bravo"]),
        ("planned", ["bravo", "alpha", "charlie", "delta-x"]),
        ("-spend", ["bravo", "alpha", "charlie", "delta-x"]),
        ("spend", ["delta-x", "charlie", "alpha", "bravo"]),
    ],
)
def test_list_sorting(client, marketer, portfolio, sort, codes):
    _, shown = listed(login(client, marketer), sort=sort)
    assert shown == codes


def test_list_rows_carry_their_own_actuals(client, marketer, portfolio):
    response, _ = listed(login(client, marketer), sort="name")
    alpha, bravo, *_ = response.context["page"]
    assert (alpha.spend_base, alpha.leads, alpha.pipeline) == (Decimal("165.28"), 10, Decimal("1000.00"))
    assert (bravo.spend_base, bravo.leads, bravo.pipeline) == (Decimal("330.00"), 10, Decimal("250.50"))


@pytest.mark.parametrize("params", [{}, {"channel": "paid"}, {"q": "a"}, {"start": "2026-02-15"}])
def test_list_totals_match_an_independent_sum(client, marketer, portfolio, params):
    params = dict(params)
    if params.get("channel") == "paid":
        params["channel"] = portfolio["a"].channel_id
    response, codes = listed(login(client, marketer), per_page=25, **params)
    totals = response.context["totals"]
    campaigns = Campaign.objects.filter(code__in=codes)
    spend = SpendEntry.objects.filter(campaign__in=campaigns).aggregate(s=Sum("amount_base"))["s"] or 0
    results = ResultFact.objects.filter(campaign__in=campaigns)
    assert totals.count == len(codes)
    assert totals.planned_cost == sum(c.planned_cost_base for c in campaigns)
    assert totals.spend == spend
    assert totals.leads == sum(r.leads for r in results)
    assert totals.pipeline == sum((r.pipeline for r in results), Decimal(0))
    assert totals.revenue == sum((r.revenue for r in results), Decimal(0))


def test_totals_cover_the_whole_filtered_set_not_just_the_page(client, marketer, portfolio):
    response, _ = listed(login(client, marketer), per_page=25, page=1)
    assert response.context["totals"].count == 4
    assert response.context["totals"].spend == Decimal("517.28")  # 110 + 55.28 + 330 + 22 (EUR at 1.10)


def test_list_pages_by_the_chosen_size(client, marketer, team, paid_search):
    CampaignFactory.create_batch(30, team=team, owner=marketer, channel=paid_search)
    response, shown = listed(login(client, marketer), per_page=25)
    assert len(shown) == 25 and response.context["page"].paginator.num_pages == 2
    _, shown = listed(client, per_page=50)
    assert len(shown) == 30
    _, shown = listed(client, per_page=7)  # not an offered size: the default
    assert len(shown) == 25
    page_two = client.get(url("home"), {"per_page": 25, "page": 2, "sort": "name"})
    assert len(page_two.context["page"]) == 5
    assert "sort=name" in page_two.context["query"]


def _list_queries(client, n, team, marketer, channel):
    existing = Campaign.objects.count()
    for i in range(existing, n):
        campaign = CampaignFactory(team=team, owner=marketer, channel=channel, program=None)
        services.spend_log(
            actor=marketer, campaign=campaign, date=D(2026, 1, 1 + i % 28), amount=Decimal(i), currency="USD"
        )
        services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 1 + i % 28), leads=i)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("home"), {"per_page": 100})
    assert len(response.context["page"]) == n
    return len(queries)


def test_the_list_makes_the_same_few_queries_for_10_or_60_campaigns(
    client, marketer, team, paid_search, fiscal_2026, django_assert_max_num_queries
):
    login(client, marketer)
    with_10 = _list_queries(client, 10, team, marketer, paid_search)
    with_60 = _list_queries(client, 60, team, marketer, paid_search)
    assert with_10 == with_60
    # The totals come from the facts of campaigns the rollups have not caught up with (all of them
    # here), from the rollup cells once they have: the same queries either way.
    assert DirtyMark.objects.exists()
    metrics_services.refresh_pending()
    assert not DirtyMark.objects.exists()
    assert _list_queries(client, 60, team, marketer, paid_search) == with_60
    with django_assert_max_num_queries(15):
        client.get(url("home"), {"per_page": 100})


# --- calendar -------------------------------------------------------------------------------------


@pytest.fixture
def calendar_campaigns(team, marketer, paid_search, fiscal_2026, other_campaign):
    def make(name, start, end, **kw):
        defaults = {"team": team, "owner": marketer, "channel": paid_search}
        return CampaignFactory(name=name, code=name.lower(), start_date=start, end_date=end, **{**defaults, **kw})

    return {
        "inside": make("Inside", D(2026, 3, 10), D(2026, 3, 12)),
        "across": make("Across", D(2026, 2, 20), D(2026, 4, 5)),
        "before": make("Before", D(2026, 1, 1), D(2026, 2, 28)),
        "after": make("After", D(2026, 4, 1), D(2026, 4, 30)),
        "email": make("Newsletter", D(2026, 3, 1), D(2026, 3, 31), channel=ChannelFactory(name="Email", slug="email")),
    }


def bars(response):
    return {bar.campaign.name: bar for group in response.context["groups"] for bar in group.bars}


def test_the_month_calendar_shows_campaigns_overlapping_it(client, marketer, calendar_campaigns):
    response = login(client, marketer).get(url("calendar"), {"view": "month", "start": "2026-03"})
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"]) == (D(2026, 3, 1), D(2026, 3, 31))
    shown = bars(response)
    assert sorted(shown) == ["Across", "Inside", "Newsletter"]  # not the other team's
    inside, across = shown["Inside"], shown["Across"]
    assert (inside.offset, inside.span, inside.after) == (9, 3, 19)
    assert (across.offset, across.span, across.after, across.starts_before, across.ends_after) == (0, 31, 0, True, True)
    content = response.content.decode()
    assert f'href="{url("campaign-detail", calendar_campaigns["inside"].pk)}"' in content
    assert "March 2026" in content


def test_the_quarter_calendar_and_its_navigation(client, marketer, calendar_campaigns):
    response = login(client, marketer).get(url("calendar"), {"view": "quarter", "start": "2026-02", "group": "channel"})
    assert (response.context["start"], response.context["end"]) == (D(2026, 2, 1), D(2026, 4, 30))
    assert len(response.context["days"]) == 89
    assert [g.label for g in response.context["groups"]] == ["Email", "Paid search"]
    assert sorted(bars(response)) == ["Across", "After", "Before", "Inside", "Newsletter"]
    assert (response.context["previous"], response.context["next"]) == (D(2025, 11, 1), D(2026, 5, 1))
    assert "start=2025-11" in response.content.decode()


def test_the_calendar_defaults_to_this_month_and_ignores_bad_input(client, cmo, calendar_campaigns):
    response = login(client, cmo).get(url("calendar"), {"view": "year", "start": "March"})
    today = datetime.date.today()
    assert response.context["view"] == "month"
    assert response.context["start"] == today.replace(day=1)
    response = client.get(url("calendar"), {"view": "month", "start": "2026-03"})
    assert "EMEA roadshow" in bars(response)  # the CMO sees every team's campaigns


def test_the_calendar_is_refused_to_users_without_a_role(client):
    assert login(client, UserFactory()).get(url("calendar")).status_code == 403


# --- imports ----------------------------------------------------------------------------------------

GOOGLE_ADS_CSV = """Campaign performance report
"January 1, 2026 - January 31, 2026"
Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value
Spring webinar series,2026-01-05,USD,"$1,000.00","10,000",500,12.00,$0.00
Spring webinar series,2026-01-06,USD,$250.50,"2,000",90,3.00,$0.00
Brand US - Search,2026-01-06,USD,$40.00,300,12,1.00,$0.00
"""


def upload(client, content=GOOGLE_ADS_CSV, name="google-ads.csv", **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    post = {"format": "", "commit_mode": "all", **data, "file": SimpleUploadedFile(name, content.encode(), "text/csv")}
    return client.post(url("import-upload"), post)


def test_a_marketer_imports_maps_an_unknown_campaign_and_starts(
    client, marketer, campaign, django_capture_on_commit_callbacks
):
    from campaigns.models import CampaignAlias, ImportBatch

    assert login(client, marketer).get(url("import-upload")).status_code == 200
    response = upload(client)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == url("import-detail", batch.pk)
    page = client.get(response.url)
    content = page.content.decode()
    assert page.context["unknown_refs"] == ["Brand US - Search"]
    assert "Google Ads" in content and 'data-testid="mapping-form"' in content
    assert [label for label in (f.label for f in page.context["mapping_form"])] == ["Brand US - Search"]

    response = client.post(url("import-start", batch.pk), follow=True)  # refused while unmapped
    assert "before starting the import" in response.content.decode()

    response = client.post(url("import-map", batch.pk), {"ref_0": campaign.pk})
    assert response.status_code == 302
    assert CampaignAlias.objects.get().campaign == campaign
    assert client.get(url("import-detail", batch.pk)).context["unknown_refs"] == []

    with django_capture_on_commit_callbacks(execute=True):  # the task is queued on commit; it runs eagerly
        client.post(url("import-start", batch.pk))
    batch.refresh_from_db()
    assert batch.status == "done"
    summary = client.get(url("import-detail", batch.pk)).content.decode()
    assert 'data-count="total">3<' in summary and 'data-count="created">3<' in summary
    assert SpendEntry.objects.filter(campaign=campaign).aggregate(s=Sum("amount_base"))["s"] == Decimal("1290.50")
    assert ResultFact.objects.filter(campaign=campaign).aggregate(s=Sum("clicks"))["s"] == 602
    # … and the campaign page shows the totals.
    detail = client.get(url("campaign-detail", campaign.pk)).content.decode()
    assert 'data-actual="cost">1,290.50' in detail
    # The import list shows it.
    assert [b.pk for b in client.get(url("import-list")).context["page"]] == [batch.pk]


def test_skipping_an_unknown_campaign_imports_the_rest(client, marketer, campaign, django_capture_on_commit_callbacks):
    from campaigns.models import ImportBatch

    login(client, marketer)
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(url("import-map", batch.pk), {"ref_0": "skip"})
    page = client.get(url("import-detail", batch.pk)).content.decode()
    assert "skipped: mapped to no campaign" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import-start", batch.pk))
    batch.refresh_from_db()
    assert (batch.status, batch.rows_created, batch.rows_rejected) == ("done", 2, 1)


def test_an_unreadable_file_is_refused_on_the_form(client, marketer, campaign):
    from campaigns.models import ImportBatch

    response = upload(login(client, marketer), content="hello\nworld\n", name="notes.txt")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportBatch.objects.exists()


def test_row_errors_are_listed_and_block_an_all_or_nothing_import(client, marketer, campaign):
    from campaigns.models import ImportBatch

    bad = (
        GOOGLE_ADS_CSV.replace("$250.50", "-$250.50")
        .replace("Brand US - Search", "Spring webinar series")
        .replace("2026-01-06,USD,$40.00", "2026-01-07,USD,$40.00")
    )
    login(client, marketer)
    upload(client, content=bad)
    batch = ImportBatch.objects.get()
    page = client.get(url("import-detail", batch.pk))
    assert page.context["row_error_count"] == 1
    content = page.content.decode()
    assert "row 5" in content  # the file's line of the bad row
    response = client.post(url("import-start", batch.pk), follow=True)
    assert "Row 5 has an error: correct the file" in response.content.decode()  # named, in good English
    assert ImportBatch.objects.get().status == "uploaded" and not SpendEntry.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("teammate", 404), ("outsider", 404), ("cmo", 200), ("ops_admin", 200)])
def test_only_the_uploader_ops_admins_and_the_cmo_see_an_import(client, request, marketer, campaign, who, status):
    from campaigns.models import ImportBatch

    upload(login(client, marketer))
    batch = ImportBatch.objects.get()
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("import-detail", batch.pk)).status_code == status
    assert client.get(url("import-progress", batch.pk)).status_code == status
    assert client.post(url("import-start", batch.pk)).status_code == (403 if status == 200 else 404)
    assert client.post(url("import-map", batch.pk), {"ref_0": "skip"}).status_code == (403 if status == 200 else 404)
    if status == 200:
        assert "mapping-form" not in client.get(url("import-detail", batch.pk)).content.decode()
    assert ImportBatch.objects.get().status == "uploaded" and not ImportBatch.objects.get().errors


def test_only_marketers_upload(client, cmo):
    assert login(client, cmo).get(url("import-upload")).status_code == 403
    assert client.get(url("import-list")).status_code == 200


def test_the_progress_partial_polls_while_the_import_runs(client, marketer, campaign):
    from campaigns.models import ImportBatch

    upload(login(client, marketer))
    ImportBatch.objects.update(status="running", rows_total=3, rows_done=2)
    batch = ImportBatch.objects.get()
    partial = client.get(url("import-progress", batch.pk), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in partial and 'value="2"' in partial and "<html" not in partial
    page = client.get(url("import-detail", batch.pk)).content.decode()
    assert "htmx" in page and "<script>" not in page
    ImportBatch.objects.update(status="done", rows_done=3, rows_created=3)
    partial = client.get(url("import-progress", batch.pk)).content.decode()
    assert "hx-trigger" not in partial and "Import finished" in partial
