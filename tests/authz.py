"""A small organisation for authorization tests: the same set of real objects for each of two teams
(campaign, tactic, spend, results, import, attachment, budget line, commitment, allocation request,
transfer, general request, delegation, response model, scenario …) plus what the organisation shares
(fiscal year, taxonomy, objective, budget, workflow templates, a KPI definition), and PostgreSQL's
per-transaction row counters, so that a refused request can be shown to have written nothing."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from budgets import services as budget_services
from budgets.models import AllocationRequest
from budgets.requests import services as request_services
from budgets.transfers import services as transfer_services
from campaigns import services as campaign_services
from campaigns.attachments import services as attachment_services
from campaigns.imports.services import import_upload
from campaigns.models import AttachmentKind, ImportBatch
from metrics.kpis import services as kpi_services
from metrics.scenarios.models import ResponseModel, Scenario
from mops.models import Membership
from mops.roles import Role
from planning import services as planning_services
from planning.models import Period, Region, Segment
from tests.factories import CampaignFactory, ChannelFactory, FxRateFactory, UserFactory
from tests.workflows.conftest import step
from workflows import services as workflow_services
from workflows import subjects as workflow_subjects
from workflows.models import StepStatus, StepTask, WorkflowInstance

D = Decimal
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SPEND_CSV = b"Date,Campaign,Channel,Spend,Currency\n2026-01-05,some-campaign,Paid search,100.00,USD\n"


@dataclass
class World:
    """What one team owns (ids and slugs, ready for URLs) — plus, in ``shared``, what everyone shares."""

    team: object
    ids: dict = field(default_factory=dict)


def build_shared(*, finance, cmo, ops_admin) -> dict:
    """Objects every team shares: fiscal year 2026, taxonomy, an objective, an FX rate, the FY2026
    budget, the workflow templates money and general requests need, a custom KPI."""
    year = planning_services.fiscal_year_ensure(year=2026)
    january = Period.objects.get(start_date=datetime.date(2026, 1, 1))
    february = Period.objects.get(start_date=datetime.date(2026, 2, 1))
    channel = ChannelFactory(name="Paid search", slug="paid-search")
    region = Region.objects.create(name="North", code="north")
    segment = Segment.objects.create(name="Enterprise", code="enterprise", kind="size")
    objective = planning_services.objective_create(actor=cmo, fiscal_year=year, name="Grow pipeline")
    rate = FxRateFactory(currency_id="EUR", date=datetime.date(2026, 1, 1), rate=D("1.10"))
    budget = budget_services.budget_create(actor=finance, fiscal_year=year, name="FY2026 marketing", target=D("1e6"))
    finance_step = [step("Finance approval", stage=1, role=Role.FINANCE)]
    templates = {
        key: workflow_services.template_create(actor=ops_admin, name=name, subject_type=key, steps=finance_step)
        for key, name in [
            ("budget_allocation", "Budget allocation request"),
            ("budget_transfer", "Budget transfer"),
            (workflow_subjects.GENERAL_REQUEST, "General request"),
        ]
    }
    kpi = kpi_services.kpi_definition_create(
        actor=ops_admin, code="rev_per_lead", name="Revenue per lead", formula="revenue / leads"
    )
    return {
        "year": year,
        "january": january,
        "february": february,
        "channel": channel,
        "budget": budget,
        "templates": templates,
        "ids": {
            "fiscal_year": year.pk,
            "period": january.pk,
            "channel": channel.pk,
            "region": region.pk,
            "segment": segment.pk,
            "objective": objective.pk,
            "fx_rate": rate.pk,
            "currency": "EUR",
            "budget": budget.pk,
            "template": templates[workflow_subjects.GENERAL_REQUEST].slug,
            "subject_type": workflow_subjects.GENERAL_REQUEST,
            "kpi": kpi.code,
        },
    }


def build_team_world(*, shared: dict, team, owner, finance) -> World:
    """Everything ``owner`` (a marketer of ``team``) and finance set up for ``team``."""
    slug = team.slug
    teammate = UserFactory(username=f"{slug}-teammate", roles=[Role.MARKETER], teams=[team])
    program = campaign_services.program_create(actor=owner, name=f"{slug} program", code=f"{slug}-program", team=team)
    campaign = CampaignFactory(name=f"{slug} campaign", code=f"{slug}-campaign", team=team, owner=owner)
    tactic = campaign_services.tactic_create(actor=owner, campaign=campaign, name="Search ads")
    spend = campaign_services.spend_log(
        actor=owner, campaign=campaign, date=datetime.date(2026, 1, 5), amount=D("100"), currency="USD"
    )
    result = campaign_services.results_log(
        actor=owner, campaign=campaign, date=datetime.date(2026, 1, 5), leads=D("3")
    ).fact
    attachment = attachment_services.attachment_add(
        actor=owner,
        campaign=campaign,
        uploaded_file=SimpleUploadedFile("brief.pdf", PDF),
        kind=AttachmentKind.BRIEF,
    )
    batch: ImportBatch = import_upload(actor=owner, file=ContentFile(SPEND_CSV, name="spend.csv"), filename="spend.csv")
    line = budget_services.line_create(actor=finance, budget=shared["budget"], name=f"{slug} line", team=team)
    january, february = shared["january"], shared["february"]
    budget_services.phasing_set(actor=finance, line=line, amounts={january: D("5000"), february: D("5000")})
    commitment = budget_services.commitment_create(
        actor=finance,
        line=line,
        vendor="Agency",
        reference=f"PO-{slug}",
        amount=D("500"),
        currency="USD",
        period=january,
        campaign=campaign,
    )
    allocation_request: AllocationRequest = request_services.allocation_request_create(
        actor=owner, line=line, months={january: D("1000")}, currency="USD", justification="Search", campaign=campaign
    )
    transfer = transfer_services.transfer_request_create(
        actor=owner, from_line=line, from_period=january, to_line=line, to_period=february, amount=D("100"), reason="Q1"
    )
    general_request = workflow_subjects.request_create(
        actor=owner,
        template=shared["templates"][workflow_subjects.GENERAL_REQUEST],
        title=f"{slug} booth",
        team=team,
    )
    instance = WorkflowInstance.objects.get(subject_type="budget_allocation", subject_id=str(allocation_request.pk))
    task = StepTask.objects.get(instance=instance, status=StepStatus.ACTIVE)
    delegation = workflow_services.delegation_create(
        actor=owner,
        delegator=owner,
        delegate=teammate,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2026, 12, 31),
    )
    response_model = ResponseModel.objects.create(
        outcome="pipeline", team=team, requested_by=owner, status="failed", error="Not enough weeks of data."
    )
    scenario = Scenario.objects.create(
        name=f"{slug} plan",
        response_model=response_model,
        owner=owner,
        team=team,
        kind="optimised",
        start=datetime.date(2026, 4, 1),
        months=3,
        weeks=13,
        **{
            name: D("0")
            for name in [
                "total_budget",
                "plan_total",
                "predicted",
                "predicted_low",
                "predicted_high",
                "plan_predicted",
                "plan_predicted_low",
                "plan_predicted_high",
                "uplift",
                "uplift_low",
                "uplift_high",
            ]
        },
    )
    return World(
        team=team,
        ids={
            **shared["ids"],
            "team": team.slug,
            "team_id": team.pk,
            "owner": owner.pk,
            "teammate": teammate.pk,
            "membership": Membership.objects.get(team=team, user=owner).pk,
            "program": program.pk,
            "campaign": campaign.pk,
            "tactic": tactic.pk,
            "spend": spend.pk,
            "result": result.pk,
            "attachment": attachment.pk,
            "import": batch.pk,
            "line": line.pk,
            "commitment": commitment.pk,
            "allocation_request": allocation_request.pk,
            "transfer": transfer.pk,
            "general_request": general_request.pk,
            "instance": instance.pk,
            "task": task.pk,
            "delegation": delegation.pk,
            "response_model": response_model.pk,
            "scenario": scenario.pk,
        },
    )


# Tables a refused request may write without changing anything a user owns (the session keeps the
# message that tells the user why; django-axes logs sign-ins).
IGNORED_TABLES = {"django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}


def writes() -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated and deleted so far in this transaction, by table (PostgreSQL's own
    per-transaction counters: a write rolled back with its savepoint still counts, so comparing
    before and after a request shows whether it wrote anything at all)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables")
        return {table: tuple(counts) for table, *counts in cursor.fetchall() if table not in IGNORED_TABLES}


def written_tables(before: dict[str, tuple[int, int, int]]) -> list[str]:
    """The tables written since ``before`` (a ``writes()``)."""
    return sorted(table for table, counts in writes().items() if counts != before.get(table, (0, 0, 0)))
