"""Shared factory_boy factories for every app's tests."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from mops.models import FxRate, Membership, Team
from mops.roles import Role
from planning.models import Channel, ChannelGroup

PASSWORD = "pass-for-tests"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        """``UserFactory(roles=[Role.FINANCE])``."""
        if create and extracted:
            self.groups.add(*(Group.objects.get(name=role) for role in extracted))

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        """``UserFactory(teams=[team])`` makes the user a member (not lead) of each team."""
        if create and extracted:
            for team in extracted:
                Membership.objects.get_or_create(team=team, user=self)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    is_lead = False


class FxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FxRate

    currency_id = "EUR"
    date = datetime.date(2026, 1, 1)
    rate = Decimal("1.10")


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Channel {n}")
    slug = factory.Sequence(lambda n: f"channel-{n}")
    group = ChannelGroup.PAID_MEDIA


def user_with_role(role: Role, **kwargs):
    return UserFactory(roles=[role], **kwargs)


class CampaignFactory(factory.django.DjangoModelFactory):
    """A planned campaign in USD; pass ``team`` (and ``owner``) to place it."""

    class Meta:
        model = "campaigns.Campaign"

    name = factory.Sequence(lambda n: f"Campaign {n}")
    code = factory.Sequence(lambda n: f"cmp-{n}")
    team = factory.SubFactory(TeamFactory)
    owner = factory.SubFactory(UserFactory)
    channel = factory.SubFactory(ChannelFactory)
    status = "planned"
    start_date = datetime.date(2026, 1, 1)
    end_date = datetime.date(2026, 3, 31)
    planned_cost = Decimal("10000.00")
    currency = "USD"
    planned_cost_base = Decimal("10000.00")
