"""Writes to programs (the initiatives campaigns roll up to): validate, lock, write, audit.

Kept apart from ``campaigns.services`` so the API could add them without touching the campaign
services; the rules are the same — marketers and ops admins manage programs (``can_manage_programs``).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.text import slugify

from campaigns.models import Program
from campaigns.permissions import can_edit_program, can_give_program_to, can_manage_programs
from mops.services import audit, snapshot

PROGRAM_FIELDS = ["name", "code", "team", "objective", "owner", "description", "is_active"]


def _require_manager(actor):
    if not can_manage_programs(actor):
        raise PermissionDenied("Only marketers and ops admins can create or change programs.")


def _require_team(actor, team):
    if not can_give_program_to(actor, team):
        raise PermissionDenied("Marketers keep programs of their own teams only.")


def program_create(*, actor, name: str, code: str = "", **fields) -> Program:
    """Create a program; the code defaults to the slugified name (and must be unique)."""
    _require_manager(actor)
    unknown = set(fields) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValueError(f"Unknown program fields: {sorted(unknown)}")
    _require_team(actor, fields.get("team"))
    program = Program(name=name.strip(), code=code or slugify(name)[:40], **fields)
    program.full_clean()
    with transaction.atomic():
        program.save()
        audit(actor=actor, action="program.create", obj=program, after=snapshot(program, PROGRAM_FIELDS))
    return program


def program_update(*, actor, program: Program, **changes) -> Program:
    _require_manager(actor)
    if not can_edit_program(actor, program):
        raise PermissionDenied("Only the team's marketers and ops admins can change a team's program.")
    if "team" in changes:
        _require_team(actor, changes["team"])
    unknown = set(changes) - set(PROGRAM_FIELDS)
    if unknown:
        raise ValueError(f"Unknown program fields: {sorted(unknown)}")
    with transaction.atomic():
        program = Program.objects.select_for_update().get(pk=program.pk)
        before = snapshot(program, PROGRAM_FIELDS)
        for field, value in changes.items():
            setattr(program, field, value)
        program.full_clean()
        program.save()
        audit(actor=actor, action="program.update", obj=program, before=before, after=snapshot(program, PROGRAM_FIELDS))
    return program
