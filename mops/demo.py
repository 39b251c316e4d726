"""The core of the demo organisation: teams, users of every role, FX rates. Demo data only.

``manage.py seed_demo`` calls ``seed()`` of every installed app that has a ``demo`` module, in
INSTALLED_APPS order; each is idempotent (get-or-create), so running it twice changes nothing.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from mops.models import FxRate, Membership, Team
from mops.roles import Role

DEMO_PASSWORD = "demo"  # demo data only

TEAMS = [
    ("North America Demand Gen", "na-demand", "Pipeline programs for the US and Canada."),
    ("EMEA Field Marketing", "emea-field", "Events, partners and ABM across Europe, Middle East and Africa."),
    ("APAC Growth", "apac-growth", "Paid and partner-led growth in Asia-Pacific."),
    ("Brand & Content", "brand-content", "Brand campaigns, content, PR and the website."),
]

# username, first, last, roles, [(team slug, is lead)], is_staff
USERS = [
    ("marketer", "Maria", "Keller", [Role.MARKETER], [("na-demand", False)], False),
    ("cmo", "Chris", "Morgan", [Role.CMO], [], False),
    ("finance", "Fatima", "Nouri", [Role.FINANCE], [], False),
    ("felix", "Felix", "Wagner", [Role.FINANCE], [], False),
    ("opsadmin", "Oliver", "Park", [Role.OPS_ADMIN], [], True),
    ("nadia", "Nadia", "Brooks", [Role.MARKETER], [("na-demand", True)], False),
    ("emil", "Emil", "Novak", [Role.MARKETER], [("emea-field", False)], False),
    ("elena", "Elena", "Rossi", [Role.MARKETER], [("emea-field", True)], False),
    ("aiko", "Aiko", "Tanaka", [Role.MARKETER], [("apac-growth", True)], False),
    ("raj", "Raj", "Patel", [Role.MARKETER], [("apac-growth", False)], False),
    ("bianca", "Bianca", "Silva", [Role.MARKETER], [("brand-content", True), ("na-demand", False)], False),
]

# US dollars per unit, roughly 2026 averages; demo data, not advice. Converted to the configured
# base currency when that is not USD.
USD_PER_UNIT = {"USD": "1", "EUR": "1.0850", "GBP": "1.2700", "CAD": "0.7350", "AUD": "0.6600", "JPY": "0.006700"}


def seed(log=print) -> int:
    """Create what is missing; return the number of new rows."""
    created = 0
    teams = {}
    for name, slug, description in TEAMS:
        teams[slug], new = Team.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
        created += new

    User = get_user_model()
    groups = {role: Group.objects.get(name=role) for role in Role}
    for username, first, last, roles, memberships, is_staff in USERS:
        user, new = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.mops.invalid",
                "is_staff": is_staff,
            },
        )
        if new:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.add(*(groups[role] for role in roles))
            created += 1
        for slug, is_lead in memberships:
            _, new = Membership.objects.get_or_create(team=teams[slug], user=user, defaults={"is_lead": is_lead})
            created += new
    return created + _seed_fx_rates(log)


def _seed_fx_rates(log) -> int:
    """A rate on the first of each of the last twelve months and of this one."""
    base = settings.BASE_CURRENCY
    if base not in USD_PER_UNIT:
        log(f"No demo FX rates for base currency {base}; add rates on the FX page.")
        return 0
    today = timezone.localdate()
    months = []
    for back in range(12, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        months.append(datetime.date(index // 12, index % 12 + 1, 1))
    created = 0
    for code, usd in USD_PER_UNIT.items():
        if code == base:
            continue
        rate = Decimal(usd) / Decimal(USD_PER_UNIT[base])
        for index, month in enumerate(months):
            drift = Decimal(1) + Decimal(index - len(months) // 2) / Decimal(400)  # gentle monthly drift
            _, new = FxRate.objects.get_or_create(
                currency_id=code,
                date=month,
                defaults={"rate": (rate * drift).quantize(Decimal("0.000001")), "source": "demo"},
            )
            created += new
    return created
