"""Create the four role groups with the model permissions each needs, and the currencies."""

from django.conf import settings
from django.db import migrations

from mops.roles import grant_permissions

VIEW_CORE = ["mops.view_team", "mops.view_membership", "mops.view_currency", "mops.view_fxrate"]

GRANTS = {
    "marketer": VIEW_CORE,
    "cmo": [*VIEW_CORE, "mops.view_auditevent"],
    "finance": [*VIEW_CORE, "mops.view_auditevent", "mops.add_fxrate", "mops.change_fxrate"],
    "ops_admin": [
        *VIEW_CORE,
        "mops.view_auditevent",
        "mops.add_team",
        "mops.change_team",
        "mops.add_membership",
        "mops.change_membership",
        "mops.delete_membership",
        "mops.add_currency",
        "mops.change_currency",
        "mops.add_fxrate",
        "mops.change_fxrate",
        # Ops admins manage users and their roles (in Django's admin, as staff).
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
    ],
}

# The currencies most marketing organisations book in; ops admins can add more.
CURRENCIES = [
    ("USD", "US dollar", 2),
    ("EUR", "Euro", 2),
    ("GBP", "Pound sterling", 2),
    ("CAD", "Canadian dollar", 2),
    ("AUD", "Australian dollar", 2),
    ("JPY", "Japanese yen", 0),
    ("CHF", "Swiss franc", 2),
    ("SEK", "Swedish krona", 2),
    ("INR", "Indian rupee", 2),
    ("SGD", "Singapore dollar", 2),
    ("BRL", "Brazilian real", 2),
    ("MXN", "Mexican peso", 2),
]


def forwards(apps, schema_editor):
    grant_permissions(apps, GRANTS)
    Currency = apps.get_model("mops", "Currency")
    for code, name, places in CURRENCIES:
        Currency.objects.get_or_create(code=code, defaults={"name": name, "decimal_places": places})
    # The configured base currency must exist even when it is not in the list above.
    Currency.objects.get_or_create(code=settings.BASE_CURRENCY, defaults={"name": settings.BASE_CURRENCY})


class Migration(migrations.Migration):
    dependencies = [
        ("mops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
