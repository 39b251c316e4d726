"""The main navigation, assembled from the entries each app registers in its ``AppConfig.ready()``:
the app's own policy decides who sees an entry, the core only orders and draws the list, so the core
imports no area (ARCHITECTURE.md). An app registers::

    navigation.register(MenuEntry(40, "Campaigns", "campaigns:home", allowed=can_view_campaigns))

``position`` orders the bar (lower first); the positions in use leave gaps of ten for new entries.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


def everyone(user) -> bool:
    return True


@dataclass(frozen=True)
class MenuEntry:
    position: int
    label: str
    url_name: str
    allowed: Callable = everyone  # (user) -> bool, the app's policy
    badge: Callable | None = None  # (user) -> int, e.g. the number of my tasks; drawn when non-zero


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    badge: int | None = None


_ENTRIES: dict[str, MenuEntry] = {}


def register(*entries: MenuEntry) -> None:
    """Add entries to the menu; an entry registered again under the same URL name replaces it."""
    for entry in entries:
        _ENTRIES[entry.url_name] = entry


def entries() -> list[MenuEntry]:
    return sorted(_ENTRIES.values(), key=lambda entry: entry.position)


def nav_items(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [
        NavItem(entry.label, reverse(entry.url_name), entry.badge(user) if entry.badge else None)
        for entry in entries()
        if entry.allowed(user)
    ]


def active_item(items: list[NavItem], path: str) -> NavItem | None:
    """The item whose URL is the longest prefix of ``path`` ("/workflows/templates/x/" is
    Workflows, not Tasks at "/workflows/")."""
    matches = [item for item in items if path.startswith(item.url)]
    return max(matches, key=lambda item: len(item.url), default=None)
