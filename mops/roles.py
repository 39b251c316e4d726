"""The four roles of mops, held as Django groups (created by migration ``mops.0002_roles``).

A user may have several roles. Role names are the group names; code compares against ``Role``
values, never string literals.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps as global_apps
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


def collect_role_grants() -> dict[str, set[str]]:
    """Every app's ``ROLE_GRANTS`` (in its ``permissions.py``): role → {"app_label.codename", …}."""
    grants: dict[str, set[str]] = {role.value: set() for role in Role}
    for app_config in global_apps.get_app_configs():
        module_name = f"{app_config.name}.permissions"
        if not app_config.name.startswith("django.") and find_spec(module_name) is not None:
            for role, perms in getattr(import_module(module_name), "ROLE_GRANTS", {}).items():
                grants[role].update(perms)
    return grants


def sync_roles(apps=None, *, strict: bool = True) -> None:
    """Create the role groups and give each the model permissions its apps' ``ROLE_GRANTS`` name.

    Idempotent; adds, never removes (an ops admin may have granted more in Django's admin). Runs in
    the data migration ``mops.0002`` and after every ``migrate``/``flush`` (post_migrate), because
    Django creates permissions only after migrations and a flush empties the groups table. In the
    migration (``strict=False``) models of apps not migrated yet are skipped; post_migrate, which
    runs when every app is migrated, refuses a grant naming an unknown permission.
    """
    # Imported here: auth's management code imports models, and the migration mops.0002 imports this
    # module while the app registry is still being filled.
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in collect_role_grants().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [tuple(perm.split(".")) for perm in sorted(perms)]
        found = {
            (p.content_type.app_label, p.codename): p
            for p in Permission.objects.filter(codename__in=[c for _, c in wanted]).select_related("content_type")
        }
        missing = [".".join(key) for key in wanted if key not in found]
        if missing and strict:
            raise LookupError(f"ROLE_GRANTS of {role!r} name unknown permissions: {missing}")
        group.permissions.add(*(found[key] for key in wanted if key in found))
