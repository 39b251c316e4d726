"""Campaign list figures: ``GET /campaigns/`` as the CMO over 10,000 campaigns (40 teams × 10
channels, 50,000 spend rows and 200,000 result rows), per page size (25, 50, 100) and filter (none,
team, channel, text). Prints the median time and the queries per request; the query count must not
depend on the page size (no query per campaign).

Runs on a throwaway SQLite database by default, or on BENCH_DATABASE_URL (e.g.
``postgres://postgres@127.0.0.1:5432/mops_bench``, created when missing; its data is flushed).
Prints figures; asserts only that the query count is the same for every page size.
"""

import datetime
import statistics
import time
from urllib.parse import urlencode

from benchkit import setup

setup()

CAMPAIGNS, TEAMS, CHANNELS = 10_000, 40, 10
RESULT_DAYS, SPEND_DAYS = 20, 5  # per campaign: 200,000 result rows, 50,000 spend rows
FIRST_DAY = datetime.date(2025, 1, 1)
REPEAT = 15


from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402


def setup_data():
    """10,000 campaigns in bulk; their facts set-based (one INSERT … SELECT per table)."""
    from django.contrib.auth.models import Group, User

    from campaigns.models import Campaign, CampaignStatus, ResultFact, SpendEntry
    from mops.models import Membership, Team
    from mops.roles import Role
    from planning.models import Channel

    cmo = User.objects.create_user("bench-cmo", password="x")
    cmo.groups.add(Group.objects.get(name=Role.CMO))
    owner = User.objects.create_user("bench-owner", password="x")
    owner.groups.add(Group.objects.get(name=Role.MARKETER))
    teams = Team.objects.bulk_create([Team(name=f"Bench team {i:02}", slug=f"bench-list-{i:02}") for i in range(TEAMS)])
    Membership.objects.bulk_create([Membership(team=t, user=owner) for t in teams])
    channels = [
        Channel.objects.get_or_create(slug=f"bench-channel-{i}", defaults={"name": f"Bench channel {i}"})[0]
        for i in range(CHANNELS)
    ]
    statuses = list(CampaignStatus.values)
    words = ["webinar", "search", "launch", "retarget", "summit", "ebook", "brand", "partner"]
    Campaign.objects.bulk_create(
        [
            Campaign(
                name=f"{words[i % len(words)].title()} {words[(i // 8) % len(words)]} {i:05}",
                code=f"bench-list-{i:05}",
                team=teams[i % TEAMS],
                owner=owner,
                channel=channels[(i // TEAMS) % CHANNELS],
                status=statuses[i % len(statuses)],
                start_date=FIRST_DAY + datetime.timedelta(days=i % 300),
                end_date=FIRST_DAY + datetime.timedelta(days=i % 300 + 60),
                currency="USD",
            )
            for i in range(CAMPAIGNS)
        ],
        batch_size=2000,
    )
    postgres = connection.vendor == "postgresql"
    day = "c.start_date + d.n" if postgres else "date(c.start_date, '+' || d.n || ' days')"
    days = f"WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < {RESULT_DAYS - 1}) "
    campaigns = f"{Campaign._meta.db_table} c"
    now = "CURRENT_TIMESTAMP"
    with connection.cursor() as cursor:
        cursor.execute(
            f"{days}INSERT INTO {ResultFact._meta.db_table} (campaign_id, date, source, impressions, clicks, leads, "
            "mqls, sqls, opportunities, pipeline, new_customers, revenue, updated_by_id, updated_at) "
            f"SELECT c.id, {day}, 'generic', 1000 + d.n, 10 + d.n, d.n %% 4, d.n %% 3, d.n %% 2, 0, 150.00, 0, 0, "
            f"%s, {now} FROM {campaigns} CROSS JOIN d",
            [owner.pk],
        )
        cursor.execute(
            f"{days}INSERT INTO {SpendEntry._meta.db_table} (campaign_id, date, amount, currency, amount_base, "
            "source, external_key, reference, note, vendor, created_by_id, created_at, updated_at) "
            f"SELECT c.id, {day}, 120.50 + d.n, 'USD', 120.50 + d.n, 'generic', 'generic', '', '', '', %s, "
            f"{now}, {now} FROM {campaigns} CROSS JOIN d WHERE d.n < {SPEND_DAYS}",
            [owner.pk],
        )
    from metrics.rollups import services

    services.rebuild_all(compare=False)  # the list's totals read the rollups (facts written behind their back)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return cmo, teams, channels


def measure(client, url):
    """(median ms, queries per request) of GET url."""
    queries = []

    def count(execute, sql, *args):
        queries.append(sql)
        return execute(sql, *args)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(REPEAT):
        began = time.perf_counter()
        client.get(url)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000, len(queries)


def main():
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from campaigns.models import Campaign, ResultFact, SpendEntry

    began = time.perf_counter()
    cmo, teams, channels = setup_data()
    vendor = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"database: {vendor}; {Campaign.objects.count():,} campaigns, {SpendEntry.objects.count():,} spend rows, "
        f"{ResultFact.objects.count():,} result rows (set up in {time.perf_counter() - began:.1f} s)"
    )
    client = Client()
    client.force_login(cmo)
    filters = {
        "no filter": {},
        "team": {"team": teams[3].pk},
        "channel": {"channel": channels[2].pk},
        "text 'summit'": {"q": "summit"},
        "text, no match": {"q": "zzz-nothing"},
        "team + channel + text": {"team": teams[3].pk, "channel": channels[2].pk, "q": "webinar"},
    }
    print(f"GET /campaigns/ as the CMO, median of {REPEAT}: ms (queries)")
    print(f"{'filter':<24}" + "".join(f"{f'{size} per page':>20}" for size in (25, 50, 100)))
    for label, params in filters.items():
        cells, counts = [], set()
        for size in (25, 50, 100):
            median, queries = measure(client, "/campaigns/?" + urlencode({**params, "per_page": size}))
            cells.append(f"{median:.1f} ms ({queries})")
            counts.add(queries)
        print(f"{label:<24}" + "".join(f"{c:>20}" for c in cells))
        assert len(counts) == 1, f"{label}: the query count depends on the page size: {sorted(counts)}"
    median, queries = measure(client, "/campaigns/?" + urlencode({"per_page": 25, "page": 200}))
    print(f"{'page 200 of 25':<24}{median:>17.1f} ms ({queries})")


if __name__ == "__main__":
    main()
