"""Finance's budget pages: the tree, the phasing grid (typed, spread, file round trip), commitments."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from budgets import phasing, selectors, services
from budgets.models import Budget, BudgetEntry, BudgetLine, Commitment, CommitmentStatus
from budgets.transfers import services as transfer_services
from mops.models import Currency

D = Decimal


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def cells_of(line, month):
    cells = selectors.budget_cells([line.pk])
    return [cells.get((line.pk, month(m).pk), D("0")) for m in range(1, 13)]


# --- who sees what ----------------------------------------------------------------------------


def _page_urls(budget, line):
    return [
        reverse("budgets:home"),
        reverse("budgets:phasing", args=[line.pk]),
        reverse("budgets:commitments"),
        reverse("budgets:phasing-download", args=[budget.pk]) + "?format=csv",
    ]


@pytest.mark.parametrize(("who", "status"), [("finance", 200), ("cmo", 200), ("marketer", 403), ("ops_admin", 403)])
def test_pages_by_role(request, as_user, budget, team_line, who, status):
    client = as_user(request.getfixturevalue(who))
    for url in _page_urls(budget, team_line):
        assert client.get(url).status_code == status, url


def test_anonymous_is_sent_to_login(client, budget, team_line):
    for url in _page_urls(budget, team_line):
        assert client.get(url).status_code == 302


@pytest.mark.parametrize("who", ["cmo", "marketer", "ops_admin"])
def test_only_finance_writes(request, as_user, budget, team_line, month, campaign, who):
    client = as_user(request.getfixturevalue(who))
    commitment = services.commitment_create(
        actor=request.getfixturevalue("finance"),
        line=team_line,
        vendor="Acme",
        reference="PO-1",
        amount=D("10"),
        currency="USD",
        period=month(12),
    )
    entries = BudgetEntry.objects.count()
    posts = [
        (
            reverse("budgets:home") + "?action=budget",
            {"fiscal_year": budget.fiscal_year.pk, "name": "x", "kind": "reforecast", "target": "1"},
        ),
        (reverse("budgets:home") + f"?action=line&budget={budget.pk}", {"name": "Sneaky"}),
        (reverse("budgets:phasing", args=[team_line.pk]), {"spread": "1", "total": "12", "profile": "flat"}),
        (reverse("budgets:phasing-upload", args=[budget.pk]), {}),
        (reverse("budgets:commitments"), {"vendor": "x"}),
        (reverse("budgets:commitment-close", args=[commitment.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("budgets:phasing-upload", args=[budget.pk])).status_code == 403
    assert BudgetEntry.objects.count() == entries
    assert Budget.objects.count() == 1
    commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.OPEN


# --- the tree ---------------------------------------------------------------------------------


def test_home_shows_tree_with_measures(as_user, cmo, budget, team_line, search_line):
    response = as_user(cmo).get(reverse("budgets:home"))
    body = response.content.decode()
    assert response.context["budget"] == budget
    rows = {row.line: row for row in response.context["tree"]}
    assert [row.line for row in response.context["tree"]] == [team_line, search_line]
    assert rows[search_line].depth == 1
    assert rows[team_line].budget == D("1200000.00")
    assert rows[search_line].available == D("720000.00")
    assert response.context["top_total"] == D("1200000.00")
    assert "1,200,000.00" in body
    assert reverse("budgets:phasing", args=[search_line.pk]) in body
    assert "New budget version" not in body  # the CMO reads only


def test_finance_creates_a_version_and_a_line(as_user, finance, budget, team_line, year, team):
    client = as_user(finance)
    response = client.post(
        reverse("budgets:home") + "?action=budget",
        {"fiscal_year": year.pk, "name": "FY2026 reforecast 1", "kind": "reforecast", "target": "900000"},
    )
    reforecast = Budget.objects.get(name="FY2026 reforecast 1")
    assert response.status_code == 302 and reforecast.is_current and reforecast.version == 2
    page = client.get(reverse("budgets:home"))
    assert page.context["budget"] == reforecast
    assert [v.pk for v in page.context["versions"]] == [budget.pk, reforecast.pk]
    assert [v.phased for v in page.context["versions"]] == [D("1200000.00"), D("0.00")]
    old = client.get(reverse("budgets:home") + f"?budget={budget.pk}")
    assert old.context["budget"] == budget and old.context["tree"][0].line == team_line

    response = client.post(
        reverse("budgets:home") + f"?action=line&budget={reforecast.pk}",
        {"name": "Events", "code": "events", "team": team.pk, "is_soft": "on"},
    )
    line = BudgetLine.objects.get(budget=reforecast, code="events")
    assert response.status_code == 302 and line.is_soft and line.team == team
    duplicate = client.post(
        reverse("budgets:home") + f"?action=line&budget={reforecast.pk}", {"name": "Events again", "code": "events"}
    )
    assert duplicate.status_code == 200 and duplicate.context["line_form"].errors


def _many_lines(finance, budget, count):
    top = services.line_create(actor=finance, budget=budget, name="Top", code="top", is_soft=True)
    for i in range(count - 1):
        services.line_create(actor=finance, budget=budget, name=f"Line {i}", code=f"line-{i:02d}", parent=top)


@pytest.mark.parametrize("count", [5, 40])
def test_tree_query_count_is_bounded(as_user, finance, budget, count, django_assert_max_num_queries):
    _many_lines(finance, budget, count)
    client = as_user(finance)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("budgets:home"))
    assert len(response.context["tree"]) == count


def test_tree_query_count_is_the_same_for_5_and_40_lines(as_user, finance, budget, year):
    other = services.budget_create(actor=finance, fiscal_year=year, name="Reforecast", target=D("1"))
    _many_lines(finance, budget, 5)
    _many_lines(finance, other, 40)
    client = as_user(finance)
    counts = []
    for version in (budget, other):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("budgets:home") + f"?budget={version.pk}")
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- the phasing grid -------------------------------------------------------------------------


def test_typed_phasing(as_user, finance, team_line, month):
    client = as_user(finance)
    data = {f"m{month(m).pk}": "100000" for m in range(1, 13)}
    data[f"m{month(3).pk}"] = "123.45"
    response = client.post(reverse("budgets:phasing", args=[team_line.pk]), {**data, "save": "1", "note": "typed"})
    assert response.status_code == 302
    assert cells_of(team_line, month)[2] == D("123.45")
    entry = BudgetEntry.objects.filter(line=team_line).latest("id")
    assert entry.amount == D("-99876.55") and entry.note == "typed" and entry.created_by == finance
    page = client.get(reverse("budgets:phasing", args=[team_line.pk]))
    assert "-99,876.55" in page.content.decode()


def test_spread_evenly_distributes_the_cents(as_user, finance, budget, month):
    line = services.line_create(actor=finance, budget=budget, name="Web", code="web")
    response = as_user(finance).post(
        reverse("budgets:phasing", args=[line.pk]), {"spread": "1", "total": "1000.00", "profile": "flat"}
    )
    assert response.status_code == 302
    amounts = cells_of(line, month)
    assert sum(amounts) == D("1000.00")
    assert amounts == [D("83.34")] * 4 + [D("83.33")] * 8


def test_spread_by_profile_is_exact(as_user, finance, budget, month):
    line = services.line_create(actor=finance, budget=budget, name="Brand", code="brand")
    as_user(finance).post(
        reverse("budgets:phasing", args=[line.pk]), {"spread": "1", "total": "99999.99", "profile": "q4-peak"}
    )
    amounts = cells_of(line, month)
    assert sum(amounts) == D("99999.99")
    assert amounts[11] > amounts[0]
    assert all(a == a.quantize(D("0.01")) for a in amounts)


def test_spread_skips_closed_months(as_user, finance, budget, month):
    line = services.line_create(actor=finance, budget=budget, name="Social", code="social")
    first = month(1)
    first.is_closed = True
    first.save()
    as_user(finance).post(
        reverse("budgets:phasing", args=[line.pk]), {"spread": "1", "total": "110", "profile": "flat"}
    )
    amounts = cells_of(line, month)
    assert amounts[0] == 0 and amounts[1:] == [D("10.00")] * 11


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (D("0.10"), [1, 1, 1], [D("0.04"), D("0.03"), D("0.03")]),
        (D("100"), [1, 2, 1], [D("25.00"), D("50.00"), D("25.00")]),
        (D("0.01"), [1] * 12, [D("0.01")] + [D("0.00")] * 11),
    ],
)
def test_spread_unit(total, weights, expected):
    assert phasing.spread(total, weights) == expected


def test_hard_limit_error_is_shown_and_nothing_written(as_user, finance, search_line, month):
    entries = BudgetEntry.objects.count()
    data = {f"m{month(m).pk}": "60000" for m in range(1, 13)}
    data[f"m{month(5).pk}"] = "150000"
    response = as_user(finance).post(reverse("budgets:phasing", args=[search_line.pk]), {**data, "save": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "more than its 100000" in body
    assert 'value="150000"' in body  # the input is kept
    assert BudgetEntry.objects.count() == entries


def test_soft_parent_warns(as_user, finance, budget, month):
    parent = services.line_create(actor=finance, budget=budget, name="Soft", code="soft", is_soft=True)
    child = services.line_create(actor=finance, budget=budget, name="Kid", code="kid", parent=parent)
    response = as_user(finance).post(
        reverse("budgets:phasing", args=[child.pk]), {"spread": "1", "total": "1200", "profile": "flat"}, follow=True
    )
    assert "would add up to" in response.content.decode()
    assert sum(cells_of(child, month)) == D("1200.00")


# --- the phasing file -------------------------------------------------------------------------


@pytest.fixture
def odd_amounts(finance, search_line, month):
    services.phasing_set(actor=finance, line=search_line, amounts={month(2): D("1234.56"), month(3): D("0.10")})
    return search_line


def _download(client, budget, fmt):
    response = client.get(reverse("budgets:phasing-download", args=[budget.pk]) + f"?format={fmt}")
    assert response.status_code == 200
    return response.content


def _upload(client, budget, name, content):
    return client.post(reverse("budgets:phasing-upload", args=[budget.pk]), {"file": SimpleUploadedFile(name, content)})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_changes_nothing(as_user, finance, budget, odd_amounts, fmt):
    client = as_user(finance)
    content = _download(client, budget, fmt)
    entries = BudgetEntry.objects.count()
    response = _upload(client, budget, f"phasing.{fmt}", content)
    assert response.status_code == 302, response.context["form"].errors
    assert BudgetEntry.objects.count() == entries


def test_csv_layout(as_user, finance, budget, team_line, odd_amounts):
    rows = list(csv.reader(io.StringIO(_download(as_user(finance), budget, "csv").decode())))
    assert rows[0][:4] == ["code", "name", "parent code", "2026-01"] and len(rows[0]) == 15
    assert rows[2][:6] == ["na-paid-search", "NA paid search", "north-america", "60000.00", "1234.56", "0.10"]


def test_xlsx_holds_numbers(as_user, finance, budget, odd_amounts):
    sheet = load_workbook(io.BytesIO(_download(as_user(finance), budget, "xlsx"))).active
    assert sheet.cell(3, 5).value == 1234.56 and sheet.cell(3, 6).value == 0.1


def test_formula_text_is_neutralised(as_user, finance, budget):
    services.line_create(actor=finance, budget=budget, name="=HYPERLINK(1)", code="evil")
    client = as_user(finance)
    rows = list(csv.reader(io.StringIO(_download(client, budget, "csv").decode())))
    assert rows[1][1] == "'=HYPERLINK(1)"
    sheet = load_workbook(io.BytesIO(_download(client, budget, "xlsx"))).active
    assert sheet.cell(2, 2).value == "'=HYPERLINK(1)" and sheet.cell(2, 2).data_type == "s"


def test_upload_applies_differences(as_user, finance, budget, team_line, odd_amounts, month):
    client = as_user(finance)
    rows = list(csv.reader(io.StringIO(_download(client, budget, "csv").decode())))
    rows[2][3 + 3] = "999.99"  # April of the search line
    rows[1][3 + 0] = "110000.00"  # January of the parent
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    entries = BudgetEntry.objects.count()
    response = _upload(client, budget, "p.csv", out.getvalue().encode())
    assert response.status_code == 302
    assert BudgetEntry.objects.count() == entries + 2
    assert cells_of(odd_amounts, month)[3] == D("999.99")
    assert cells_of(team_line, month)[0] == D("110000.00")


def test_upload_moves_parent_and_children_down_together(as_user, finance, budget, team_line, search_line, month):
    client = as_user(finance)
    rows = list(csv.reader(io.StringIO(_download(client, budget, "csv").decode())))
    rows[1][3] = "50000.00"  # the parent drops below its child's 60,000 …
    rows[2][3] = "40000.00"  # … and the child drops with it: fine as a whole
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    assert _upload(client, budget, "p.csv", out.getvalue().encode()).status_code == 302
    assert cells_of(team_line, month)[0] == D("50000.00") and cells_of(search_line, month)[0] == D("40000.00")


def test_bad_upload_is_reported_by_row_and_applies_nothing(as_user, finance, budget, team_line, search_line):
    client = as_user(finance)
    rows = list(csv.reader(io.StringIO(_download(client, budget, "csv").decode())))
    rows[1][4] = "12,5x"
    rows[2][5] = "-3"
    rows.append(["nope", "Unknown", "", *["1"] * 12])
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    entries = BudgetEntry.objects.count()
    response = _upload(client, budget, "bad.csv", out.getvalue().encode())
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Row 2, 2026-02" in errors and "Row 3, 2026-03" in errors and "Row 4: no line" in errors
    assert BudgetEntry.objects.count() == entries


def test_bad_xlsx_month_and_hard_limit(as_user, finance, budget, team_line, search_line):
    client = as_user(finance)
    book = Workbook()
    book.active.append(["code", "name", "parent code", "2025-12"])
    out = io.BytesIO()
    book.save(out)
    response = _upload(client, budget, "x.xlsx", out.getvalue())
    assert "Row 1: 2025-12 is not a month" in " ".join(response.context["form"].non_field_errors())

    book = Workbook()
    book.active.append(["code", "name", "parent code", "2026-01"])
    book.active.append(["north-america", "North America", "", 100000])
    book.active.append(["na-paid-search", "NA paid search", "north-america", 150000.5])
    out = io.BytesIO()
    book.save(out)
    entries = BudgetEntry.objects.count()
    response = _upload(client, budget, "x.xlsx", out.getvalue())
    assert "Row 3: Jan 2026: the lines under North America would add up to" in " ".join(
        response.context["form"].non_field_errors()
    )
    assert BudgetEntry.objects.count() == entries


def test_not_a_spreadsheet(as_user, finance, budget):
    response = _upload(as_user(finance), budget, "x.xlsx", b"PK\x03\x04garbage")
    assert "not a readable XLSX" in " ".join(response.context["form"].non_field_errors())


# --- commitments ------------------------------------------------------------------------------


def test_finance_records_lists_and_closes_a_commitment(as_user, finance, cmo, team_line, campaign, month):
    client = as_user(finance)
    response = client.post(
        reverse("budgets:commitments"),
        {
            "line": team_line.pk,
            "campaign": campaign.pk,
            "vendor": "Acme Media",
            "reference": "PO-42",
            "amount": "2500.50",
            "currency": "USD",
            "period": month(12).pk,
        },
    )
    assert response.status_code == 302
    commitment = Commitment.objects.get(reference="PO-42")
    assert commitment.amount_base == D("2500.50")
    listing = as_user(cmo).get(reverse("budgets:commitments"))
    row = listing.context["commitments"][0]
    assert row.invoiced == 0 and row.remaining == D("2500.50")
    assert "PO-42" in listing.content.decode() and "Close</button>" not in listing.content.decode()

    client = as_user(finance)
    assert client.post(reverse("budgets:commitment-close", args=[commitment.pk])).status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == CommitmentStatus.CLOSED
    assert not client.get(reverse("budgets:commitments")).context["commitments"]
    assert client.get(reverse("budgets:commitments") + "?status=closed").context["commitments"][0] == commitment


def test_commitment_errors_on_the_form(as_user, finance, team_line, month):
    Currency.objects.get_or_create(code="EUR", defaults={"name": "Euro"})
    december = month(12)
    client = as_user(finance)
    data = {"line": team_line.pk, "vendor": "Acme", "reference": "PO-7", "amount": "10", "period": december.pk}
    response = client.post(reverse("budgets:commitments"), {**data, "currency": "EUR"})
    assert response.status_code == 200 and response.context["form"].errors["currency"]
    december.is_closed = True
    december.save()
    response = client.post(reverse("budgets:commitments"), {**data, "currency": "USD"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not Commitment.objects.exists()


# --- every error in one pass; nothing refused in silence (issue 19, 3b) ------------------------


def _close(period):
    period.is_closed = True
    period.save(update_fields=["is_closed"])


def test_an_upload_names_closed_month_hierarchy_and_cell_errors_in_one_pass(
    as_user, finance, budget, team_line, search_line, month
):
    client = as_user(finance)
    rows = list(csv.reader(io.StringIO(_download(client, budget, "csv").decode())))
    _close(month(1))
    rows[1][3] = "100001.00"  # January of the parent: a closed month
    rows[1][4] = "12,5x"  # February of the parent: not an amount
    rows[2][5] = "150000.00"  # March of the sub-line: more than its hard parent's 100,000
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    entries = BudgetEntry.objects.count()
    response = _upload(client, budget, "p.csv", out.getvalue().encode())
    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert (
        "Row 2, 2026-01: Jan 2026 is closed by finance, so its budget stays 100,000.00 (the file has 100,001.00)."
        in errors
    )
    assert any(e.startswith("Row 2, 2026-02:") for e in errors)
    assert any(e.startswith("Row 3:") and "the lines under North America" in e for e in errors), errors
    assert BudgetEntry.objects.count() == entries


def test_a_forged_amount_for_a_closed_month_is_refused_with_what_was_refused(as_user, finance, team_line, month):
    _close(month(1))
    data = {f"m{month(m).pk}": "100000" for m in range(1, 13)}
    data[f"m{month(1).pk}"] = "5"  # the field is disabled on the page; a forged post sends it anyway
    data[f"m{month(2).pk}"] = "90000"
    entries = BudgetEntry.objects.count()
    response = as_user(finance).post(reverse("budgets:phasing", args=[team_line.pk]), {**data, "save": "1"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Jan 2026 is closed by finance: its budget stays 100,000.00; the amount sent for it (5) was refused."
    ]
    assert BudgetEntry.objects.count() == entries  # February did not change either: nothing half-done


def test_phasing_set_names_every_closed_month_and_bad_amount_at_once(finance, team_line, month):
    from django.core.exceptions import ValidationError

    _close(month(1))
    _close(month(2))
    with pytest.raises(ValidationError) as refused:
        services.phasing_set(
            actor=finance, line=team_line, amounts={month(1): D("1"), month(2): D("2"), month(3): D("-1")}
        )
    assert refused.value.messages == [
        "Jan 2026 is closed by finance: its budget cannot change.",
        "Feb 2026 is closed by finance: its budget cannot change.",
        "Mar 2026: the amount must be zero or more.",
    ]


# --- one money bound on every budget write (issue 19, section 5) -------------------------------

TOO_MUCH = D("1000000000000.00")  # a trillion: past MONEY_MAX


def test_budget_writes_refuse_an_amount_past_the_money_bound_naming_the_limit(
    finance, budget, team_line, search_line, month
):
    from django.core.exceptions import ValidationError

    from mops.money import MONEY_MAX_TEXT

    def refused(call, **kwargs):
        with pytest.raises(ValidationError) as error:
            call(actor=finance, **kwargs)
        assert MONEY_MAX_TEXT in " ".join(error.value.messages), error.value.messages

    refused(services.phasing_set, line=team_line, amounts={month(4): TOO_MUCH})
    refused(services.budget_create, fiscal_year=budget.fiscal_year, name="Huge", target=TOO_MUCH)
    refused(
        services.commitment_create,
        line=team_line,
        vendor="Acme",
        reference="PO-9",
        amount=TOO_MUCH,
        currency="USD",
        period=month(4),
    )
    refused(
        transfer_services.transfer_request_create,
        from_line=team_line,
        from_period=month(4),
        to_line=search_line,
        to_period=month(5),
        amount=TOO_MUCH,
        reason="Too much",
    )
    refused(transfer_services.carry_forward, line=team_line, from_period=month(4), to_period=month(5), amount=TOO_MUCH)
    assert not Commitment.objects.exists()


def test_an_upload_past_the_money_bound_names_the_row_and_the_limit(as_user, finance, budget, team_line):
    from mops.money import MONEY_MAX_TEXT

    client = as_user(finance)
    rows = list(csv.reader(io.StringIO(_download(client, budget, "csv").decode())))
    rows[1][6] = str(TOO_MUCH)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    response = _upload(client, budget, "p.csv", out.getvalue().encode())
    errors = response.context["form"].non_field_errors()
    assert errors == [f"Row 2, 2026-04: the amount must be between -{MONEY_MAX_TEXT} and {MONEY_MAX_TEXT}."]
