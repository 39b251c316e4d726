"""Build the demo organisation. Idempotent: a second run finds everything in place and changes nothing."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from mops.models import FxRate, Membership, Team
from mops.roles import Role
from planning.fiscal import fiscal_months, fiscal_year_of
from planning.models import Channel, ChannelGroup
from planning.services import fiscal_year_ensure

DEMO_PASSWORD = "demo"  # demo data only; never used outside `seed_demo`

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
    ("opsadmin", "Oliver", "Park", [Role.OPS_ADMIN], [], True),
    ("nadia", "Nadia", "Brooks", [Role.MARKETER], [("na-demand", True)], False),
    ("emil", "Emil", "Novak", [Role.MARKETER], [("emea-field", False)], False),
    ("elena", "Elena", "Rossi", [Role.MARKETER], [("emea-field", True)], False),
    ("aiko", "Aiko", "Tanaka", [Role.MARKETER], [("apac-growth", True)], False),
    ("raj", "Raj", "Patel", [Role.MARKETER], [("apac-growth", False)], False),
    ("bianca", "Bianca", "Silva", [Role.MARKETER], [("brand-content", True), ("na-demand", False)], False),
]

CHANNELS = [
    ("Paid search", ChannelGroup.PAID_MEDIA),
    ("Paid social", ChannelGroup.PAID_MEDIA),
    ("Display", ChannelGroup.PAID_MEDIA),
    ("Video", ChannelGroup.PAID_MEDIA),
    ("Email", ChannelGroup.OWNED),
    ("Content", ChannelGroup.OWNED),
    ("Website & SEO", ChannelGroup.OWNED),
    ("Direct mail", ChannelGroup.OWNED),
    ("PR", ChannelGroup.EARNED),
    ("Organic social", ChannelGroup.EARNED),
    ("Events", ChannelGroup.EVENTS),
    ("Webinars", ChannelGroup.EVENTS),
    ("Partner", ChannelGroup.PARTNERS),
    ("Affiliate", ChannelGroup.PARTNERS),
]

# US dollars per unit, roughly 2026 averages; demo data, not advice. Converted to the configured
# base currency when that is not USD.
USD_PER_UNIT = {"USD": "1", "EUR": "1.0850", "GBP": "1.2700", "CAD": "0.7350", "AUD": "0.6600", "JPY": "0.006700"}


class Command(BaseCommand):
    help = "Load the demo organisation (teams, users of every role, fiscal year, channels, FX rates)."

    def handle(self, *args, **options):
        with transaction.atomic():
            created = self._seed()
        if options["verbosity"] < 1:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo organisation ready ({created} new rows)."))
        self.stdout.write(f"Demo logins (demo data only), password '{DEMO_PASSWORD}':")
        for username, first, last, roles, _, _ in USERS[:4]:
            self.stdout.write(f"  {username:<10} {first} {last} — {', '.join(r.label for r in roles)}")

    def _seed(self) -> int:
        created = 0
        teams = {}
        for name, slug, description in TEAMS:
            teams[slug], new = Team.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )
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

        today = timezone.localdate()
        year = fiscal_year_of(today)
        fiscal_year_ensure(year=year)

        for name, group in CHANNELS:
            _, new = Channel.objects.get_or_create(name=name, defaults={"slug": _slug(name), "group": group})
            created += new

        # A rate on the first of every month from the start of the fiscal year to today.
        base = settings.BASE_CURRENCY
        if base not in USD_PER_UNIT:
            self.stdout.write(f"No demo FX rates for base currency {base}; add rates on the FX page.")
            return created
        months = [month for month in fiscal_months(year) if month <= today]
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


def _slug(name: str) -> str:
    return slugify(name.replace("&", "and"))
