"""The budgets pages: the ledger's (tree, phasing, commitments) and each subsystem's —
allocation requests and the approval queue, transfers, budget vs actual. URL names are
``budgets:<name>``."""

from django.urls import path

from budgets import views
from budgets.reports import views as report_views
from budgets.requests import views as request_views
from budgets.transfers import views as transfer_views

app_name = "budgets"
urlpatterns = [
    path("", views.home, name="home"),
    *views.urlpatterns,
    *request_views.urlpatterns,
    *transfer_views.urlpatterns,
    *report_views.urlpatterns,
]
