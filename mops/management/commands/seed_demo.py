"""Build the demo organisation. Idempotent: a second run finds everything in place and changes nothing.

Each installed app that has a ``demo`` module contributes its part (``demo.seed(log)`` returns the
number of rows it created), in INSTALLED_APPS order, so the core never imports the apps above it.
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from mops.demo import DEMO_PASSWORD, USERS


class Command(BaseCommand):
    help = "Load the demo organisation: teams, users of every role, fiscal year, channels, FX rates, workflows."

    def handle(self, *args, **options):
        created = 0
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                module_name = f"{app_config.name}.demo"
                if not app_config.name.startswith("django.") and find_spec(module_name) is not None:
                    created += import_module(module_name).seed(log=self.stdout.write)
        if options["verbosity"] < 1:
            return
        self.stdout.write(self.style.SUCCESS(f"Demo organisation ready ({created} new rows)."))
        self.stdout.write(f"Demo logins (demo data only), password '{DEMO_PASSWORD}':")
        for username, first, last, roles, _, _ in USERS:
            if username in ("marketer", "cmo", "finance", "opsadmin"):
                self.stdout.write(f"  {username:<10} {first} {last} — {', '.join(r.label for r in roles)}")
