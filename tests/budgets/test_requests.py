"""The allocation-request pages and finance's approval queue."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from budgets import services
from budgets.models import Allocation, AllocationRequest, RequestStatus
from budgets.requests import services as request_services
from tests.factories import CampaignFactory
from workflows.models import StepTask
from workflows.selectors import my_tasks


@pytest.fixture
def ask(marketer, campaign, search_line, month, allocation_template):
    def make(amount="10000", months=(2,), **kwargs):
        return request_services.allocation_request_create(
            actor=kwargs.pop("actor", marketer),
            line=kwargs.pop("line", search_line),
            months={month(m): Decimal(amount) for m in months},
            currency="USD",
            justification="Spring push",
            campaign=kwargs.pop("campaign", campaign),
        )

    return make


def _login(client, user):
    client.force_login(user)
    return client


def _month_field(month_number):
    return f"m2026{month_number:02d}"


# --- create ---------------------------------------------------------------------------------


def test_marketer_requests_budget_from_the_campaign_page(client, marketer, campaign, search_line, allocation_template):
    page = _login(client, marketer).get(reverse("campaigns:campaign-detail", args=[campaign.pk]))
    create_url = reverse("budgets:request-create") + f"?campaign={campaign.pk}"
    assert create_url in page.content.decode()

    form = client.get(create_url)
    assert form.status_code == 200
    assert "available" in form.content.decode()
    response = client.post(
        create_url,
        {"line": search_line.pk, _month_field(3): "2500", "currency": "USD", "justification": "Webinar ads"},
    )
    request = AllocationRequest.objects.get()
    assert response.status_code == 302 and response.url == reverse("budgets:request-detail", args=[request.pk])
    assert request.amount_base == Decimal("2500.00") and request.status == RequestStatus.PENDING


def test_errors_are_shown_and_input_kept(client, marketer, campaign, search_line):
    # No active template: the service refuses, the form keeps what was typed.
    create_url = reverse("budgets:request-create") + f"?campaign={campaign.pk}"
    response = _login(client, marketer).post(
        create_url, {"line": search_line.pk, _month_field(4): "1234", "currency": "USD", "justification": "Keep me"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Keep me" in body and 'value="1234' in body
    assert "alert-danger" in body
    assert not AllocationRequest.objects.exists()


def test_a_month_is_required(client, marketer, campaign, search_line):
    create_url = reverse("budgets:request-create") + f"?campaign={campaign.pk}"
    response = _login(client, marketer).post(
        create_url, {"line": search_line.pk, "currency": "USD", "justification": "x"}
    )
    assert response.status_code == 200 and "at least one month" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("marketer", 200), ("teammate", 200), ("outsider", 404), ("finance", 403), ("cmo", 403)]
)
def test_create_page_permissions(request, client, who, status, campaign, search_line):
    user = request.getfixturevalue(who)
    url = reverse("budgets:request-create") + f"?campaign={campaign.pk}"
    assert _login(client, user).get(url).status_code == status


def test_create_page_anonymous_goes_to_login(client, campaign):
    response = client.get(reverse("budgets:request-create") + f"?campaign={campaign.pk}")
    assert response.status_code == 302 and "login" in response.url


# --- list and detail ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [("marketer", True), ("teammate", True), ("outsider", False), ("finance", True), ("cmo", True)],
)
def test_list_and_detail_permissions(request, client, who, sees, ask):
    req = ask()
    user = request.getfixturevalue(who)
    _login(client, user)
    listing = client.get(reverse("budgets:request-list"))
    assert listing.status_code == 200
    assert (f"#{req.pk}<" in listing.content.decode()) == sees
    detail = client.get(reverse("budgets:request-detail", args=[req.pk]))
    assert detail.status_code == (200 if sees else 404)


def test_anonymous_is_sent_to_login(client, ask):
    req = ask()
    for url in (
        reverse("budgets:request-list"),
        reverse("budgets:request-detail", args=[req.pk]),
        reverse("budgets:queue"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response.url


def test_list_filters_by_status(client, finance, ask):
    pending = ask()
    response = _login(client, finance).get(reverse("budgets:request-list"), {"status": "approved"})
    assert f"#{pending.pk}<" not in response.content.decode()
    response = client.get(reverse("budgets:request-list"), {"status": "pending"})
    assert f"#{pending.pk}<" in response.content.decode()


def test_detail_shows_the_rejection_comment(client, marketer, finance, ask):
    req = ask()
    task = my_tasks(finance).get()
    _login(client, finance).post(
        reverse("budgets:queue"), {"task": task.pk, "action": "reject", "comment": "Not this quarter"}
    )
    req.refresh_from_db()
    assert req.status == RequestStatus.REJECTED
    body = _login(client, marketer).get(reverse("budgets:request-detail", args=[req.pk])).content.decode()
    assert "Not this quarter" in body and "wf-strip" in body


# --- queue ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), [("marketer", 403), ("outsider", 403), ("finance", 200), ("cmo", 200)])
def test_queue_permissions(request, client, who, status):
    assert _login(client, request.getfixturevalue(who)).get(reverse("budgets:queue")).status_code == status


def test_queue_shows_the_figures_and_available_after(client, finance, ask):
    req = ask("10000", months=(2, 3))
    body = _login(client, finance).get(reverse("budgets:queue")).content.decode()
    assert f'data-request="{req.pk}"' in body
    # The line has 60,000 in each of the two months; nothing allocated: 120,000 − 20,000 left.
    assert "120000.00" in body and "100000.00" in body


def test_queue_query_count_does_not_grow_with_requests(client, finance, team, marketer, ask, search_line):
    ask()
    _login(client, finance)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("budgets:queue"))
    for n in range(4):
        ask(campaign=CampaignFactory(code=f"extra-{n}", team=team, owner=marketer), months=(n + 4,))
    with CaptureQueriesContext(connection) as five:
        response = client.get(reverse("budgets:queue"))
    assert response.content.decode().count("data-request=") == 5
    assert len(five) == len(one)


def test_approve_return_and_comment_required(client, finance, ask):
    first, second = ask(), ask(months=(5,))
    tasks = {int(t.instance.subject_id): t for t in my_tasks(finance)}
    _login(client, finance)
    response = client.post(reverse("budgets:queue"), {"task": tasks[second.pk].pk, "action": "return", "comment": ""})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == RequestStatus.PENDING  # refused: a comment is required
    client.post(reverse("budgets:queue"), {"task": tasks[first.pk].pk, "action": "approve", "comment": ""})
    first.refresh_from_db()
    assert first.status == RequestStatus.APPROVED
    assert Allocation.objects.filter(request=first).count() == 1


def test_bulk_approve_reports_each_outcome(client, finance, ask, search_line, month):
    small, too_big = ask("5000"), ask("20000", months=(6,))
    # Meanwhile the line's June budget shrinks below the second request.
    services.phasing_set(actor=finance, line=search_line, amounts={month(6): Decimal("10000")})
    tasks = [t.pk for t in my_tasks(finance)]
    response = _login(client, finance).post(
        reverse("budgets:queue"), {"operation": "bulk-approve", "task": tasks}, follow=True
    )
    small.refresh_from_db(), too_big.refresh_from_db()
    assert small.status == RequestStatus.APPROVED and too_big.status == RequestStatus.PENDING
    texts = [str(m) for m in response.context["messages"]]
    assert any("approved" in t for t in texts)
    assert any("no longer available" in t for t in texts)


def test_deciding_twice_is_a_conflict_message(client, finance, second_finance, ask):
    ask()
    task = my_tasks(finance).get()
    _login(client, second_finance).post(reverse("budgets:queue"), {"task": task.pk, "action": "approve"})
    response = _login(client, finance).post(
        reverse("budgets:queue"), {"task": task.pk, "action": "approve"}, follow=True
    )
    assert any("already" in str(m) for m in response.context["messages"])


def test_campaign_page_shows_allocations_and_open_requests(client, marketer, finance, ask, campaign):
    approved, pending = ask(), ask(months=(7,))
    task = next(t for t in my_tasks(finance) if int(t.instance.subject_id) == approved.pk)
    _login(client, finance).post(reverse("budgets:queue"), {"task": task.pk, "action": "approve"})
    body = _login(client, marketer).get(reverse("campaigns:campaign-detail", args=[campaign.pk])).content.decode()
    assert 'data-testid="allocations"' in body and "10000.00" in body
    assert reverse("budgets:request-detail", args=[pending.pk]) in body


def test_a_closed_month_is_refused_on_the_form(client, marketer, campaign, search_line, month, allocation_template):
    month(4).__class__.objects.filter(pk=month(4).pk).update(is_closed=True)
    create_url = reverse("budgets:request-create") + f"?campaign={campaign.pk}"
    response = _login(client, marketer).post(
        create_url, {"line": search_line.pk, _month_field(4): "1000", "currency": "USD", "justification": "April"}
    )
    assert response.status_code == 200 and "is closed" in response.content.decode()
    assert not AllocationRequest.objects.exists()


def test_a_currency_without_rate_is_refused_on_the_form(client, marketer, campaign, search_line, allocation_template):
    from mops.models import Currency

    Currency.objects.update_or_create(code="ZZZ", defaults={"name": "Test unit", "is_active": True})
    create_url = reverse("budgets:request-create") + f"?campaign={campaign.pk}"
    response = _login(client, marketer).post(
        create_url, {"line": search_line.pk, _month_field(5): "1000", "currency": "ZZZ", "justification": "FX"}
    )
    assert response.status_code == 200 and "ZZZ" in response.content.decode()
    assert "alert-danger" in response.content.decode()
    assert not AllocationRequest.objects.exists()


def test_garbage_ids_are_answered_cleanly(client, marketer, finance):
    assert _login(client, marketer).get(reverse("budgets:request-create") + "?campaign=x").status_code == 404
    response = _login(client, finance).post(reverse("budgets:queue"), {"task": "x", "action": "approve"}, follow=True)
    assert any("Choose a request" in str(m) for m in response.context["messages"])


@pytest.mark.parametrize("with_task", [True, False])
def test_the_requester_deciding_on_the_page_gets_the_separation_of_duties_reason(client, marketer, ask, with_task):
    req = ask()
    data = {"action": "approve"}
    if with_task:  # a forged post naming the waiting step
        data["task"] = StepTask.objects.get(instance__subject_id=str(req.pk), status="active").pk
    response = _login(client, marketer).post(reverse("budgets:request-decide", args=[req.pk]), data, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any("cannot approve its steps (separation of duties)" in m for m in shown), shown
    req.refresh_from_db()
    assert req.status == "pending"


def test_an_allocation_request_past_the_money_bound_names_the_limit(marketer, campaign, search_line, month):
    from django.core.exceptions import ValidationError

    from mops.money import MONEY_MAX_TEXT

    with pytest.raises(ValidationError) as refused:
        request_services.allocation_request_create(
            actor=marketer,
            line=search_line,
            campaign=campaign,
            months={month(2): Decimal("1000000000000"), month(3): Decimal("10")},
            currency="USD",
            justification="Everything",
        )
    assert refused.value.messages == [f"Feb 2026: the amount must be between -{MONEY_MAX_TEXT} and {MONEY_MAX_TEXT}."]
    assert not AllocationRequest.objects.exists()
