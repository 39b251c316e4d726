"""The check pass of an import: read every row of a file and say what is wrong with it, which
campaigns it names that mops does not know, and which campaign-days span several rows.

One query per chunk of rows at most (new campaign references); closed periods, editable campaigns
and currencies once per file, exchange rates once per currency. What it keeps between rows is small
integers per campaign-day (``DayIndex``), never the rows.
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.conf import settings
from django.db.models import Q

from campaigns.importers import IMPORTERS, base
from campaigns.models import Campaign, CampaignAlias, FactSource
from campaigns.selectors import editable_campaigns
from mops.models import Currency, FxRate
from mops.selectors import FxRateMissing
from planning.selectors import closed_periods_between

CHUNK = 2000  # campaign-days per write; rows per lookup of campaign references
MAX_ERRORS = 1000  # row errors kept on the batch (rows_rejected keeps the true count)
ONE = Decimal(1)
# A campaign-day as one int: campaign id and the date's ordinal (< 2**20 until the year 2871).
DAY_BITS = 20


def day_key(campaign_id: int, day: datetime.date) -> int:
    return campaign_id << DAY_BITS | day.toordinal()


@dataclass
class Check:
    """What a check pass learned about a file."""

    rows_total: int = 0
    error_count: int = 0  # rows with errors (not counting skipped references)
    errors: list = field(default_factory=list)  # the first MAX_ERRORS row errors
    bad_rows: set = field(default_factory=set)  # every row the write pass must leave out
    unknown: dict = field(default_factory=dict)  # reference → rows, when not final
    skipped: dict = field(default_factory=lambda: defaultdict(int))  # reference → rows
    days: "DayIndex" = None
    campaigns: "Campaigns" = None
    money: "Rates" = None
    layout: base.Layout = None

    def reject(self, row: int, message: str) -> None:
        self.bad_rows.add(row)
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "message": message})

    def fields(self, skipped: dict) -> dict:
        """The batch's fields for this check; ``skipped`` lists every reference mapped to none."""
        notes = []
        for ref in sorted(skipped):
            rows = self.skipped.get(ref, 0)
            notes.append(
                {
                    "row": None,
                    "ref": ref,
                    "rows": rows,
                    "message": f"{rows} rows of {ref!r} skipped: mapped to no campaign.",
                }
            )
        return {
            "rows_total": self.rows_total,
            "rows_rejected": self.error_count + sum(self.skipped.values()),
            "errors": notes + self.errors,
            "unknown_campaigns": sorted(self.unknown),
        }


def check_file(*, table: base.Table, format: str, actor, skip: set[str], final: bool) -> Check:
    """Read every row and validate it: parse errors, campaign (known, editable, channel), closed
    period, currency and rate, duplicates and mixed currencies within a campaign-day.

    A query per chunk of rows at most (new campaign references); periods, editable campaigns and
    currencies once, rates once per currency. When not ``final``, unknown references are collected
    rather than rejected (the user maps them next).
    """
    layout = IMPORTERS[format].layout(table.header)
    check = Check(layout=layout, days=DayIndex(), campaigns=Campaigns(format), money=Rates())
    editable = set(editable_campaigns(user=actor).values_list("id", flat=True))
    closed = ClosedPeriods()
    segments: dict[int, int] | None = {} if layout.has_breakdown else None
    campaigns, rates, days = check.campaigns, check.money, check.days
    money_in_file = bool(base.MONEY_MEASURES & set(layout.measures))
    for chunk in chunks(base.parse_rows(table, layout), CHUNK):
        campaigns.lookup({item.ref for item in chunk if isinstance(item, base.ParsedRow)})
        for item in chunk:
            check.rows_total += 1
            if isinstance(item, base.RowError):
                check.reject(item.row, item.message)
                continue
            if item.ref in skip:
                check.skipped[item.ref] += 1
                check.bad_rows.add(item.row)
                continue
            campaign = campaigns.found[item.ref]
            if campaign is None:
                if final:
                    check.reject(item.row, f"{item.ref!r} matches no campaign")
                else:
                    check.unknown[item.ref] = check.unknown.get(item.ref, 0) + 1
                    check.bad_rows.add(item.row)
                continue
            if campaign.pk not in editable:  # nothing more to say about another team's campaign
                check.reject(item.row, f"you cannot import into {item.ref!r}: it is not one of your team's campaigns")
                continue
            problems = []
            if item.channel and item.channel.casefold() not in (
                campaign.channel.slug.casefold(),
                campaign.channel.name.casefold(),
            ):
                problems.append(f"channel {item.channel!r} is not the campaign's channel ({campaign.channel.name})")
            period = closed.holding(item.date)
            if period is not None:
                problems.append(f"{period} is closed by finance: nothing dated {item.date:%Y-%m-%d} can be imported")
            currency = item.currency or campaign.currency
            if item.spend is not None or money_in_file:
                if currency not in rates.known:
                    problems.append(f"{currency!r} is not a currency mops knows")
                elif rates.rate(currency, item.date) is None:
                    problems.append(str(FxRateMissing(currency, item.date)))
            key = day_key(campaign.pk, item.date)
            first = days.first_of(key)
            if segments is None:
                if first is not None:
                    problems.append(
                        f"row {first[0]} has the same campaign and day ({campaign.code}, {item.date:%Y-%m-%d})"
                    )
            else:
                segment_key = hash((key, item.ref if layout.ref_in_breakdown else "", item.breakdown))
                earlier = segments.get(segment_key)
                if earlier is not None:
                    problems.append(f"row {earlier} has the same campaign, day and segments")
                elif first is not None and first[1] != currency:
                    problems.append(
                        f"its currency {currency} differs from {first[1]} in row {first[0]} for the same day"
                    )
            if problems:
                check.reject(item.row, "; ".join(problems))
                continue
            if segments is not None:
                segments[segment_key] = item.row
            days.add(key, item.row, currency)
    return check


