"""Keyed spend upserts, all-or-nothing fact batches and program services."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import hooks, services
from campaigns.facts import services as fact_services
from campaigns.models import ResultFact, SpendEntry
from mops.models import AuditEvent
from planning import services as planning_services
from planning.models import Period

pytestmark = pytest.mark.django_db
D = datetime.date


def upsert(actor, campaign, **overrides):
    values = {"date": D(2026, 1, 10), "external_key": "inv-7", "amount": Decimal("50"), "currency": "USD"}
    return fact_services.spend_upsert(actor=actor, campaign=campaign, **{**values, **overrides})


def test_spend_upsert_is_one_row_per_key_audited_and_announced(
    marketer, teammate, campaign, eur_rate, django_capture_on_commit_callbacks
):
    seen = []
    hooks.facts_changed.connect(receiver := lambda sender, **kwargs: seen.append(kwargs["campaign_ids"]))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcomes = [
                upsert(marketer, campaign).outcome,
                upsert(teammate, campaign).outcome,
                upsert(teammate, campaign, amount=Decimal("60"), currency="EUR").outcome,
                upsert(marketer, campaign, external_key="inv-8").outcome,
            ]
    finally:
        hooks.facts_changed.disconnect(receiver)
    assert outcomes == ["created", "unchanged", "updated", "created"]
    entry = SpendEntry.objects.get(external_key="inv-7")
    assert (entry.amount, entry.currency, entry.amount_base, entry.source) == (
        Decimal("60.00"),
        "EUR",
        Decimal("66.00"),
        "api",
    )
    assert entry.created_by == marketer  # the creator stays; the audit says who changed it
    update = AuditEvent.objects.get(action="spend.update")
    assert (update.actor, update.before["amount"], update.after["amount"]) == (teammate, "50.00", "60.00")
    assert seen == [{campaign.pk}] * 3  # no announcement for the unchanged post


def test_spend_upsert_is_refused_like_a_single_entry(marketer, outsider, finance, campaign, team, paid_search):
    with pytest.raises(PermissionDenied):
        upsert(outsider, campaign)
    with pytest.raises(ValidationError) as error:
        upsert(marketer, campaign, currency="GBP")
    assert list(error.value.message_dict) == ["currency"]
    with pytest.raises(ValidationError) as error:
        upsert(marketer, campaign, amount=Decimal("-1"))
    assert "amount" in error.value.message_dict
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 1, 1)))
    with pytest.raises(ValidationError, match="Jan 2026 is closed"):
        upsert(marketer, campaign)
    assert not SpendEntry.objects.exists()


def test_batch_checks_cost_the_same_for_any_number_of_rows(marketer, campaign, eur_rate, django_assert_num_queries):
    def rows(count):
        return {
            n: {"campaign": campaign, "date": D(2026, 1, 1) + datetime.timedelta(days=n), "currency": "EUR"}
            for n in range(count)
        }

    for count in (10, 40):
        marketer._mops_roles = None  # as on a new request
        with django_assert_num_queries(4):  # closed months, EUR rate, roles, membership
            assert fact_services.fact_batch_errors(actor=marketer, rows=rows(count)) == {}


def test_batch_checks_report_every_refused_row(marketer, finance, outsider, campaign, other_team, fiscal_2026):
    from tests.factories import CampaignFactory

    theirs = CampaignFactory(team=other_team, owner=outsider)
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 2, 1)))
    errors = fact_services.fact_batch_errors(
        actor=marketer,
        rows={
            0: {"campaign": campaign, "date": D(2026, 1, 5), "currency": "USD"},
            1: {"campaign": theirs, "date": D(2026, 1, 5), "currency": "USD"},
            2: {"campaign": campaign, "date": D(2026, 2, 5), "currency": "JPY"},
            3: {"campaign": campaign, "date": D(2026, 3, 5)},
        },
    )
    assert {index: sorted(fields) for index, fields in errors.items()} == {1: ["campaign"], 2: ["currency", "date"]}


def test_a_row_refused_while_writing_undoes_the_whole_batch(marketer, finance, campaign, monkeypatch):
    # A month closes between the check and the write: the service refuses the row, nothing stays.
    monkeypatch.setattr(fact_services, "fact_batch_errors", lambda **kwargs: {})
    planning_services.period_close(actor=finance, period=Period.objects.get(start_date=D(2026, 2, 1)))
    rows = [
        {"campaign": campaign, "date": D(2026, 1, 5), "leads": 3, "source": "api"},
        {"campaign": campaign, "date": D(2026, 2, 5), "leads": 4, "source": "api"},
    ]
    with pytest.raises(fact_services.BatchInvalid) as error:
        fact_services.results_batch_write(actor=marketer, rows=rows)
    assert list(error.value.errors) == [1] and "date" in error.value.errors[1]
    assert not ResultFact.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="results.").exists()


def test_spend_batch_mixes_keyed_upserts_and_plain_entries(marketer, campaign):
    rows = [
        {"campaign": campaign, "date": D(2026, 1, 5), "amount": Decimal(10), "currency": "USD", "external_key": "a"},
        {"campaign": campaign, "date": D(2026, 1, 5), "amount": Decimal(10), "currency": "USD"},
    ]
    assert fact_services.spend_batch_write(actor=marketer, rows=rows) == {"created": 2}
    assert fact_services.spend_batch_write(actor=marketer, rows=rows) == {"unchanged": 1, "created": 1}
    assert SpendEntry.objects.filter(external_key="a").count() == 1
    assert SpendEntry.objects.filter(external_key=None).count() == 2  # hand-entered invoices repeat freely


@pytest.mark.parametrize("who", ["cmo", "finance"])
def test_only_marketers_and_ops_admins_manage_programs(request, who, marketer):
    with pytest.raises(PermissionDenied):
        services.program_create(actor=request.getfixturevalue(who), name="Mine")
    program = services.program_create(actor=marketer, name="Partner Summit 2026")
    assert program.code == "partner-summit-2026"
    with pytest.raises(PermissionDenied):
        services.program_update(actor=request.getfixturevalue(who), program=program, name="Theirs")
    with pytest.raises(ValidationError):
        services.program_create(actor=marketer, name="Partner Summit 2026")  # the code is taken


def test_campaign_totals_come_from_subqueries(marketer, campaign, django_assert_num_queries):
    from campaigns.facts.selectors import with_totals
    from campaigns.models import Campaign

    services.spend_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), amount=Decimal("12.5"), currency="USD")
    services.results_log(actor=marketer, campaign=campaign, date=D(2026, 1, 5), leads=2, pipeline=Decimal(900))
    with django_assert_num_queries(1):
        found = with_totals(Campaign.objects.all()).get()
    assert (found.spend_base, found.leads, found.pipeline, found.revenue) == (
        Decimal("12.50"),
        2,
        Decimal("900.00"),
        Decimal("0.00"),
    )


def test_a_batch_names_every_row_past_the_money_bound_before_writing(marketer, campaign):
    """Checked with the batch's other rules, so the answer names every such row, not the first."""
    from mops.money import money_bound_message

    rows = [
        {"campaign": campaign, "date": D(2026, 1, 10), "amount": Decimal("1"), "currency": "USD"},
        {"campaign": campaign, "date": D(2026, 1, 11), "amount": Decimal("1e308"), "currency": "USD"},
        {"campaign": campaign, "date": D(2026, 1, 12), "amount": Decimal("NaN"), "currency": "USD"},
        {"campaign": campaign, "date": D(2026, 1, 13), "amount": Decimal("1000000000000"), "currency": "USD"},
    ]
    with pytest.raises(fact_services.BatchInvalid) as error:
        fact_services.spend_batch_write(actor=marketer, rows=rows)
    assert error.value.errors == {index: {"amount": [money_bound_message("Amount")]} for index in (1, 2, 3)}
    results = [{"campaign": campaign, "date": D(2026, 1, 10), "source": "api", "revenue": Decimal("Infinity")}]
    with pytest.raises(fact_services.BatchInvalid) as error:
        fact_services.results_batch_write(actor=marketer, rows=results)
    assert error.value.errors == {0: {"revenue": [money_bound_message("Revenue")]}}
    assert not SpendEntry.objects.exists() and not ResultFact.objects.exists()
