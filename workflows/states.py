"""The state machines of instances and steps: allowed transitions in one table each, applied by
one function as a conditional UPDATE.

Zero rows updated means someone else moved the row first (a lost race): that raises
``TransitionConflict`` — answered as 409 by the API and as a message on the pages — never a
double approval.
"""

from django.db.models import Model

from mops.errors import Conflict
from workflows.models import InstanceStatus, StepStatus

STEP_TRANSITIONS: dict[str, dict[str, str]] = {
    # action: {from state: to state}
    "activate": {StepStatus.PENDING: StepStatus.ACTIVE},
    "complete": {StepStatus.ACTIVE: StepStatus.DONE},
    "approve": {StepStatus.ACTIVE: StepStatus.APPROVED},
    "reject": {StepStatus.ACTIVE: StepStatus.REJECTED},
    "return": {StepStatus.ACTIVE: StepStatus.RETURNED},
    # a condition did not apply, an any-of stage was decided, or the instance ended
    "skip": {StepStatus.PENDING: StepStatus.SKIPPED, StepStatus.ACTIVE: StepStatus.SKIPPED},
}

INSTANCE_TRANSITIONS: dict[str, dict[str, str]] = {
    "complete": {InstanceStatus.RUNNING: InstanceStatus.COMPLETED},
    "reject": {InstanceStatus.RUNNING: InstanceStatus.REJECTED},
    "return": {InstanceStatus.RUNNING: InstanceStatus.RETURNED},
    "resubmit": {InstanceStatus.RETURNED: InstanceStatus.RUNNING},
    "cancel": {InstanceStatus.RUNNING: InstanceStatus.CANCELLED, InstanceStatus.RETURNED: InstanceStatus.CANCELLED},
}


class TransitionConflict(Conflict):
    """The row was not in a state the action applies to (usually: someone else acted first)."""


class TransitionNotAllowed(ValueError):
    """The action never applies to the row's kind or state (a programming or input error)."""


def transition(obj: Model, action: str, table: dict[str, dict[str, str]], **changes) -> Model:
    """Move ``obj`` by ``action`` with ``UPDATE … WHERE pk = … AND status = <from>``.

    ``obj.status`` is the state the caller saw; the update succeeds only if the row is still in it.
    """
    moves = table.get(action)
    if moves is None:
        raise TransitionNotAllowed(f"Unknown action {action!r}.")
    target = moves.get(obj.status)
    if target is None:
        raise TransitionConflict(f"Cannot {action} something that is {obj.get_status_display().lower()}.")
    updated = type(obj).objects.filter(pk=obj.pk, status=obj.status).update(status=target, **changes)
    if updated == 0:
        raise TransitionConflict("Someone else acted on this first.")
    obj.status = target
    for field, value in changes.items():
        setattr(obj, field, value)
    return obj


def step_transition(step, action: str, **changes):
    return transition(step, action, STEP_TRANSITIONS, **changes)


def instance_transition(instance, action: str, **changes):
    return transition(instance, action, INSTANCE_TRANSITIONS, **changes)
