"""Display helpers of the workflow pages: people, subject type labels, status colours, history."""

from django import template

from workflows import registry

register = template.Library()

# Bootstrap colour of each step and instance status (the strip, badges).
STATUS_COLOURS = {
    "pending": "secondary",
    "active": "primary",
    "done": "success",
    "approved": "success",
    "completed": "success",
    "rejected": "danger",
    "returned": "warning",
    "changes_requested": "warning",
    "skipped": "light",
    "running": "primary",
    "in_review": "primary",
    "cancelled": "secondary",
    "superseded": "secondary",
    "retired": "secondary",
}

EVENT_LABELS = {
    "workflow.start": "started the workflow",
    "workflow.complete": "workflow finished: approved / completed",
    "workflow.reject": "workflow ended: rejected",
    "workflow.return": "workflow sent back for changes",
    "workflow.resubmit": "resubmitted",
    "workflow.cancel": "cancelled the workflow",
    "step.activate": "step waiting",
    "step.complete": "completed",
    "step.approve": "approved",
    "step.reject": "rejected",
    "step.return": "sent back",
    "step.reassign": "reassigned",
    "step.escalate": "escalated to the team lead",
}


@register.filter
def person(user):
    if user is None:
        return "system"
    return user.get_full_name() or user.username


@register.filter
def subject_label(key):
    try:
        return registry.get(key).label
    except LookupError:
        return key


@register.filter
def status_colour(status):
    return STATUS_COLOURS.get(str(status), "secondary")


@register.filter
def event_label(event):
    return EVENT_LABELS.get(event.action, event.action)


@register.filter
def event_detail(event, key):
    """A value of the event's ``after`` (or ``before``) snapshot, e.g. its step or comment."""
    for snapshot in (event.after, event.before):
        if isinstance(snapshot, dict) and snapshot.get(key):
            return snapshot[key]
    return ""
