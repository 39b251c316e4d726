"""The currencies mops knows from the start; ops admins can add more."""

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


def ensure_currencies(apps=None) -> None:
    """Create the standard currencies and the configured base currency when missing (idempotent)."""
    # Imported here: this runs in a data migration and after migrate, with the app registry given or global.
    from django.apps import apps as global_apps
    from django.conf import settings

    Currency = (apps or global_apps).get_model("mops", "Currency")
    for code, name, places in CURRENCIES:
        Currency.objects.get_or_create(code=code, defaults={"name": name, "decimal_places": places})
    Currency.objects.get_or_create(code=settings.BASE_CURRENCY, defaults={"name": settings.BASE_CURRENCY})
