"""The facts' totals of any set of campaigns from the per-campaign rollup cells — what the campaign list
shows above its rows. ``campaigns.selectors.campaign_totals`` would otherwise sum every spend entry and
result row of the set on each request (seconds of CPU per request at a million fact rows); the
fiscal-year cells hold the same sums per campaign, a few rows each. Registered in
``MetricsConfig.ready`` (campaigns never imports metrics).

Exact, not eventually consistent: a campaign with a pending ``DirtyMark`` (its facts changed and its
cells have not caught up) is summed from its facts instead. Marks are written with the facts (in the
same transaction for single-row writes; on commit for bulk writes), and a refresh writes the cells and
deletes the marks it folded in in one transaction; one SQL statement reads both, so it sees one
snapshot: each campaign is counted once, from its cells or from its facts.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from campaigns.models import ResultFact, SpendEntry
from metrics.rollups.models import Cell, CellSource, DirtyMark, Grain
from mops.money import money


def campaign_fact_totals(campaign_ids: QuerySet) -> dict:
    """``spend`` (base currency), ``leads``, ``mqls``, ``pipeline`` and ``revenue`` summed over the
    campaigns ``campaign_ids`` (a ``values("pk")`` queryset) selects."""
    try:
        ids_sql, ids_params = campaign_ids.query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:  # .none(), pk__in=[]: no campaign
        return {"spend": money(0), "leads": 0, "mqls": 0, "pipeline": money(0), "revenue": money(0)}
    dirty = f"SELECT 1 FROM {DirtyMark._meta.db_table} m WHERE m.source = %s AND m.source_id = "
    sql = f"""
        SELECT SUM(x.spend), SUM(x.leads), SUM(x.mqls), SUM(x.pipeline), SUM(x.revenue) FROM (
            SELECT c.spend, c.leads, c.mqls, c.pipeline, c.revenue FROM {Cell._meta.db_table} c
            WHERE c.source = %s AND c.grain = %s AND c.source_id IN ({ids_sql})
              AND NOT EXISTS ({dirty} c.source_id)
            UNION ALL
            SELECT s.amount_base, 0, 0, 0, 0 FROM {SpendEntry._meta.db_table} s
            WHERE s.campaign_id IN ({ids_sql}) AND EXISTS ({dirty} s.campaign_id)
            UNION ALL
            SELECT 0, r.leads, r.mqls, r.pipeline, r.revenue FROM {ResultFact._meta.db_table} r
            WHERE r.campaign_id IN ({ids_sql}) AND EXISTS ({dirty} r.campaign_id)
        ) x
    """
    source = CellSource.CAMPAIGN
    params = [source, Grain.YEAR, *ids_params, source, *ids_params, source, *ids_params, source]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        spend, leads, mqls, pipeline, revenue = cursor.fetchone()
    return {
        "spend": money(spend or 0),
        "leads": int(leads or 0),
        "mqls": int(mqls or 0),
        "pipeline": money(pipeline or 0),
        "revenue": money(revenue or 0),
    }
