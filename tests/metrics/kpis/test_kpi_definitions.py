"""Custom KPI definitions: the service (versions, validation in plain words, hostile formulas, loops,
deactivation, audit) and the pages (who may do what, form errors, the live preview against a hand
computation on created facts)."""

import datetime
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from metrics.kpis import selectors as kpi_selectors
from metrics.kpis import services as kpi_services
from metrics.kpis.models import KpiDefinition
from metrics.rollups import selectors, services
from mops.errors import Conflict
from mops.models import AuditEvent
from mops.roles import Role
from planning.fiscal import fiscal_year_bounds, fiscal_year_of
from tests.factories import CampaignFactory, ChannelFactory, UserFactory
from tests.workflows.test_race import run_at_once

pytestmark = pytest.mark.django_db
D = Decimal


def define(actor, code="rev_per_lead", formula="revenue / leads", **fields):
    fields = {"name": code.replace("_", " ").capitalize(), "unit": "money", "direction": "higher", **fields}
    return kpi_services.kpi_definition_create(actor=actor, code=code, formula=formula, **fields)


def field_errors(excinfo) -> dict:
    return excinfo.value.message_dict


# --- service: create, versions, deactivate --------------------------------------------------------


def test_create_then_change_keeps_every_version_and_one_current(ops_admin):
    first = define(ops_admin, description="Won revenue per lead")
    second = kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="revenue / mqls")
    third = kpi_services.kpi_definition_update(actor=ops_admin, definition=second, name="Revenue per MQL")

    assert [(d.version, d.is_current) for d in kpi_selectors.definition_versions("rev_per_lead")] == [
        (3, True),
        (2, False),
        (1, False),
    ]
    first.refresh_from_db()
    assert (first.formula, first.is_current) == ("revenue / leads", False)  # the old version is left as it was
    assert (third.formula, third.name) == ("revenue / mqls", "Revenue per MQL")
    assert third.description == "Won revenue per lead"  # fields not changed carry over
    catalogue = kpi_selectors.kpi_catalogue()
    assert (catalogue["rev_per_lead"].version, catalogue["rev_per_lead"].formula) == (3, "revenue / mqls")


def test_a_change_that_changes_nothing_saves_no_version(ops_admin):
    first = define(ops_admin)
    same = kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="  revenue / leads ")
    assert same.pk == first.pk
    assert KpiDefinition.objects.count() == 1


def test_changing_an_old_version_is_a_conflict_not_an_overwrite(ops_admin):
    first = define(ops_admin)
    kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="revenue / mqls")
    with pytest.raises(Conflict, match="no longer current"):
        kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="revenue / sqls")
    assert KpiDefinition.objects.count() == 2


def test_every_change_is_audited_with_before_and_after(ops_admin):
    first = define(ops_admin)
    second = kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="revenue / mqls")
    kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=second)
    kpi_services.kpi_definition_reactivate(actor=ops_admin, definition=second)

    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == [
        "kpidefinition.create",
        "kpidefinition.update",
        "kpidefinition.deactivate",
        "kpidefinition.reactivate",
    ]
    assert all(e.actor == ops_admin for e in events)
    create, update, deactivate, _ = events
    assert create.before is None and create.after["formula"] == "revenue / leads"
    assert (update.before["version"], update.before["formula"]) == (1, "revenue / leads")
    assert (update.after["version"], update.after["formula"]) == (2, "revenue / mqls")
    assert update.object_id == str(second.pk)
    assert (deactivate.before["is_active"], deactivate.after["is_active"]) == (True, False)


@pytest.mark.parametrize("who", ["marketer", "cmo", "finance"])
def test_only_ops_admins_define_change_or_deactivate(request, who, ops_admin):
    user = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        define(user)
    definition = define(ops_admin)
    with pytest.raises(PermissionDenied):
        kpi_services.kpi_definition_update(actor=user, definition=definition, formula="revenue / mqls")
    with pytest.raises(PermissionDenied):
        kpi_services.kpi_definition_deactivate(actor=user, definition=definition)
    assert AuditEvent.objects.filter(actor=user).count() == 0


