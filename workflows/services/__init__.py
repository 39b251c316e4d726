"""Every write of the workflow engine, in three modules: ``templates`` (definitions and their
versions), ``instances`` (running workflows and the people acting on them) and ``sla`` (the
overdue sweep). Import from here: ``from workflows import services``."""

from workflows.services.instances import (
    ActionRefused,
    ActResult,
    delegation_create,
    instance_cancel,
    instance_resubmit,
    instance_start,
    task_act,
    task_reassign,
)
from workflows.services.sla import SweepResult, sla_sweep
from workflows.services.templates import (
    RESERVED_SLUGS,
    STEP_FIELDS,
    template_create,
    template_retire,
    template_update,
)

__all__ = [
    "RESERVED_SLUGS",
    "STEP_FIELDS",
    "ActResult",
    "ActionRefused",
    "SweepResult",
    "delegation_create",
    "instance_cancel",
    "instance_resubmit",
    "instance_start",
    "sla_sweep",
    "task_act",
    "task_reassign",
    "template_create",
    "template_retire",
    "template_update",
]
