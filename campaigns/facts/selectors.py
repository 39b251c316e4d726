"""Reads of campaign facts for lists: each campaign's totals as correlated subqueries, so a page of
campaigns with their spend, leads, pipeline and revenue is one query however many facts there are."""

from django.db.models import DecimalField, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from campaigns.models import ResultFact, SpendEntry
from mops.money import MoneyField


def sum_per(model, measure: str, output_field, *, key: str = "campaign"):
    """A correlated subquery: the sum of one measure of ``model``'s facts whose ``key`` is the outer
    row. Each fact table is summed in its own subquery, so spend and results never join (a join
    would multiply rows)."""
    per_row = (
        model.objects.filter(**{key: OuterRef("pk")})
        .order_by()
        .values(key)  # GROUP BY key: one row, the outer row's sum
        .annotate(total=Sum(measure))
        .values("total")
    )
    return Coalesce(Subquery(per_row, output_field=output_field), Value(0), output_field=output_field)


def with_totals(campaigns: QuerySet) -> QuerySet:
    """``campaigns`` annotated with ``spend_base`` (base currency), ``leads``, ``pipeline`` and ``revenue``."""
    money: DecimalField = MoneyField()
    return campaigns.annotate(
        spend_base=sum_per(SpendEntry, "amount_base", money),
        leads=sum_per(ResultFact, "leads", IntegerField()),
        pipeline=sum_per(ResultFact, "pipeline", money),
        revenue=sum_per(ResultFact, "revenue", money),
    )
