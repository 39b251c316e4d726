from django.conf import settings

from mops.navigation import nav_items


def mops(request):
    return {
        "mops_version": settings.MOPS_VERSION,
        "base_currency": settings.BASE_CURRENCY,
        "nav_items": nav_items(request.user) if hasattr(request, "user") else [],
        "nav_section": request.path_info.strip("/").split("/")[0],
    }
