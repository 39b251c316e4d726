"""Budgets API: budgets and their lines (read, with monthly amounts), allocation requests (create,
read, and one action per decision), commitments (finance writes), transfers (create and read;
decided through the workflow API) and the budget vs actual report. Every write goes through
``budgets.services`` or ``workflows.services``; their errors become 400 / 403 / 409 bodies in
``mops.api_base.exception_handler``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from budgets.api.ledger import BudgetLineViewSet, BudgetViewSet, CommitmentViewSet
from budgets.api.requests import AllocationRequestViewSet
from budgets.api.transfers import BudgetVsActualView, TransferViewSet

router = SimpleRouter()
router.register("budgets", BudgetViewSet, basename="budget")
router.register("budget-lines", BudgetLineViewSet, basename="budget-line")
router.register("allocation-requests", AllocationRequestViewSet, basename="allocation-request")
router.register("commitments", CommitmentViewSet, basename="commitment")
router.register("transfers", TransferViewSet, basename="transfer")
urlpatterns = [
    *router.urls,
    path("budget-vs-actual/", BudgetVsActualView.as_view(), name="budget-vs-actual"),
]
