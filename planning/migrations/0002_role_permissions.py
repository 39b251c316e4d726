from django.db import migrations

from mops.roles import grant_permissions

VIEW = ["planning.view_fiscalyear", "planning.view_channel"]
GRANTS = {
    "marketer": VIEW,
    "cmo": VIEW,
    "finance": [*VIEW, "planning.add_fiscalyear", "planning.change_fiscalyear"],
    "ops_admin": [*VIEW, "planning.add_channel", "planning.change_channel"],
}


def forwards(apps, schema_editor):
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("planning", "0001_initial"), ("mops", "0002_roles_and_currencies")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
