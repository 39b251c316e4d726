"""The workflow part of the demo organisation: the standard templates and a few requests in
different states, all made through the services (so they carry a real audit trail)."""

from decimal import Decimal

from django.contrib.auth import get_user_model

from mops.models import Team
from mops.roles import Role
from workflows import selectors, services, subjects
from workflows.models import Request, WorkflowTemplate


def _step(name, stage, kind, assignee_type, role="", **extra):
    return {"name": name, "stage": stage, "kind": kind, "assignee_type": assignee_type, "role": role, **extra}


TEMPLATES = [
    (
        "Campaign launch",
        "campaign_launch",
        "Brief → creative review → compliance for paid channels → launch.",
        [
            _step("Brief approved by team lead", 1, "approval", "team_lead", sla_days=2),
            _step("Creative review", 2, "task", "team_role", Role.MARKETER, sla_days=3),
            _step(
                "Compliance approval (paid channels)",
                3,
                "approval",
                "role",
                Role.CMO,
                sla_days=2,
                condition_attribute="channel_group",
                condition_operator="eq",
                condition_value="paid_media",
            ),
            _step("Launch", 4, "task", "team_role", Role.MARKETER, sla_days=1),
        ],
    ),
    (
        "Budget allocation request",
        "budget_allocation",
        "Finance approves; the CMO too at or above 50,000 in base currency.",
        [
            _step("Finance approval", 1, "approval", "role", Role.FINANCE, sla_days=2, escalate_after_reminders=2),
            _step(
                "CMO approval",
                2,
                "approval",
                "role",
                Role.CMO,
                sla_days=2,
                condition_attribute="amount",
                condition_operator="gte",
                condition_value="50000",
            ),
        ],
    ),
    (
        "Budget transfer",
        "budget_transfer",
        "Finance approves both sides of the move, by two different people; when finance asked and too few "
        "finance users are left to decide, the CMO decides a side.",
        [
            _step(
                "Finance approval — source line",
                1,
                "approval",
                "role",
                Role.FINANCE,
                sla_days=2,
                fallback_role=Role.CMO,
            ),
            _step(
                "Finance approval — destination line",
                1,
                "approval",
                "role",
                Role.FINANCE,
                sla_days=2,
                fallback_role=Role.CMO,
            ),
        ],
    ),
    (
        "Spend sign-off",
        "general_request",
        "Any spend outside a campaign: the team lead, then finance from 10,000.",
        [
            _step("Team lead approval", 1, "approval", "team_lead", sla_days=2),
            _step(
                "Finance approval",
                2,
                "approval",
                "role",
                Role.FINANCE,
                sla_days=3,
                condition_attribute="amount",
                condition_operator="gte",
                condition_value="10000",
            ),
        ],
    ),
]

# title, requester, team slug, amount, [(approver, action, comment)…]
REQUESTS = [
    ("Q3 trade show booth", "marketer", "na-demand", "45000", [("nadia", "approve", "Good value for the pipeline.")]),
    ("Partner webinar co-funding", "emil", "emea-field", "8000", [("elena", "approve", "")]),
    (
        "Influencer pilot",
        "raj",
        "apac-growth",
        "20000",
        [("aiko", "approve", ""), ("finance", "reject", "No budget left this quarter; ask again in Q1.")],
    ),
    ("Agency retainer", "marketer", "na-demand", "60000", [("nadia", "return", "Attach the agency quote, please.")]),
]


def seed(log=print) -> int:
    User = get_user_model()
    users = {u.username: u for u in User.objects.all()}
    admin = users.get("opsadmin")
    if admin is None:
        log("No 'opsadmin' user: workflow demo data skipped.")
        return 0
    created = 0
    for name, subject_type, description, steps in TEMPLATES:
        if not WorkflowTemplate.objects.filter(name=name).exists():
            services.template_create(
                actor=admin, name=name, subject_type=subject_type, steps=steps, description=description
            )
            created += 1
    sign_off = WorkflowTemplate.objects.get(name="Spend sign-off", status="active")
    for title, requester, team_slug, amount, decisions in REQUESTS:
        if Request.objects.filter(title=title).exists():
            continue
        request = subjects.request_create(
            actor=users[requester],
            template=sign_off,
            title=title,
            team=Team.objects.get(slug=team_slug),
            amount=Decimal(amount),
            currency="USD",
        )
        created += 1
        instance = selectors.instances_of(request).get()
        for approver, action, comment in decisions:
            task = instance.steps.get(status="active", assignments__user=users[approver])
            services.task_act(actor=users[approver], task=task, action=action, comment=comment)
    return created
