from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from planning import selectors, services
from planning.forms import ChannelForm
from planning.permissions import can_manage_taxonomy


@require_http_methods(["GET", "POST"])
def home(request):
    """The fiscal calendar and the channel taxonomy; ops admins add channels here."""
    can_manage = can_manage_taxonomy(request.user)
    form = ChannelForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied("Only ops admins can manage channels.")
        if form.is_valid():
            channel = services.channel_create(actor=request.user, **form.cleaned_data)
            messages.success(request, f"Channel “{channel.name}” added.")
            return redirect("planning:home")
    fiscal_year = selectors.current_fiscal_year()
    return render(
        request,
        "planning/home.html",
        {
            "fiscal_year": fiscal_year,
            "months": selectors.months_of(fiscal_year) if fiscal_year else [],
            "channel_groups": selectors.channels_by_group(user=request.user, active_only=False),
            "form": form,
        },
    )
