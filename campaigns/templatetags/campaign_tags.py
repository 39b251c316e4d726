"""Display helpers of the campaign pages: money and counts, status colours, ratios, audit lines,
file sizes."""

from decimal import Decimal, InvalidOperation

from django import template

from campaigns.attachments.filetypes import human_size

register = template.Library()

# Bootstrap colour of each campaign and import status (badges, calendar bars).
STATUS_COLOURS = {
    "draft": "secondary",
    "planned": "info",
    "in_launch_review": "warning",
    "live": "success",
    "completed": "primary",
    "cancelled": "dark",
    "uploaded": "info",
    "queued": "secondary",
    "running": "primary",
    "done": "success",
    "failed": "danger",
}

AUDIT_LABELS = {
    "campaign.create": "created the campaign",
    "campaign.update": "changed the plan",
    "campaign.status": "changed the status",
}


@register.filter
def status_colour(status) -> str:
    return STATUS_COLOURS.get(str(status), "secondary")


@register.filter
def money(value) -> str:
    """12345.5 → "12,345.50"; nothing → "—"."""
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter
def count(value) -> str:
    """12345 → "12,345"; nothing → "—"."""
    if value is None or value == "":
        return "—"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def file_size(value) -> str:
    """1536 → "1.5 KB", 2621440 → "2.5 MB"."""
    try:
        return human_size(int(value))
    except (TypeError, ValueError):
        return "—"


@register.filter
def percent_of(actual, planned) -> str:
    """Actual as a share of plan ("83%"); "—" without a plan (never a division by zero)."""
    try:
        planned = Decimal(planned)
        if not planned:
            return "—"
        return f"{Decimal(actual) / planned * 100:,.0f}%"
    except (InvalidOperation, TypeError, ValueError):
        return "—"


@register.filter
def ratio(numerator, denominator) -> str:
    """numerator / denominator as money ("—" when the denominator is zero)."""
    try:
        denominator = Decimal(denominator)
        if not denominator:
            return "—"
        return f"{Decimal(numerator) / denominator:,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return "—"


@register.filter
def audit_label(action: str) -> str:
    return AUDIT_LABELS.get(action, action)


@register.simple_tag
def changed_fields(event) -> list[tuple[str, object, object]]:
    """(field, before, after) for each value an audit event changed."""
    before, after = event.before or {}, event.after or {}
    if not before:
        return []
    return [(key, before.get(key), after.get(key)) for key in after if before.get(key) != after.get(key)]
