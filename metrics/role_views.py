"""The finance, marketer and ops dashboards (metrics.role_panels), each a ``metrics.views.board_page``
for its role."""

from django.views.decorators.http import require_GET

from metrics import permissions, role_panels
from metrics.views import board_page


@require_GET
def finance(request):
    return board_page(
        request,
        role_panels.FinanceBoard,
        allowed=permissions.can_view_finance_dashboard,
        refusal="The finance dashboard is for finance and the CMO.",
    )


@require_GET
def marketer(request):
    return board_page(
        request,
        role_panels.MarketerBoard,
        allowed=permissions.can_view_marketer_dashboard,
        refusal="The marketing dashboard is for marketers: it shows their teams' campaigns and tasks.",
    )


@require_GET
def ops(request):
    return board_page(
        request,
        role_panels.OpsBoard,
        allowed=permissions.can_view_ops_dashboard,
        refusal="The ops dashboard is for ops admins and the CMO.",
    )
