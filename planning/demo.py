"""Planning's part of the demo organisation: the current fiscal year with its months, the taxonomy
(channels, regions, products and segments) and three objectives with monthly targets."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.text import slugify

from planning.fiscal import fiscal_year_of
from planning.kpis import Kpi
from planning.models import Channel, ChannelGroup, KpiTarget, Objective, Region, Segment, SegmentKind
from planning.services import fiscal_year_ensure

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


REGIONS = [("North America", "na"), ("EMEA", "emea"), ("APAC", "apac"), ("LATAM", "latam")]
SEGMENTS = [
    ("Analytics Cloud", "analytics", SegmentKind.PRODUCT),
    ("Data Platform", "data-platform", SegmentKind.PRODUCT),
    ("Enterprise", "enterprise", SegmentKind.SEGMENT),
    ("Mid-market", "mid-market", SegmentKind.SEGMENT),
    ("SMB", "smb", SegmentKind.SEGMENT),
]
# name, KPI, yearly target spread evenly over the months
OBJECTIVES = [
    ("Grow marketing-sourced pipeline to 12M", Kpi.PIPELINE, Decimal("12000000")),
    ("Generate 24,000 leads at under 150 per lead", Kpi.LEADS, Decimal("24000")),
    ("Win 480 new customers from marketing programs", Kpi.NEW_CUSTOMERS, Decimal("480")),
]


def seed(log=print) -> int:
    fiscal_year = fiscal_year_ensure(year=fiscal_year_of(timezone.localdate()))
    created = 0
    for name, group in CHANNELS:
        _, new = Channel.objects.get_or_create(
            name=name, defaults={"slug": slugify(name.replace("&", "and")), "group": group}
        )
        created += new
    for name, code in REGIONS:
        created += Region.objects.get_or_create(code=code, defaults={"name": name})[1]
    for name, code, kind in SEGMENTS:
        created += Segment.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})[1]
    cmo = get_user_model().objects.filter(username="cmo").first()
    periods = list(fiscal_year.periods.order_by("start_date"))
    for name, kpi, yearly in OBJECTIVES:
        objective, new = Objective.objects.get_or_create(fiscal_year=fiscal_year, name=name, defaults={"owner": cmo})
        created += new
        if new:
            monthly = (yearly / 12).quantize(Decimal("1"))
            KpiTarget.objects.bulk_create(
                [KpiTarget(objective=objective, kpi=kpi, period=p, target_value=monthly) for p in periods]
            )
    return created