class DayIndex:
    """Per campaign-day (an int key): the first good row and its currency; for days spread over
    several rows also the last one, which tells the write pass when a day is complete. Integers
    only — about 100 bytes a campaign-day, whatever the rows hold."""

    def __init__(self):
        self._first: dict[int, int] = {}  # key → row << 12 | currency index
        self.last: dict[int, int] = {}  # key → last row, for days of several rows
        self._currencies: list[str] = []

    def first_of(self, key: int) -> tuple[int, str] | None:
        packed = self._first.get(key)
        if packed is None:
            return None
        return packed >> 12, self._currencies[packed & 0xFFF]

    def add(self, key: int, row: int, currency: str) -> None:
        if key in self._first:
            self.last[key] = row
            return
        try:
            index = self._currencies.index(currency)
        except ValueError:
            index = len(self._currencies)
            self._currencies.append(currency)
        self._first[key] = row << 12 | index

    def is_last(self, key: int, row: int) -> bool:
        return row >= self.last.get(key, 0)


class Campaigns:
    """References in a file → campaigns: by code, then exact name, then the remembered alias for the
    format, then (platform exports) the campaign's ``utm_campaign``. A name or UTM value that several
    campaigns share matches none. One or two queries per batch of new references."""

    def __init__(self, format: str):
        self.format = format
        self.platform = format != FactSource.GENERIC
        self.found: dict[str, Campaign | None] = {}

    def lookup(self, refs: Iterable[str]) -> None:
        new = {ref for ref in refs if ref not in self.found}
        if not new:
            return
        lowered = {ref.lower() for ref in new}
        condition = Q(code__in=new | lowered) | Q(name__in=new)
        if self.platform:
            condition |= Q(utm_campaign__in=new)
        by_code, by_name, by_utm = {}, defaultdict(list), defaultdict(list)
        for campaign in Campaign.objects.filter(condition).select_related("channel"):
            by_code[campaign.code] = campaign
            by_name[campaign.name].append(campaign)
            if campaign.utm_campaign:
                by_utm[campaign.utm_campaign].append(campaign)
        unmatched = {ref for ref in new if ref not in by_code and ref.lower() not in by_code and len(by_name[ref]) != 1}
        aliases = {}
        if unmatched:
            aliases = {
                alias.external_ref: alias.campaign
                for alias in CampaignAlias.objects.filter(
                    source=self.format, external_ref__in=unmatched
                ).select_related("campaign__channel")
            }
        for ref in new:
            campaign = by_code.get(ref) or by_code.get(ref.lower())
            if campaign is None and len(by_name[ref]) == 1:
                campaign = by_name[ref][0]
            if campaign is None:
                campaign = aliases.get(ref)
            if campaign is None and self.platform and len(by_utm[ref]) == 1:
                campaign = by_utm[ref][0]
            self.found[ref] = campaign


class Rates:
    """Known currencies (one query) and each currency's rates (one query the first time it is
    needed): the rate on a day is the latest dated on or before it, as ``fx_rate_on`` says."""

    def __init__(self):
        self.known = set(Currency.objects.values_list("code", flat=True))
        self._tables: dict[str, tuple[list[int], list[Decimal]]] = {}
        self._seen: dict[tuple[str, datetime.date], Decimal | None] = {}

    def rate(self, currency: str, day: datetime.date) -> Decimal | None:
        if currency == settings.BASE_CURRENCY:
            return ONE
        try:
            return self._seen[currency, day]
        except KeyError:
            rate = self._seen[currency, day] = self._lookup(currency, day)
            return rate

    def _lookup(self, currency: str, day: datetime.date) -> Decimal | None:
        table = self._tables.get(currency)
        if table is None:
            rows = FxRate.objects.filter(currency_id=currency).order_by("date").values_list("date", "rate")
            table = self._tables[currency] = ([d.toordinal() for d, _ in rows], [r for _, r in rows])
        index = bisect.bisect_right(table[0], day.toordinal()) - 1
        return table[1][index] if index >= 0 else None


class ClosedPeriods:
    """The closed months (one query for the whole file)."""

    def __init__(self):
        periods = closed_periods_between(datetime.date.min, datetime.date.max)
        self._starts = [p.start_date for p in periods]
        self._periods = periods

    def holding(self, day: datetime.date):
        if not self._periods:
            return None
        index = bisect.bisect_right(self._starts, day) - 1
        if index >= 0 and self._periods[index].end_date >= day:
            return self._periods[index]
        return None


def chunks(iterable: Iterable, size: int) -> Iterator[list]:
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk
