"""The upsert statements of an import's write (``writing``), built once per run: from a table of
campaign-days in SQL on PostgreSQL (``UpsertFromDays``), or from rows in Python (``Upsert``)."""

from django.db import connection

from campaigns.importers import shapes
from campaigns.models import RESULT_MEASURES, ResultFact, SpendEntry


class UpsertFromDays:
    """The PostgreSQL write of a chunk of campaign-days (``n`` between ``%(first)s`` and ``%(last)s``
    of a table of days: their rows' sums, in the rows' currency): one statement rounds and converts
    them — in ``numeric``, rounding half away from zero as ``mops.money`` does — and upserts the
    spend and result facts, ``ON CONFLICT DO UPDATE … WHERE`` the stored values differ (unchanged
    facts are not written), and counts the file rows per outcome from what the upserts return
    (``xmax = 0``: the row was inserted, not updated)."""

    def __init__(self, writer, table: str, *, one_row_each: bool):
        """``writer``: the ``writing.Writer`` whose source, measures and spend it writes."""
        quote = connection.ops.quote_name
        values = []
        for m in writer.measures:
            if m in shapes.MONEY_MEASURES:  # like spend: rounded in its currency, then converted
                values.append(f"round(round({quote(m)}, 2) * rate, 2) AS {quote(m)}")
            else:  # counts: fractional conversions add up, then round
                values.append(f"round({quote(m)}) AS {quote(m)}")
        days = (
            f"(SELECT campaign_id, date, {'1' if one_row_each else 'file_rows'} AS file_rows, currency, "
            "round(spend, 2) AS amount, round(round(spend, 2) * rate, 2) AS amount_base"
            f"{''.join(', ' + v for v in values)} FROM {table} WHERE n BETWEEN %(first)s AND %(last)s)"
        )
        result_fields = {f.name: f for f in ResultFact._meta.concrete_fields}
        ctes, joins, inserted, touched = [], [], [], []
        if writer.has_spend:
            table = quote(SpendEntry._meta.db_table)
            compared = ("amount", "currency", "amount_base")
            ctes.append(
                f"s AS (INSERT INTO {table} (campaign_id, date, amount, currency, amount_base, source, external_key, "
                f"reference, note, vendor, created_by_id, created_at, updated_at) "
                f"SELECT campaign_id, date, amount, currency, amount_base, %(source)s, %(source)s, %(reference)s, "
                f"%(note)s, '', %(actor)s, %(now)s, %(now)s FROM {days} AS d WHERE amount IS NOT NULL "
                f"ON CONFLICT (campaign_id, date, source, external_key) DO UPDATE SET amount = EXCLUDED.amount, "
                f"currency = EXCLUDED.currency, amount_base = EXCLUDED.amount_base, reference = EXCLUDED.reference, "
                f"note = EXCLUDED.note, updated_at = EXCLUDED.updated_at "
                f"WHERE ({', '.join(f'{table}.{c}' for c in compared)}) IS DISTINCT FROM "
                f"({', '.join(f'EXCLUDED.{c}' for c in compared)}) "
                f"RETURNING campaign_id, date, (xmax = 0) AS inserted)"
            )
            joins.append("LEFT JOIN s USING (campaign_id, date)")
            inserted.append("s.inserted")
            touched.append("s.campaign_id IS NOT NULL")
        if writer.measures:
            table = quote(ResultFact._meta.db_table)
            measures = [quote(result_fields[m].column) for m in writer.measures]
            absent = [quote(result_fields[m].column) for m in RESULT_MEASURES if m not in writer.measures]
            ctes.append(
                f"r AS (INSERT INTO {table} (campaign_id, date, source, {', '.join(measures + absent)}, "
                f"updated_by_id, updated_at) "
                f"SELECT campaign_id, date, %(source)s, {', '.join(measures + ['0'] * len(absent))}, %(actor)s, "
                f"%(now)s FROM {days} AS d "
                f"ON CONFLICT (campaign_id, date, source) DO UPDATE SET "
                f"{', '.join(f'{m} = EXCLUDED.{m}' for m in measures)}, updated_by_id = EXCLUDED.updated_by_id, "
                f"updated_at = EXCLUDED.updated_at "
                f"WHERE ({', '.join(f'{table}.{m}' for m in measures)}) IS DISTINCT FROM "
                f"({', '.join(f'EXCLUDED.{m}' for m in measures)}) "
                f"RETURNING campaign_id, date, (xmax = 0) AS inserted)"
            )
            joins.append("LEFT JOIN r USING (campaign_id, date)")
            inserted.append("r.inserted")
            touched.append("r.campaign_id IS NOT NULL")
        created = f"coalesce({' OR '.join(inserted)}, false)" if inserted else "false"
        changed = " OR ".join(touched) if touched else "false"
        self.statement = (
            f"WITH {', '.join(ctes)}, o AS (SELECT d.campaign_id, d.date, d.file_rows, {created} AS created, "
            f"({changed}) AS changed FROM {days} AS d {' '.join(joins)}) "
            "SELECT coalesce(sum(file_rows) FILTER (WHERE created), 0), "
            "coalesce(sum(file_rows) FILTER (WHERE changed AND NOT created), 0), "
            "coalesce(sum(file_rows) FILTER (WHERE NOT changed), 0), "
            "array_agg(DISTINCT campaign_id) FILTER (WHERE changed), min(date) FILTER (WHERE changed), "
            "max(date) FILTER (WHERE changed) FROM o"
        )


class Upsert:
    """One upsert statement per chunk: ``INSERT … ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col``,
    the statement ``bulk_create(update_conflicts=True, unique_fields=…, update_fields=…)`` sends —
    built once here instead of instantiating and compiling a model per row, which took 85% of an
    import's time (2,500 rows/s). On PostgreSQL the rows travel as one array per column
    (``SELECT * FROM unnest(%s::date[], …)``), which the server plans in constant time; a
    2,000-row ``VALUES`` list cost as much to plan as to insert. Elsewhere (SQLite ≥ 3.24) a
    ``VALUES`` list, split at ``max_query_params``. Rows are tuples in ``columns`` order."""

    def __init__(self, model, columns: list[str], *, conflict: list[str], update: list[str]):
        meta, quote = model._meta, connection.ops.quote_name
        fields = {name: meta.get_field(name) for name in {*columns, *conflict, *update}}
        column = {name: quote(field.column) for name, field in fields.items()}
        self.width = len(columns)
        self.head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(column[c] for c in columns)}) "
        self.tail = f" ON CONFLICT ({', '.join(column[c] for c in conflict)}) DO UPDATE SET " + ", ".join(
            f"{column[c]} = EXCLUDED.{column[c]}" for c in update
        )
        self.placeholder = "(" + ", ".join(["%s"] * self.width) + ")"
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in columns)
            self.unnest = f"{self.head}SELECT * FROM unnest({arrays}){self.tail}"

    def execute(self, rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(self.unnest, [list(column) for column in zip(*rows, strict=True)])
                return
            limit = connection.features.max_query_params
            size = max(1, limit // self.width) if limit else len(rows)
            for start in range(0, len(rows), size):
                part = rows[start : start + size]
                sql = f"{self.head}VALUES {', '.join([self.placeholder] * len(part))}{self.tail}"
                cursor.execute(sql, [value for row in part for value in row])
