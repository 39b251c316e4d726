"""The measures and KPIs a target can be set on. The formulas live in ``metrics``; planning names
them so that objectives can carry targets before any number has been rolled up."""

from django.db import models


class Kpi(models.TextChoices):
    # Base measures (summed)
    SPEND = "spend", "Spend"
    IMPRESSIONS = "impressions", "Impressions"
    CLICKS = "clicks", "Clicks"
    LEADS = "leads", "Leads"
    MQLS = "mqls", "MQLs"
    SQLS = "sqls", "SQLs"
    OPPORTUNITIES = "opportunities", "Opportunities"
    PIPELINE = "pipeline", "Pipeline"
    NEW_CUSTOMERS = "new_customers", "New customers"
    REVENUE = "revenue", "Won revenue"
    # Ratios (computed from summed numerator and denominator)
    CTR = "ctr", "CTR"
    CPC = "cpc", "CPC"
    CPL = "cpl", "Cost per lead"
    COST_PER_MQL = "cost_per_mql", "Cost per MQL"
    CAC = "cac", "CAC"
    ROAS = "roas", "ROAS"
    ROI = "roi", "ROI"


# Targets on these are amounts of money (base currency), so within the money bound (mops.money).
MONEY_KPIS = frozenset({Kpi.SPEND, Kpi.PIPELINE, Kpi.REVENUE, Kpi.CPC, Kpi.CPL, Kpi.COST_PER_MQL, Kpi.CAC})