def test_deactivated_kpis_leave_the_catalogue_and_come_back(ops_admin):
    definition = define(ops_admin)
    kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=definition)
    assert "rev_per_lead" not in kpi_selectors.kpi_catalogue()
    with pytest.raises(Conflict, match="deactivated"):
        kpi_services.kpi_definition_update(actor=ops_admin, definition=definition, formula="revenue / mqls")
    with pytest.raises(Conflict):
        kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=definition)
    # Its code stays taken: a deactivated KPI is reactivated, not redefined.
    with pytest.raises(ValidationError) as error:
        define(ops_admin)
    assert "exists already" in field_errors(error)["code"][0]
    kpi_services.kpi_definition_reactivate(actor=ops_admin, definition=definition)
    assert kpi_selectors.kpi_catalogue()["rev_per_lead"].version == 1


def test_a_kpi_another_kpi_uses_cannot_be_deactivated(ops_admin):
    base = define(ops_admin)
    define(ops_admin, code="rev_per_lead_net", formula="rev_per_lead - cpl")
    with pytest.raises(Conflict, match="used in the formula of rev_per_lead_net"):
        kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=base)
    base.refresh_from_db()
    assert base.is_active


def test_reactivation_rechecks_the_formula_against_todays_catalogue(ops_admin):
    base = define(ops_admin)
    user = define(ops_admin, code="rev_per_lead_net", formula="rev_per_lead - cpl")
    kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=user)
    kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=base)
    with pytest.raises(ValidationError) as error:
        kpi_services.kpi_definition_reactivate(actor=ops_admin, definition=user)
    assert "rev_per_lead" in field_errors(error)["formula"][0]


# --- service: validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "says"),
    [
        ("__import__('os').system('id')", "Only + − × ÷"),
        ("spend.__class__", "attribute"),
        ("open('/etc/passwd')", "a call to open"),
        ("(lambda: 1)()", "Only + − × ÷"),
        ("spend ** 1000000", "A power (**) needs a whole number"),
        ("9 ** 9 ** 9", "A power (**) needs a whole number"),
        ("1e999999", "out of range"),
        ("spend /", "could not be read"),
        ("sepnd / leads", "did you mean spend?"),
        ("spend ÷ leads", "Write ÷ as /"),
        ("", "empty"),
        ("(" * 40 + "spend" + ")" * 40, "nested too deeply"),
    ],
)
def test_bad_and_hostile_formulas_are_refused_in_plain_words(ops_admin, formula, says):
    with pytest.raises(ValidationError) as error:
        define(ops_admin, formula=formula)
    assert list(field_errors(error)) == ["formula"]
    assert says in field_errors(error)["formula"][0]
    assert not KpiDefinition.objects.exists()
    assert not AuditEvent.objects.exists()


def test_division_by_zero_is_no_value_not_an_error(ops_admin):
    define(ops_admin, code="never", formula="spend / 0")
    values = kpi_selectors.with_kpis([selectors.total([])], ["never"], kpi_selectors.kpi_catalogue())[0].values
    assert values == {"never": None}


