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
def decider(step):
    """Who decided a step: "Bob Delegate for Nadia Approver" when a delegate acted for an assignee."""
    who = person(step.decided_by)
    return f"{who} for {person(step.decided_for)}" if step.decided_for_id else who


@register.filter
def event_actor(event):
    """Who acted in a history event, with whom they acted for when a delegation was used (the
    assignee's name as it was then, kept in the event)."""
    who = person(event.actor)
    acted_for = event.after.get("for_name") if isinstance(event.after, dict) else None
    return f"{who} for {acted_for}" if acted_for else who


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
