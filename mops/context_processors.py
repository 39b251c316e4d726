from django.conf import settings

from mops.navigation import active_item, nav_items


def mops(request):
    items = nav_items(request.user) if hasattr(request, "user") else []
    return {
        "mops_version": settings.MOPS_VERSION,
        "base_currency": settings.BASE_CURRENCY,
        "nav_items": items,
        "nav_active": active_item(items, request.path_info),
    }