def test_a_change_that_would_make_a_loop_is_refused(ops_admin):
    first = define(ops_admin, code="alpha", formula="spend / leads")
    define(ops_admin, code="beta", formula="alpha * 2")
    with pytest.raises(ValidationError) as error:
        kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="beta + 1")
    assert "loop: alpha → beta → alpha" in field_errors(error)["formula"][0]
    with pytest.raises(ValidationError) as error:
        define(ops_admin, code="gamma", formula="gamma + 1")
    assert "uses gamma itself" in field_errors(error)["formula"][0]
    assert KpiDefinition.objects.filter(code="alpha").get().formula == "spend / leads"


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"code": "cpl"}, "code", "taken by a built-in"),
        ({"code": "spend"}, "code", "taken by a built-in"),
        ({"code": "max"}, "code", "taken by a built-in"),
        ({"code": "Bad-Code"}, "code", "not valid"),
        ({"name": "   "}, "name", "Give the KPI a name"),
        ({"unit": "furlongs"}, "unit", "Choose a unit"),
        ({"direction": "sideways"}, "direction", "higher or lower"),
        ({"description": "x" * 201}, "description", "the limit is 200"),
    ],
)
def test_other_fields_are_checked_too(ops_admin, fields, field, says):
    with pytest.raises(ValidationError) as error:
        define(ops_admin, **fields)
    assert says in field_errors(error)[field][0]


def test_a_bad_code_and_a_bad_formula_are_both_reported(ops_admin):
    with pytest.raises(ValidationError) as error:
        define(ops_admin, code="1x", formula="spend +")
    assert set(field_errors(error)) == {"code", "formula"}


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def fiscal_year():
    year = fiscal_year_of(timezone.localdate())
    return year, *fiscal_year_bounds(year)


