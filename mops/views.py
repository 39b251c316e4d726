"""Core pages: home (sends each role to its landing page), health, teams, FX rates, ops admin."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import (
    DisallowedHost,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mops import permissions as policy
from mops import selectors, services
from mops.forms import FxRateForm, MembershipForm, TeamForm, add_service_errors
from mops.health import health
from mops.models import AuditEvent, Membership
from mops.roles import LANDING_URLS, Role, has_role


def home(request):
    for role, url_name in LANDING_URLS:
        if has_role(request.user, role):
            return redirect(url_name)
    return render(request, "mops/no_role.html")


@login_not_required
@never_cache
@require_GET
def healthz(request):
    healthy, body = health()
    return JsonResponse(body, status=200 if healthy else 503)


def _forbid_unless(allowed: bool, message: str):
    if not allowed:
        raise PermissionDenied(message)


@require_http_methods(["GET", "POST"])
def team_list(request):
    can_manage = policy.can_manage_teams(request.user)
    form = TeamForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        _forbid_unless(can_manage, "Only ops admins can create teams.")
        if form.is_valid():
            try:
                team = services.team_create(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Team “{team.name}” created.")
                return redirect("mops:team-detail", slug=team.slug)
    search = request.GET.get("q", "").strip()
    page = Paginator(selectors.team_list(user=request.user, search=search), 25).get_page(request.GET.get("page"))
    return render(
        request, "mops/team_list.html", {"page": page, "form": form, "search": search, "can_manage": can_manage}
    )


@require_http_methods(["GET", "POST"])
def team_detail(request, slug):
    team = get_object_or_404(selectors.team_detail_queryset(user=request.user), slug=slug)
    can_manage = policy.can_manage_teams(request.user)
    team_form = TeamForm(instance=team, prefix="team") if can_manage else None
    member_form = MembershipForm(prefix="member") if can_manage else None
    if request.method == "POST":
        _forbid_unless(can_manage, "Only ops admins can change teams.")
        if "team-name" in request.POST:
            team_form = TeamForm(request.POST, instance=team, prefix="team")
            if team_form.is_valid():
                team = services.team_update(actor=request.user, team=team, **team_form.cleaned_data)
                messages.success(request, "Team saved.")
                return redirect("mops:team-detail", slug=team.slug)
        else:
            member_form = MembershipForm(request.POST, prefix="member")
            if member_form.is_valid():
                membership = services.membership_set(actor=request.user, team=team, **member_form.cleaned_data)
                messages.success(
                    request,
                    f"{membership.user.username} is now {'lead of' if membership.is_lead else 'a member of'} {team}.",
                )
                return redirect("mops:team-detail", slug=team.slug)
    return render(
        request,
        "mops/team_detail.html",
        {"team": team, "team_form": team_form, "member_form": member_form, "can_manage": can_manage},
    )


@require_POST
def membership_remove(request, slug, membership_id):
    _forbid_unless(policy.can_manage_teams(request.user), "Only ops admins can change team membership.")
    membership = get_object_or_404(Membership.objects.select_related("team", "user"), pk=membership_id, team__slug=slug)
    services.membership_remove(actor=request.user, membership=membership)
    messages.success(request, f"{membership.user.username} removed from {membership.team}.")
    return redirect("mops:team-detail", slug=slug)


@require_http_methods(["GET", "POST"])
def fx_list(request):
    _forbid_unless(
        policy.can_manage_fx_rates(request.user) or policy.is_cmo(request.user), "You cannot view exchange rates here."
    )
    can_manage = policy.can_manage_fx_rates(request.user)
    form = FxRateForm(request.POST or None) if can_manage else None
    if request.method == "POST":
        _forbid_unless(can_manage, "Only finance and ops admins can set exchange rates.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                fx = services.fx_rate_set(
                    actor=request.user,
                    currency=data["currency"].code,
                    date=data["date"],
                    rate=data["rate"],
                    source=data["source"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request, f"Rate for {fx.currency_id} on {fx.date:%Y-%m-%d} set to {fx.rate.normalize()}."
                )
                return redirect("mops:fx-list")
    rates = policy.fx_rates_visible_to(request.user).select_related("currency").order_by("-date", "currency_id")
    page = Paginator(rates, 50).get_page(request.GET.get("page"))
    return render(request, "mops/fx_list.html", {"page": page, "form": form})


@require_GET
def ops_home(request):
    _forbid_unless(policy.is_ops_admin(request.user), "The ops admin pages are for ops admins.")
    User = get_user_model()
    role_counts = dict(
        User.objects.filter(is_active=True, groups__name__in=Role.values)
        .values_list("groups__name")
        .annotate(n=Count("id", distinct=True))
    )
    roles = [(role.label, role_counts.get(role.value, 0)) for role in Role]
    events = AuditEvent.objects.select_related("actor", "content_type")[:20]
    return render(
        request,
        "mops/ops_home.html",
        {
            "roles": roles,
            "teams": selectors.team_list(user=request.user),
            "events": events,
            "admin_url": reverse("admin:index"),
        },
    )


def _wants_json(request):
    return request.path_info.startswith("/api/")


def _bad_request_reason(exception) -> str:
    """What was wrong with a request Django refused before any view ran, naming the limit."""
    if isinstance(exception, DisallowedHost):
        return "The Host header names a host this server does not answer to (ALLOWED_HOSTS)."
    if isinstance(exception, RequestDataTooBig):
        return (
            f"The request body is larger than the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE); send fewer rows at once, or upload a file to the imports."
        )
    if isinstance(exception, TooManyFieldsSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,} fields, the limit."
    if isinstance(exception, TooManyFilesSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,} files, the limit."
    return "The request could not be read."


def bad_request(request, exception=None):
    """``handler400``: a request refused before any view (a bad Host, a body past the size limit,
    too many fields, an unreadable multipart body): JSON naming the reason under /api/."""
    if _wants_json(request):
        return JsonResponse({"detail": _bad_request_reason(exception)}, status=400)
    return defaults.bad_request(request, exception)


def not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def forbidden(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have permission to do this."
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=403)
    return render(request, "403.html", {"message": message}, status=403)
