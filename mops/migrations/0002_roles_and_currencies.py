"""Create the four role groups with their model permissions, and the standard currencies.

Both are also re-applied after every migrate and flush (``mops.apps.CoreConfig``), so that roles
follow the apps' ``ROLE_GRANTS`` as they grow.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    from mops.currencies import ensure_currencies
    from mops.roles import sync_roles

    sync_roles(apps, strict=False)  # later apps' permissions follow post_migrate
    ensure_currencies(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("mops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
