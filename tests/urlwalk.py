"""Every URL the project serves, generated from the URL conf, for authorization tests."""

import re

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
