"""The check of an import: read every row of a file and say what is wrong with it, which campaigns
it names that mops does not know, and hand the good rows on — the run stages them for the write as
it checks, so that a run reads its file once.

The file is read a block of rows at a time, column by column (``columns.parse_blocks``), and the
check works on those columns: each distinct reference, currency and channel once per block, dates
against closed periods and rates by binary search over the whole column. A query per block at
most (new campaign references); closed periods, editable campaigns and currencies once per file,
rates once per currency. What it keeps between blocks is integers per campaign-day and per segment
(the first good row, for the duplicate and currency rules), never rows.

The rules are those of a row-by-row reading, in file order: a row is good when its campaign is
known and editable, its channel (generic sheets) is the campaign's, its day is in no closed
period, its money has a currency and a rate for the day, and no earlier good row has the same
campaign and day (generic sheets) or the same campaign, day and segments (platform exports, whose
good rows of one day must also share a currency). A bad row's message names every problem it has.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import Q, Sum

from campaigns.importers import columns, layouts, shapes, sheets
from campaigns.importers.formats import IMPORTERS
from campaigns.models import Campaign, CampaignAlias, FactSource, SpendEntry
from campaigns.selectors import editable_campaigns
from mops.models import Currency, FxRate
from mops.money import money
from mops.selectors import FxRateMissing
from planning.selectors import closed_periods_between

CHUNK = 2000  # campaign-days per write (at least; see ``writing.Writer``)
MAX_ERRORS = 1000  # row errors kept on the batch (rows_rejected keeps the true count)
ONE = Decimal(1)
# A campaign-day as one int: campaign id and the date's ordinal (< 2**20 until the year 2871).
DAY_BITS = 20
CURRENCY_BITS = 12  # a day's first row and its currency as one int: row << 12 | currency number


@dataclass
class Check:
    """What a check pass learned about a file."""

    rows_total: int = 0
    error_count: int = 0  # rows with errors (not counting skipped references)
    errors: list = field(default_factory=list)  # the first MAX_ERRORS row errors
    unknown: dict = field(default_factory=dict)  # reference → rows, when not final
    skipped: dict = field(default_factory=lambda: defaultdict(int))  # reference → rows
    days: int = 0  # campaign-days with good rows
    money: "Rates" = None
    columns: list = field(default_factory=list)  # layouts.column_report of the file's header
    repeats: list = field(default_factory=list)  # the first MAX_REPEATS spend repeats (see Repeats)
    repeat_count: int = 0

    def reject(self, row: int, message: str) -> None:
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
                    "message": f"{rows:,} row{'' if rows == 1 else 's'} of {ref!r} skipped: mapped to no campaign.",
                }
            )
        return {
            "rows_total": self.rows_total,
            "rows_rejected": self.error_count + sum(self.skipped.values()),
            "errors": notes + self.errors,
            "unknown_campaigns": sorted(self.unknown),
            "columns": self.columns,
            "repeats": self.repeats,
            "repeat_count": self.repeat_count,
        }


@dataclass
class GoodRows:
    """The good rows of a block, ready to be written: a column each, in file order."""

    row: np.ndarray  # int64 row numbers
    campaign: np.ndarray  # int64 campaign ids
    day: np.ndarray  # int64 date ordinals
    currency: np.ndarray  # object: the row's currency, else its campaign's
    rate: np.ndarray  # object: base currency per unit as decimal text; None where the row has no money
    spend: np.ndarray  # object: decimal text, None when the row states no spend
    measures: dict[str, np.ndarray]  # object: decimal text, in the row's currency for money

    def __len__(self) -> int:
        return len(self.row)


def check_file(*, table: sheets.Table, format: str, actor, skip: set[str], final: bool, on_rows=None) -> Check:
    """Read every row and validate it (see the module's docstring); ``on_rows(GoodRows)`` after each
    block with good rows. When not ``final``, unknown references are collected rather than
    rejected (the user maps them next)."""
    layout = IMPORTERS[format].layout(table.header)
    checker = Checker(layout=layout, format=format, actor=actor, skip=skip, final=final)
    checker.check.columns = layouts.column_report(table.header, layout)
    for block in columns.parse_blocks(table, layout):
        good = checker.block(block)
        if on_rows is not None and len(good):
            on_rows(good)
    if checker.repeats is not None:
        checker.check.repeats, checker.check.repeat_count = checker.repeats.found(checker.campaigns)
    return checker.check


# What a reference in a file leads to.
_OK, _SKIP, _UNKNOWN, _FORBIDDEN = 0, 1, 2, 3


class Checker:
    """The check of one file, a block at a time (``block``); the outcome accrues in ``check``."""

    def __init__(self, *, layout: layouts.Layout, format: str, actor, skip: set[str], final: bool):
        self.layout, self.skip, self.final = layout, skip, final
        self.check = Check(money=Rates())
        self.editable = set(editable_campaigns(user=actor).values_list("id", flat=True))
        self.closed = ClosedPeriods()
        self.campaigns = Campaigns(format)
        self.money_in_file = bool(shapes.MONEY_MEASURES & set(layout.measures))
        self.segmented = layout.has_breakdown
        self.first_of_day = KeyTable()  # day key → first good row (<< CURRENCY_BITS | currency)
        self.first_of_segment = KeyTable()  # segment hash → first good row
        self.currency_numbers: dict[str, int] = {}
        self.ref_numbers: dict[str, int] = {}
        # Spend repeated from another source is a question for the user before the start, not the run's.
        self.repeats = Repeats(format) if layout.spend is not None and not final else None

    def block(self, block: columns.Block) -> GoodRows:
        check = self.check
        check.rows_total += len(block) + len(block.errors)
        rejected = [(e.row, e.message) for e in block.errors]
        codes, refs = pd.factorize(block.ref)
        refs = list(refs)
        self.campaigns.lookup(refs)
        found = [self.campaigns.found[ref] for ref in refs]
        kinds = np.array([self._kind(ref, campaign) for ref, campaign in zip(refs, found, strict=True)], np.int8)
        kind = kinds[codes] if len(refs) else np.zeros(0, np.int8)
        if (kinds != _OK).any():
            counts = np.bincount(codes, minlength=len(refs))
            for i in np.flatnonzero(kinds == _SKIP):
                check.skipped[refs[i]] += int(counts[i])
            if not self.final:
                for i in np.flatnonzero(kinds == _UNKNOWN):
                    check.unknown[refs[i]] = check.unknown.get(refs[i], 0) + int(counts[i])
            for i in np.flatnonzero(((kind == _UNKNOWN) & self.final) | (kind == _FORBIDDEN)):
                ref = refs[codes[i]]
                if kind[i] == _UNKNOWN:
                    rejected.append((int(block.row[i]), f"{ref!r} matches no campaign"))
                else:
                    message = f"you cannot import into {ref!r}: it is not one of your team's campaigns"
                    rejected.append((int(block.row[i]), message))

        ok = np.flatnonzero(kind == _OK)
        code = codes[ok]
        rows, day = block.row[ok], block.day[ok]
        campaign_ids = np.array([c.pk if c is not None else 0 for c in found], np.int64)
        campaign = campaign_ids[code] if len(refs) else np.zeros(0, np.int64)
        currency = block.currency[ok]
        own = pd.isna(currency)
        if own.any():
            currency[own] = np.array([c.currency if c is not None else None for c in found], object)[code[own]]
        spend = block.spend[ok]

        # Problems of a row on its own, each a mask (and what the message needs).
        bad_channel = self._bad_channel(block.channel[ok], code, found) if block.channel is not None else None
        period = self.closed.holding(day)
        closed = period >= 0
        needs_rate = ~pd.isna(spend) if not self.money_in_file else np.ones(len(ok), dtype=bool)
        rate, unknown_currency, no_rate = self.check.money.texts(currency, day, needs_rate)
        alone = closed | unknown_currency | no_rate
        if bad_channel is not None:
            alone |= bad_channel

        # Problems with earlier rows: duplicates, and a day's currency.
        keys = campaign << DAY_BITS | day
        same_segment = differs = first = None
        if self.segmented:
            first, first_currency, differs, same_segment = self._segment_rules(
                keys, rows, ~alone, currency, block.segment[ok], refs, code
            )
            bad = alone | (same_segment > 0) | differs
        else:
            first = _earlier(self.first_of_day, keys, rows, rows, ~alone)
            bad = alone | (first > 0)
        for i in np.flatnonzero(bad):
            problems = []
            if bad_channel is not None and bad_channel[i]:
                campaign_obj = found[code[i]]
                channel = block.channel[ok[i]]
                problems.append(f"channel {channel!r} is not the campaign's channel ({campaign_obj.channel.name})")
            date = datetime.date.fromordinal(int(day[i]))
            if closed[i]:
                held = self.closed.periods[period[i]]
                problems.append(f"{held} is closed by finance: nothing dated {date:%Y-%m-%d} can be imported")
            if unknown_currency[i]:
                problems.append(f"{currency[i]!r} is not a currency mops knows")
            elif no_rate[i]:
                problems.append(str(FxRateMissing(currency[i], date)))
            if not self.segmented:
                if first[i]:
                    problems.append(
                        f"row {first[i]} has the same campaign and day ({found[code[i]].code}, {date:%Y-%m-%d})"
                    )
            elif same_segment[i]:
                problems.append(f"row {same_segment[i]} has the same campaign, day and segments")
            elif differs[i]:
                problems.append(
                    f"its currency {currency[i]} differs from {first_currency[i]} in row {first[i]} for the same day"
                )
            rejected.append((int(rows[i]), "; ".join(problems)))

        rejected.sort()
        for row, message in rejected:
            check.reject(row, message)
        good = np.flatnonzero(~bad)
        check.days = len(self.first_of_day)  # each good row's day has its first good row there
        src = ok[good]
        if self.repeats is not None:
            self.repeats.add(keys[good], rows[good], spend[good], currency[good])
        return GoodRows(
            row=rows[good],
            campaign=campaign[good],
            day=day[good],
            currency=currency[good],
            rate=rate[good],
            spend=spend[good],
            measures={m: v[src] for m, v in block.measures.items()},
        )

    # --- the rules ---------------------------------------------------------------------------------

    def _kind(self, ref: str, campaign: Campaign | None) -> int:
        if ref in self.skip:
            return _SKIP
        if campaign is None:
            return _UNKNOWN
        if campaign.pk not in self.editable:  # nothing more to say about another team's campaign
            return _FORBIDDEN
        return _OK

    @staticmethod
    def _bad_channel(channel: np.ndarray, code: np.ndarray, found: list) -> np.ndarray:
        """Rows whose channel cell is neither the campaign's channel's slug nor its name."""
        bad = np.zeros(len(channel), dtype=bool)
        stated = np.flatnonzero(channel != "")
        if not len(stated):
            return bad
        pairs = pd.MultiIndex.from_arrays([code[stated], channel[stated]])
        pair_codes, uniques = pd.factorize(pairs)
        verdict = np.array(
            [
                name.casefold() not in (found[c].channel.slug.casefold(), found[c].channel.name.casefold())
                for c, name in uniques
            ],
            dtype=bool,
        )
        bad[stated] = verdict[pair_codes]
        return bad

    def _segment_rules(self, keys, rows, candidate, currency, segments, refs, code):
        """The platform rules, per row: (the day's earlier first good row or 0, that row's currency,
        whether the row's currency differs from it, the earlier good row with the same campaign,
        day and segments or 0)."""
        numbers = self.currency_numbers
        currency_number = np.array([numbers.setdefault(c, len(numbers)) for c in currency], np.int64)
        # The day's first good row is its first row with no problem of its own: no earlier row of
        # the day was good, so it can neither repeat a segment nor differ in currency.
        packed = _earlier(
            self.first_of_day, keys, rows << CURRENCY_BITS | currency_number, rows, candidate, CURRENCY_BITS
        )
        first = packed >> CURRENCY_BITS
        first_number = packed & ((1 << CURRENCY_BITS) - 1)
        differs = (first > 0) & (first_number != currency_number)
        names = np.array(list(numbers), dtype=object)
        first_currency = np.where(differs, names[first_number], None)
        # A segment's first good row: its first with no problem of its own and the day's currency.
        if self.layout.ref_in_breakdown:
            ids = self.ref_numbers
            ref = np.array([ids.setdefault(r, len(ids)) for r in refs], np.int64)[code].tolist()
        else:
            ref = repeat(-1)
        hashes = np.fromiter(map(hash, zip(keys.tolist(), ref, segments.tolist(), strict=False)), np.int64, len(keys))
        same = _earlier(self.first_of_segment, hashes, rows, rows, candidate & ~differs)
        return first, first_currency, differs, same


def _earlier(firsts: "KeyTable", keys: np.ndarray, values: np.ndarray, rows: np.ndarray, candidate, shift: int = 0):
    """Per row, the value an earlier row stored for its key, or 0. Values are row numbers, or
    ``row << shift | …``. A ``candidate`` row whose key has no value yet stores its own: the first
    candidate of each key in file order, as a row-by-row reading would."""
    first = firsts.get(keys)
    new = np.flatnonzero(candidate & (first == 0))
    if len(new):
        new_keys, at = np.unique(keys[new], return_index=True)  # the first occurrence of each key
        firsts.add(new_keys, values[new[at]])
        pending = np.flatnonzero(first == 0)
        first[pending] = firsts.get(keys[pending])
    return np.where((first >> shift) < rows, first, 0)


class KeyTable:
    """int64 key → int64 value (never 0), for the keys of a whole file: sorted arrays, 16 bytes a key
    where a dict takes about a hundred. Added to a block of new keys at a time, kept as a few
    sorted runs that merge like a binary counter, so that adding stays O(n log n) in all."""

    def __init__(self):
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(k) for k, _ in self.runs)

    def get(self, keys: np.ndarray) -> np.ndarray:
        found = np.zeros(len(keys), dtype=np.int64)
        for run_keys, run_values in self.runs:
            at = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = run_keys[at] == keys
            found[hit] = run_values[at[hit]]
        return found

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add keys the table does not hold yet (``keys`` sorted and distinct)."""
        self.runs.append((keys, values))
        while len(self.runs) > 1 and len(self.runs[-2][0]) <= 2 * len(self.runs[-1][0]):
            (newer_keys, newer_values), (keys, values) = self.runs.pop(), self.runs.pop()
            at = np.searchsorted(keys, newer_keys)  # both sorted: a merge, no sort
            self.runs.append((np.insert(keys, at, newer_keys), np.insert(values, at, newer_values)))


MAX_REPEATS = 200  # spend repeats kept on the batch (repeat_count keeps the true count)


class Repeats:
    """Campaign-days of the file whose spend equals, to the cent and in the same currency, the spend
    stored for that campaign and day under another source: importing them would count that money
    twice (a Google Ads report imported again as a spreadsheet). The import warns and waits for an
    explicit "import anyway".

    Per block, one query for the stored spend of the block's campaigns over its dates under other
    sources; the file's spend is summed (as the write sums it) only for the campaign-days that have
    some, so memory grows with the overlap, not the file."""

    def __init__(self, format: str):
        self.format = format
        self.stored: dict[int, list[tuple[Decimal, str, str]]] = {}  # day key → (amount, currency, source)
        self.sums: dict[int, list] = {}  # day key → [file's spend, first row, currency]

    def add(self, keys: np.ndarray, rows: np.ndarray, spend: np.ndarray, currency: np.ndarray) -> None:
        stated = np.flatnonzero(~pd.isna(spend))
        if not len(stated):
            return
        keys, rows, spend, currency = keys[stated], rows[stated], spend[stated], currency[stated]
        new = np.unique(keys[[k not in self.stored for k in keys.tolist()]])
        if len(new):
            campaigns = np.unique(new >> DAY_BITS).tolist()
            days = new & ((1 << DAY_BITS) - 1)
            first, last = datetime.date.fromordinal(int(days.min())), datetime.date.fromordinal(int(days.max()))
            wanted = set(new.tolist())
            found = defaultdict(list)
            stored = (
                SpendEntry.objects.filter(
                    campaign_id__in=campaigns,
                    date__range=(first, last),
                )
                .exclude(source=self.format)
                .values("campaign_id", "date", "source", "currency")
                .annotate(total=Sum("amount"))
                .values_list("campaign_id", "date", "source", "currency", "total")
            )
            for campaign, day, source, code, total in stored:
                key = campaign << DAY_BITS | day.toordinal()
                if key in wanted:
                    found[key].append((total, code, source))
            for key in wanted:
                self.stored[key] = found.get(key, [])
        for key, row, amount, code in zip(keys.tolist(), rows.tolist(), spend.tolist(), currency.tolist(), strict=True):
            if not self.stored[key]:
                continue
            seen = self.sums.get(key)
            if seen is None:
                self.sums[key] = [Decimal(amount), row, code]
            else:
                seen[0] += Decimal(amount)

    def found(self, campaigns: "Campaigns") -> tuple[list[dict], int]:
        """(the first MAX_REPEATS repeats in row order, how many there are)."""

        codes = {c.pk: c.code for c in campaigns.found.values() if c is not None}
        repeats = []
        for key, (total, row, code) in self.sums.items():
            amount = money(total)
            for stored, currency, source in self.stored[key]:
                if currency == code and stored == amount:
                    day = datetime.date.fromordinal(key & ((1 << DAY_BITS) - 1))
                    repeats.append(
                        {
                            "row": row,
                            "campaign": codes.get(key >> DAY_BITS, str(key >> DAY_BITS)),
                            "date": day.isoformat(),
                            "amount": str(amount),
                            "currency": code,
                            "source": source,
                        }
                    )
                    break
        repeats.sort(key=lambda r: r["row"])
        return repeats[:MAX_REPEATS], len(repeats)


class Campaigns:
    """References in a file → campaigns: by code, then exact name, then the remembered alias for the
    format, then (platform exports) the campaign's ``utm_campaign``. A name or UTM value that several
    campaigns share matches none. One or two queries per batch of new references."""

    def __init__(self, format: str):
        self.format = format
        self.platform = format != FactSource.GENERIC
        self.found: dict[str, Campaign | None] = {}

    def lookup(self, refs) -> None:
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
        self._tables: dict[str, tuple[np.ndarray, list[Decimal], np.ndarray]] = {}

    def _table(self, currency: str):
        table = self._tables.get(currency)
        if table is None:
            rows = list(FxRate.objects.filter(currency_id=currency).order_by("date").values_list("date", "rate"))
            ordinals = np.array([d.toordinal() for d, _ in rows], dtype=np.int64)
            rates = [r for _, r in rows]
            texts = np.array([str(r) for r in rates], dtype=object)
            table = self._tables[currency] = (ordinals, rates, texts)
        return table

    def rate(self, currency: str, day: datetime.date) -> Decimal | None:
        if currency == settings.BASE_CURRENCY:
            return ONE
        ordinals, rates, _ = self._table(currency)
        index = int(np.searchsorted(ordinals, day.toordinal(), side="right")) - 1
        return rates[index] if index >= 0 else None

    def texts(self, currency: np.ndarray, day: np.ndarray, needed: np.ndarray):
        """For the rows with money (``needed``): (each row's rate as decimal text, None where not
        needed or missing; the rows whose currency mops does not know; the rows with no rate on or
        before their day)."""
        n = len(currency)
        rate = np.full(n, None, dtype=object)
        unknown = np.zeros(n, dtype=bool)
        missing = np.zeros(n, dtype=bool)
        if not needed.any():
            return rate, unknown, missing
        codes, uniques = pd.factorize(currency)
        for i, code in enumerate(uniques):
            rows = np.flatnonzero((codes == i) & needed)
            if code == settings.BASE_CURRENCY:
                rate[rows] = "1"
            elif code not in self.known:
                unknown[rows] = True
            else:
                ordinals, _, texts = self._table(code)
                index = np.searchsorted(ordinals, day[rows], side="right") - 1
                missing[rows] = index < 0
                rate[rows[index >= 0]] = texts[index[index >= 0]]
        return rate, unknown, missing


class ClosedPeriods:
    """The closed months (one query for the whole file)."""

    def __init__(self):
        self.periods = closed_periods_between(datetime.date.min, datetime.date.max)
        self._starts = np.array([p.start_date.toordinal() for p in self.periods], dtype=np.int64)
        self._ends = np.array([p.end_date.toordinal() for p in self.periods], dtype=np.int64)

    def holding(self, days: np.ndarray) -> np.ndarray:
        """Per day (an ordinal), the index of the closed period holding it, or -1."""
        if not self.periods:
            return np.full(len(days), -1, dtype=np.int64)
        index = np.searchsorted(self._starts, days, side="right") - 1
        inside = (index >= 0) & (self._ends[np.maximum(index, 0)] >= days)
        return np.where(inside, index, -1)
