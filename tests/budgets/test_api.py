"""The budgets API: budgets, lines with monthly amounts, allocation requests and their decisions,
commitments — each endpoint as owner, teammate, outsider, finance, CMO and anonymous."""

from decimal import Decimal

import pytest

from budgets import services
from budgets.models import Allocation, Commitment, RequestStatus
from budgets.requests import services as request_services

REQUESTS = "/api/v1/allocation-requests/"


@pytest.fixture
def ask(marketer, campaign, search_line, month, allocation_template):
    def make(amount="10000", months=(2,)):
        return request_services.allocation_request_create(
            actor=marketer,
            line=search_line,
            months={month(m): Decimal(amount) for m in months},
            currency="USD",
            justification="Spring push",
            campaign=campaign,
        )

    return make


def test_anonymous_is_refused_everywhere(api, ask):
    req = ask()
    for url in ("/api/v1/budgets/", "/api/v1/budget-lines/", REQUESTS, f"{REQUESTS}{req.pk}/", "/api/v1/commitments/"):
        assert api.get(url).status_code in (401, 403)
    assert api.post(f"{REQUESTS}{req.pk}/approve/", {}, format="json").status_code in (401, 403)


def test_lines_carry_their_monthly_amounts(api_as, marketer, search_line, team_line):
    response = api_as(marketer).get("/api/v1/budget-lines/")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {search_line.pk, team_line.pk}
    months = rows[search_line.pk]["months"]
    assert len(months) == 12 and months[0] == {"month": "2026-01-01", "amount": "60000.00"}
    detail = api_as(marketer).get(f"/api/v1/budget-lines/{search_line.pk}/").json()
    assert detail["months"][11]["amount"] == "60000.00"


def test_outsider_sees_no_team_line(api_as, outsider, search_line):
    assert api_as(outsider).get("/api/v1/budget-lines/").json()["results"] == []
    assert api_as(outsider).get(f"/api/v1/budget-lines/{search_line.pk}/").status_code == 404


@pytest.mark.parametrize("who", ["marketer", "outsider", "finance", "cmo"])
def test_budgets_are_listed(request, api_as, who, budget):
    response = api_as(request.getfixturevalue(who)).get("/api/v1/budgets/")
    assert response.status_code == 200 and response.json()["results"][0]["name"] == "FY2026 marketing"


def test_marketer_creates_a_request(api_as, marketer, campaign, search_line, allocation_template):
    payload = {
        "line": search_line.pk,
        "campaign": campaign.pk,
        "currency": "USD",
        "justification": "Webinar ads",
        "months": [{"month": "2026-03-01", "amount": "1500"}, {"month": "2026-04-15", "amount": "500"}],
    }
    response = api_as(marketer).post(REQUESTS, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount_base"] == "2000.00" and body["status"] == "pending"
    assert [m["month"] for m in body["months"]] == ["2026-03-01", "2026-04-01"]


@pytest.mark.parametrize(("who", "status"), [("outsider", 403), ("finance", 403), ("cmo", 403)])
def test_others_cannot_request_for_the_campaign(request, api_as, who, status, campaign, search_line):
    payload = {
        "line": search_line.pk,
        "campaign": campaign.pk,
        "currency": "USD",
        "justification": "x",
        "months": [{"month": "2026-03-01", "amount": "100"}],
    }
    response = api_as(request.getfixturevalue(who)).post(REQUESTS, payload, format="json")
    # The outsider cannot see the line or campaign (400 on the ids) or is refused (403).
    assert response.status_code in (400, status)


@pytest.mark.parametrize(
    ("who", "sees"),
    [("marketer", True), ("teammate", True), ("outsider", False), ("finance", True), ("cmo", True)],
)
def test_request_visibility(request, api_as, who, sees, ask):
    req = ask()
    client = api_as(request.getfixturevalue(who))
    ids = [row["id"] for row in client.get(REQUESTS).json()["results"]]
    assert (req.pk in ids) == sees
    assert client.get(f"{REQUESTS}{req.pk}/").status_code == (200 if sees else 404)


def test_finance_approves_then_a_second_approval_is_a_conflict(api_as, finance, second_finance, ask):
    req = ask()
    response = api_as(finance).post(f"{REQUESTS}{req.pk}/approve/", {"comment": ""}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert Allocation.objects.filter(request=req).count() == 1
    again = api_as(second_finance).post(f"{REQUESTS}{req.pk}/approve/", {}, format="json")
    assert again.status_code == 409


@pytest.mark.parametrize("who", ["teammate", "cmo"])
def test_only_the_waiting_approver_may_decide(request, api_as, who, ask):
    req = ask()
    response = api_as(request.getfixturevalue(who)).post(f"{REQUESTS}{req.pk}/approve/", {}, format="json")
    assert response.status_code == 403 and "not assigned to you" in response.json()["detail"]


@pytest.mark.parametrize("what", ["approve", "reject", "return"])
def test_the_requester_deciding_their_own_request_gets_the_separation_of_duties_reason(api_as, marketer, ask, what):
    req = ask()
    response = api_as(marketer).post(f"{REQUESTS}{req.pk}/{what}/", {"comment": "Mine"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "You started this workflow, so you cannot approve its steps (separation of duties)."
    )


def test_outsider_gets_404_on_decisions(api_as, outsider, ask):
    req = ask()
    assert api_as(outsider).post(f"{REQUESTS}{req.pk}/approve/", {}, format="json").status_code == 404


@pytest.mark.parametrize("what", ["reject", "return"])
def test_reject_and_return_need_a_comment(api_as, finance, ask, what):
    req = ask()
    assert api_as(finance).post(f"{REQUESTS}{req.pk}/{what}/", {}, format="json").status_code == 400
    response = api_as(finance).post(f"{REQUESTS}{req.pk}/{what}/", {"comment": "Too early"}, format="json")
    assert response.status_code == 200
    req.refresh_from_db()
    assert req.status == (RequestStatus.REJECTED if what == "reject" else RequestStatus.RETURNED)


def test_big_request_needs_the_cmo_too(api_as, finance, cmo, ask):
    req = ask("60000", months=(2,))
    assert api_as(finance).post(f"{REQUESTS}{req.pk}/approve/", {}, format="json").json()["status"] == "pending"
    assert api_as(cmo).post(f"{REQUESTS}{req.pk}/approve/", {}, format="json").json()["status"] == "approved"


def test_approval_refused_when_the_money_is_gone(api_as, finance, ask, search_line, month):
    req = ask("20000", months=(6,))
    services.phasing_set(actor=finance, line=search_line, amounts={month(6): Decimal("10000")})
    response = api_as(finance).post(f"{REQUESTS}{req.pk}/approve/", {}, format="json")
    assert response.status_code == 400 and "available" in str(response.json())
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING


# --- commitments ----------------------------------------------------------------------------


def _commitment(line, campaign):
    return {
        "line": line.pk,
        "campaign": campaign.pk,
        "month": "2026-05-01",
        "vendor": "Acme Ads",
        "reference": "PO-1001",
        "currency": "USD",
        "amount": "4000",
    }


def test_finance_records_and_closes_a_commitment(api_as, finance, search_line, campaign):
    response = api_as(finance).post("/api/v1/commitments/", _commitment(search_line, campaign), format="json")
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert api_as(finance).post(f"/api/v1/commitments/{pk}/close/").json()["status"] == "closed"
    assert api_as(finance).post(f"/api/v1/commitments/{pk}/close/").status_code == 409


@pytest.mark.parametrize("who", ["marketer", "teammate", "cmo"])
def test_only_finance_writes_commitments(request, api_as, who, search_line, campaign):
    response = api_as(request.getfixturevalue(who)).post(
        "/api/v1/commitments/", _commitment(search_line, campaign), format="json"
    )
    assert response.status_code == 403
    assert not Commitment.objects.exists()


@pytest.mark.parametrize(("who", "sees"), [("marketer", True), ("outsider", False), ("cmo", True)])
def test_commitment_visibility(request, api_as, finance, who, sees, search_line, campaign, month):
    commitment = services.commitment_create(
        actor=finance,
        line=search_line,
        vendor="Acme",
        reference="PO-7",
        amount=Decimal("100"),
        currency="USD",
        period=month(5),
        campaign=campaign,
    )
    client = api_as(request.getfixturevalue(who))
    assert client.get(f"/api/v1/commitments/{commitment.pk}/").status_code == (200 if sees else 404)
