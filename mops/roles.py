"""The four roles of mops, held as Django groups (created by migration ``mops.0002_roles``).

A user may have several roles. Role names are the group names; code compares against ``Role``
values, never string literals.
"""

from django.db import models


class Role(models.TextChoices):
    MARKETER = "marketer", "Marketer"  # plans and runs campaigns for their teams
    CMO = "cmo", "CMO"  # sees everything, approves above template thresholds
    FINANCE = "finance", "Finance"  # sets envelopes, approves money, locks periods
    OPS_ADMIN = "ops_admin", "Ops admin"  # workflow templates, reference data, teams and users


# Where each role lands after login, in order of precedence for users with several roles.
LANDING_URLS = [
    (Role.CMO, "metrics:dashboard"),
    (Role.FINANCE, "budgets:home"),
    (Role.MARKETER, "campaigns:home"),
    (Role.OPS_ADMIN, "mops:ops-home"),
]


def user_roles(user) -> frozenset[str]:
    """The roles of a user, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_mops_roles", None)
    if cached is None:
        valid = set(Role.values)
        cached = frozenset(name for name in user.groups.values_list("name", flat=True) if name in valid)
        user._mops_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user).intersection(roles))


def grant_permissions(apps, grants: dict[str, list[str]]) -> None:
    """Give role groups model permissions, for data migrations of every app.

    ``grants`` maps a role to ``"app_label.codename"`` strings. Permissions are normally created
    after migrations run, so this creates the missing ones first (idempotent).
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
