"""Budget vs actual: ``budgets.reports.selectors.budget_vs_actual`` for each grouping, on the demo
organisation and on a synthetic one (5,000 lines × 12 months of phasing, 2,000 funded campaigns,
48,000 allocations, 5,000 commitments, 1,000,000 spend entries).

Runs on a throwaway SQLite database by default — with 100,000 spend entries there, inserted in
batches, since SQLite has no ``generate_series`` — or on BENCH_DATABASE_URL (e.g.
postgres://postgres@127.0.0.1:5432/mops_bench_budgets, created if missing), where the synthetic
rows are written set-based with ``INSERT … SELECT generate_series`` and kept between runs.
Prints milliseconds and query counts; asserts nothing about time.
"""

import datetime
import time
from decimal import Decimal

from benchkit import count_queries, setup, timed

setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

LINES, CAMPAIGNS, COMMITMENTS = 5_000, 2_000, 5_000
SYNTHETIC_YEAR = 2031
BENCH_BUDGET = "Bench synthetic budget"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def spend_count() -> int:
    return 1_000_000 if is_postgres() else 100_000


def build_synthetic():
    """The synthetic organisation, written once (kept in a PostgreSQL bench database)."""
    from django.contrib.auth import get_user_model

    from budgets.models import AllocationRequest, Budget, BudgetLine, Commitment
    from campaigns.models import Campaign, Program
    from mops.models import Team
    from planning.models import Channel
    from planning.services import fiscal_year_ensure

    fiscal_year = fiscal_year_ensure(year=SYNTHETIC_YEAR)
    existing = Budget.objects.filter(fiscal_year=fiscal_year, name=BENCH_BUDGET).first()
    if existing is not None:
        return existing
    began = time.perf_counter()
    with transaction.atomic():
        budget = Budget.objects.create(fiscal_year=fiscal_year, name=BENCH_BUDGET, target=Decimal("1e9"))
        teams = Team.objects.bulk_create([Team(name=f"Bench BvA {i:02}", slug=f"bench-bva-{i:02}") for i in range(20)])
        channels = list(Channel.objects.all()[:12])
        programs = Program.objects.bulk_create(
            [Program(name=f"Bench program {i}", code=f"bench-bva-program-{i}") for i in range(10)]
        )
        lines = BudgetLine.objects.bulk_create(
            [
                BudgetLine(
                    budget=budget,
                    name=f"Line {i:04}",
                    code=f"line-{i:04}",
                    team=teams[i % len(teams)],
                    channel=channels[i % len(channels)] if i % 4 else None,
                    program=programs[i % len(programs)] if i % 3 == 0 else None,
                )
                for i in range(LINES)
            ],
            batch_size=1000,
        )
        owner = get_user_model().objects.order_by("pk").first()
        campaigns = Campaign.objects.bulk_create(
            [
                Campaign(
                    name=f"Bench campaign {i:04}",
                    code=f"bench-bva-{i:04}",
                    team=teams[i % len(teams)],
                    owner=owner,
                    channel=channels[i % len(channels)],
                    start_date=fiscal_year.start_date,
                    end_date=fiscal_year.end_date,
                    currency="USD",
                )
                for i in range(CAMPAIGNS)
            ],
            batch_size=1000,
        )
        # Each campaign is funded by two lines (i and i + 2,500): 4,000 requests, 48,000 allocations.
        AllocationRequest.objects.bulk_create(
            [
                AllocationRequest(
                    line=lines[(i + offset) % LINES],
                    campaign=campaign,
                    team=campaign.team,
                    requested_by=owner,
                    justification="bench",
                    currency="USD",
                    amount=Decimal("12000"),
                    amount_base=Decimal("12000"),
                    fx_rate=Decimal("1"),
                    status="approved",
                )
                for i, campaign in enumerate(campaigns)
                for offset in (0, LINES // 2)
            ],
            batch_size=1000,
        )
        periods = list(fiscal_year.periods.order_by("start_date"))
        Commitment.objects.bulk_create(
            [
                Commitment(
                    line=lines[i % LINES],
                    campaign=campaigns[i % CAMPAIGNS] if i % 2 else None,
                    period=periods[i % 12],
                    vendor="Vendor",
                    reference=f"PO-{i:05}",
                    currency="USD",
                    amount=Decimal("5000"),
                    amount_base=Decimal("5000"),
                    fx_rate=Decimal("1"),
                )
                for i in range(COMMITMENTS)
            ],
            batch_size=1000,
        )
        with connection.cursor() as cursor:
            # Phasing: every line × month, one ledger entry each (60,000 rows), set-based.
            cursor.execute(
                """
                INSERT INTO budgets_budgetentry (line_id, period_id, amount, kind, effective_at, note)
                SELECT l.id, p.id, 10000, 'phasing', %s, ''
                FROM budgets_budgetline l CROSS JOIN planning_period p
                WHERE l.budget_id = %s AND p.fiscal_year_id = %s
                """,
                [datetime.datetime(SYNTHETIC_YEAR - 1, 12, 1, tzinfo=datetime.UTC), budget.pk, fiscal_year.pk],
            )
            cursor.execute(
                """
                INSERT INTO budgets_allocation (request_id, line_id, campaign_id, period_id, amount_base, created_at)
                SELECT r.id, r.line_id, r.campaign_id, p.id, 1000, %s
                FROM budgets_allocationrequest r CROSS JOIN planning_period p
                WHERE r.line_id IN (SELECT id FROM budgets_budgetline WHERE budget_id = %s)
                  AND p.fiscal_year_id = %s
                """,
                [datetime.datetime.now(datetime.UTC), budget.pk, fiscal_year.pk],
            )
        insert_spend(campaigns, fiscal_year)
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh bulk rows: give the planner their statistics
    print(f"synthetic organisation written in {time.perf_counter() - began:.1f} s")
    return budget


def insert_spend(campaigns, fiscal_year):
    from campaigns.models import SpendEntry

    count = spend_count()
    first, last = campaigns[0].pk, campaigns[-1].pk
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO campaigns_spendentry
                    (campaign_id, date, amount, currency, amount_base, vendor, reference, source, note,
                     created_at, updated_at)
                SELECT %s + (g %% %s), %s::date + (g %% 365), 10.00, 'USD', 10.00, '', '', 'manual', '',
                       now(), now()
                FROM generate_series(0, %s - 1) AS g
                """,
                [first, last - first + 1, fiscal_year.start_date, count],
            )
        return
    now = datetime.datetime.now(datetime.UTC)
    batch = []
    for g in range(count):
        batch.append(
            SpendEntry(
                campaign_id=first + g % (last - first + 1),
                date=fiscal_year.start_date + datetime.timedelta(days=g % 365),
                amount=Decimal("10.00"),
                currency="USD",
                amount_base=Decimal("10.00"),
                created_at=now,
                updated_at=now,
            )
        )
        if len(batch) == 10_000:
            SpendEntry.objects.bulk_create(batch)
            batch = []
    SpendEntry.objects.bulk_create(batch)


def bench(label, budget, repeat):
    from django.contrib.auth import get_user_model

    from budgets.models import BudgetLine
    from budgets.reports.selectors import GROUPINGS, budget_vs_actual

    finance = get_user_model().objects.filter(groups__name="finance").first()
    lines = BudgetLine.objects.filter(budget=budget).count()
    print(f"-- {label}: {budget} ({lines} lines)")
    for group_by in GROUPINGS:

        def run(group_by=group_by):
            return budget_vs_actual(budget=budget, group_by=group_by, user=finance)

        queries = count_queries(run)
        median, worst, report = timed(run, repeat)
        print(
            f"budget_vs_actual group_by={group_by:<8} median {median:8.1f} ms, max {worst:8.1f} ms, "
            f"{queries} queries, {len(report.rows)} rows"
        )


def main():
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    from budgets.models import Budget

    demo = Budget.objects.filter(is_current=True).exclude(name=BENCH_BUDGET).order_by("-fiscal_year__year").first()
    if demo is not None:
        bench("demo organisation", demo, repeat=10)
    else:
        print("-- demo organisation: no budget seeded (budgets.demo not there yet)")
    synthetic = build_synthetic()
    from campaigns.models import SpendEntry

    spend = SpendEntry.objects.filter(campaign__code__startswith="bench-bva-").count()
    print(f"synthetic spend entries: {spend:,}" + ("" if is_postgres() else " (SQLite: a tenth of PostgreSQL's)"))
    bench("synthetic organisation", synthetic, repeat=3)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")


if __name__ == "__main__":
    main()
