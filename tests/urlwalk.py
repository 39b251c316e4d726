"""Every URL the project serves, generated from the URL conf, for authorization tests."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_SAMPLES = {
    "int": "1",
    "slug": "some-slug",
    "str": "some-str",
    "path": "some/path",
    "uuid": "00000000-0000-0000-0000-000000000001",
}


def _concrete(route: str) -> str:
    """A sample path for a route: parameters filled, regex anchors and format suffixes dropped."""
    route = re.sub(r"\(\?P<[^>]+>[^)]+\)", "1", route)  # regex groups (DRF router lookups)
    route = _PARAM.sub(lambda m: _SAMPLES.get(m.group("converter") or "str", "x"), route)
    return route.replace("^", "").replace("$", "")


def all_paths(resolver=None, prefix="") -> list[str]:
    paths = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                paths.append("/admin/")  # Django's admin has its own login; one entry is enough
                continue
            paths.extend(all_paths(entry, route))
        elif isinstance(entry, URLPattern):
            if "(?P<format>" in route or "<drf_format_suffix" in route:
                continue  # format-suffix twins of routes already listed
            paths.append("/" + _concrete(route))
    return sorted(set(paths))


@dataclass(frozen=True)
class Route:
    """One named URL of the project: its pattern, the name ``reverse`` takes (with namespaces), the
    keyword arguments it needs and, for API views, the HTTP methods it serves (None: a plain view)."""

    route: str
    name: str
    kwargs: tuple[str, ...]
    methods: frozenset[str] | None


def _methods(callback) -> frozenset[str] | None:
    actions = getattr(callback, "actions", None)  # a DRF viewset route: {"get": "list", …}
    if actions:
        return frozenset(actions)
    view_class = getattr(callback, "view_class", None)
    if (
        view_class is not None
        and hasattr(view_class, "http_method_names")
        and hasattr(view_class, "permission_classes")
    ):
        return frozenset(m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m))
    return None


def all_routes(resolver=None, prefix="", namespace="") -> list[Route]:
    """Every named route except Django's admin and DRF's format-suffix twins."""
    routes = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes.extend(all_routes(entry, route, inner))
        elif isinstance(entry, URLPattern):
            if "(?P<format>" in route or "<drf_format_suffix" in route:
                continue
            kwargs = tuple(sorted(entry.pattern.regex.groupindex))
            routes.append(Route(route, f"{namespace}{entry.name}", kwargs, _methods(entry.callback)))
    return routes
