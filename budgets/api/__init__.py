"""Budgets API: budgets and their lines (read, with monthly amounts), allocation requests (create,
read, and one action per decision) and commitments (finance writes). Every write goes through
``budgets.services`` or ``workflows.services``; their errors become 400 / 403 / 409 bodies in
``mops.api_base.exception_handler``."""

from rest_framework.routers import SimpleRouter

from budgets.api.ledger import BudgetLineViewSet, BudgetViewSet, CommitmentViewSet
from budgets.api.requests import AllocationRequestViewSet

router = SimpleRouter()
router.register("budgets", BudgetViewSet, basename="budget")
router.register("budget-lines", BudgetLineViewSet, basename="budget-line")
router.register("allocation-requests", AllocationRequestViewSet, basename="allocation-request")
router.register("commitments", CommitmentViewSet, basename="commitment")
urlpatterns = router.urls
