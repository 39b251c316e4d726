"""Reads of campaign facts for lists: each campaign's totals as correlated subqueries, so a page of
campaigns with their spend, leads, pipeline and revenue is one query however many facts there are."""

from django.db.models import DecimalField, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from campaigns.models import ResultFact, SpendEntry
from mops.money import MoneyField


def _total(model, measure: str, output_field):
    per_campaign = (
        model.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")  # GROUP BY campaign: one row, the campaign's sum
        .annotate(total=Sum(measure))
        .values("total")
    )
    return Coalesce(Subquery(per_campaign, output_field=output_field), Value(0), output_field=output_field)


def with_totals(campaigns: QuerySet) -> QuerySet:
    """``campaigns`` annotated with ``spend_base`` (base currency), ``leads``, ``pipeline`` and ``revenue``."""
    money: DecimalField = MoneyField()
    return campaigns.annotate(
        spend_base=_total(SpendEntry, "amount_base", money),
        leads=_total(ResultFact, "leads", IntegerField()),
        pipeline=_total(ResultFact, "pipeline", money),
        revenue=_total(ResultFact, "revenue", money),
    )