@pytest.fixture
def facts(fiscal_year, team, marketer):
    """Two channels with spend and results this fiscal year, folded into the rollups."""
    _, start, end = fiscal_year
    search = ChannelFactory(name="Paid search", slug="paid-search")
    events = ChannelFactory(name="Events", slug="events")
    for channel, spend, leads, revenue in (
        (search, (D("1000.00"), D("500.00")), (40, 10), D("3000.00")),
        (events, (D("2000.00"),), (25,), D("1000.00")),
    ):
        campaign = CampaignFactory(team=team, owner=marketer, channel=channel, start_date=start, end_date=end)
        for day, amount in enumerate(spend):
            date = start + datetime.timedelta(days=day)
            campaign_services.spend_log(actor=marketer, campaign=campaign, date=date, amount=amount, currency="USD")
        for day, count in enumerate(leads):
            date = start + datetime.timedelta(days=day)
            campaign_services.results_log(actor=marketer, campaign=campaign, date=date, leads=count)
        campaign_services.results_log(
            actor=marketer, campaign=campaign, date=start + datetime.timedelta(days=5), revenue=revenue
        )
    services.refresh_pending()
    return {"search": search, "events": events}


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [("ops_admin", 200, 200), ("cmo", 200, 403), ("finance", 200, 403), ("marketer", 403, 403)],
)
def test_pages_by_role(client, request, ops_admin, who, reads, writes):
    define(ops_admin)
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("metrics:kpi-list")).status_code == reads
    assert client.get(reverse("metrics:kpi-detail", args=["rev_per_lead"])).status_code == reads
    assert client.get(reverse("metrics:kpi-detail", args=["roi"])).status_code == reads
    assert client.get(reverse("metrics:kpi-create")).status_code == writes
    assert client.get(reverse("metrics:kpi-edit", args=["rev_per_lead"])).status_code == writes
    if writes == 403:
        new = {"code": "x_kpi", "name": "X", "formula": "spend", "unit": "money", "direction": "lower"}
        assert client.post(reverse("metrics:kpi-create"), new).status_code == 403
        deactivate = client.post(reverse("metrics:kpi-detail", args=["rev_per_lead"]), {"action": "deactivate"})
        assert deactivate.status_code == 403
        assert KpiDefinition.objects.get().is_active


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("metrics:kpi-list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_unknown_codes_are_404(client, ops_admin):
    client.force_login(ops_admin)
    assert client.get(reverse("metrics:kpi-detail", args=["nope"])).status_code == 404
    assert client.get(reverse("metrics:kpi-edit", args=["cpl"])).status_code == 404  # built-ins are not edited


def test_list_shows_built_ins_with_formulas_and_custom_kpis_with_version_and_status(client, ops_admin, cmo):
    first = define(ops_admin)
    kpi_services.kpi_definition_update(actor=ops_admin, definition=first, formula="revenue / mqls")
    define(ops_admin, code="old_one", formula="spend * 2")
    kpi_services.kpi_definition_deactivate(actor=ops_admin, definition=KpiDefinition.objects.get(code="old_one"))
    client.force_login(cmo)
    response = client.get(reverse("metrics:kpi-list"))
    html = response.content.decode()
    assert "(revenue - spend) / spend" in html  # ROI's formula
    assert [(d.code, d.version, d.is_active) for d in response.context["custom"]] == [
        ("old_one", 1, False),
        ("rev_per_lead", 2, True),
    ]
    assert "inactive" in html and "v2" in html
    assert "New KPI" not in html  # the CMO reads; only ops admins define


def test_create_page_saves_and_shows_formula_errors_on_the_field(client, ops_admin):
    client.force_login(ops_admin)
    bad = client.post(
        reverse("metrics:kpi-create"),
        {"code": "rev_per_lead", "name": "Revenue per lead", "formula": "revenu / leads", "unit": "money"}
        | {"direction": "higher"},
    )
    assert bad.status_code == 200
    assert "did you mean revenue?" in bad.context["form"].errors["formula"][0]
    assert "did you mean revenue?" in bad.content.decode()
    assert not KpiDefinition.objects.exists()

    good = client.post(
        reverse("metrics:kpi-create"),
        {"code": "rev_per_lead", "name": "Revenue per lead", "formula": "revenue / leads", "unit": "money"}
        | {"direction": "higher"},
    )
    assert good.status_code == 302
    assert good.url == reverse("metrics:kpi-detail", args=["rev_per_lead"])
    assert KpiDefinition.objects.get().created_by == ops_admin


def test_edit_page_saves_a_new_version_and_refuses_a_stale_form(client, ops_admin):
    definition = define(ops_admin)
    client.force_login(ops_admin)
    url = reverse("metrics:kpi-edit", args=["rev_per_lead"])
    assert client.get(url).context["form"].initial["version"] == 1
    data = {"name": "Revenue per MQL", "formula": "revenue / mqls", "unit": "money", "direction": "higher"}
    response = client.post(url, {**data, "version": 1})
    assert response.status_code == 302
    assert kpi_selectors.kpi_catalogue()["rev_per_lead"].version == 2
    # A second admin's form, loaded at version 1, would overwrite version 2: refused.
    stale = client.post(url, {**data, "formula": "revenue / sqls", "version": 1})
    assert stale.status_code == 200
    assert "no longer current" in str(stale.context["form"].non_field_errors())
    assert KpiDefinition.objects.count() == 2
    bad = client.post(url, {**data, "formula": "revenue / (mqls", "version": 2})
    assert "could not be read" in bad.context["form"].errors["formula"][0]
    definition.refresh_from_db()
    assert not definition.is_current


def test_detail_page_deactivates_and_reactivates(client, ops_admin):
    define(ops_admin)
    client.force_login(ops_admin)
    url = reverse("metrics:kpi-detail", args=["rev_per_lead"])
    assert client.post(url, {"action": "deactivate"}).status_code == 302
    assert not KpiDefinition.objects.get().is_active
    assert client.get(reverse("metrics:kpi-edit", args=["rev_per_lead"])).status_code == 302  # reactivate first
    assert client.post(url, {"action": "reactivate"}).status_code == 302
    assert KpiDefinition.objects.get().is_active


def test_detail_preview_equals_a_hand_computation(client, ops_admin, finance, facts, fiscal_year):
    define(ops_admin)  # revenue / leads, in money
    client.force_login(finance)
    response = client.get(reverse("metrics:kpi-detail", args=["rev_per_lead"]))
    preview = response.context["preview"]
    assert preview.fiscal_year == fiscal_year[0] and not preview.error
    # Summed revenue over summed leads — (3000 + 1000) / (40 + 10 + 25) — not the mean of 60 and 40.
    assert preview.overall.value.quantize(D("0.0001")) == D("53.3333")
    assert preview.overall.shown == "53.33"
    assert {row.label: row.value for row in preview.by_channel} == {"Events": D(40), "Paid search": D(60)}
    html = response.content.decode()
    assert "53.33" in html and "60.00" in html and "40.00" in html
    assert [v.version for v in response.context["versions"]] == [1]


def test_preview_of_a_kpi_built_on_another_and_of_a_zero_denominator(client, ops_admin, facts):
    define(ops_admin)
    define(ops_admin, code="rev_per_lead_net", formula="rev_per_lead - cpl")
    define(ops_admin, code="rev_per_mql", formula="revenue / mqls")  # no MQLs anywhere: no value
    client.force_login(ops_admin)
    net = client.get(reverse("metrics:kpi-detail", args=["rev_per_lead_net"])).context["preview"]
    # Search: 60 − 1500 / 50 = 30; events: 40 − 2000 / 25 = −40; overall 53.33… − 3500 / 75 = 6.67.
    assert {row.label: row.value for row in net.by_channel} == {"Events": D(-40), "Paid search": D(30)}
    assert net.overall.shown == "6.67"
    none = client.get(reverse("metrics:kpi-detail", args=["rev_per_mql"]))
    assert none.context["preview"].overall.value is None
    assert none.context["preview"].overall.shown == "—"


def test_form_preview_checks_and_computes_without_saving(client, ops_admin, facts):
    client.force_login(ops_admin)
    data = {"code": "spend_per_lead", "name": "Spend per lead", "formula": "spend / leads", "unit": "money"}
    response = client.post(reverse("metrics:kpi-create"), {**data, "direction": "lower", "preview": "Preview"})
    assert response.status_code == 200
    assert response.context["preview"].overall.value == D(3500) / D(75)
    assert not KpiDefinition.objects.exists()


def test_pages_take_the_same_number_of_queries_whatever_the_number_of_kpis(client, ops_admin, facts):
    client.force_login(ops_admin)
    define(ops_admin)
    urls = [reverse("metrics:kpi-list"), reverse("metrics:kpi-detail", args=["rev_per_lead"])]

    def counts():
        found = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    few = counts()
    for number in range(8):
        define(ops_admin, code=f"extra_{number}", formula=f"rev_per_lead * {number + 1}")
    assert counts() == few
    assert few[0] <= 6 and few[1] <= 12  # session, user, roles, nav badge, then the page's own reads


@pytest.mark.django_db(transaction=True)
def test_two_admins_at_once_cannot_make_a_loop_together(ops_admin, needs_postgresql, monkeypatch):
    """Each change alone is fine; both together would make alpha → beta → alpha. The catalogue lock
    makes the second wait for the first and check against it (without it both checks would pass,
    each reading the catalogue before the other's write — the slow read below makes sure of that)."""
    other_admin = UserFactory(username="otto-ops", roles=[Role.OPS_ADMIN])
    alpha = define(ops_admin, code="alpha", formula="spend / leads")
    beta = define(ops_admin, code="beta", formula="clicks / leads")
    read_catalogue = kpi_selectors.kpi_catalogue

    def slow_catalogue():
        catalogue = read_catalogue()
        time.sleep(0.3)
        return catalogue

    monkeypatch.setattr(kpi_selectors, "kpi_catalogue", slow_catalogue)
    outcomes = run_at_once(
        lambda: kpi_services.kpi_definition_update(actor=ops_admin, definition=alpha, formula="beta * 2"),
        lambda: kpi_services.kpi_definition_update(actor=other_admin, definition=beta, formula="alpha / 2"),
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(failures) == 1, outcomes
    assert "would make a loop" in failures[0].message_dict["formula"][0]
    kpis_now = read_catalogue()
    assert {kpis_now["alpha"].version, kpis_now["beta"].version} == {1, 2}
