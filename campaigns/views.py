from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from campaigns import selectors
from campaigns.permissions import can_view_campaigns


@require_GET
def home(request):
    """A marketer's landing page: their teams (and, as the campaigns area grows, their campaigns)."""
    if not can_view_campaigns(request.user):
        raise PermissionDenied("The campaigns area is for marketers and the CMO.")
    return render(request, "campaigns/home.html", {"teams": selectors.landing_teams(user=request.user)})
