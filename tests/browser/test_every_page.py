"""Every page each role reaches from its navigation (and a marketer's daily pages: a campaign, its
forms, imports), on the demo data, in Chromium: no serious or
critical accessibility violation that axe-core finds, nothing scrolling sideways at 390 px or at
1280 px, the heading and the navigation reachable at both — the month-in-the-life journey checks
the pages it walks through; this one checks the rest a role can open from the menu."""

import pytest

from tests.browser.checks import DESKTOP, PHONE, assert_accessible, assert_usable_at
from tests.browser.journey import log_in, log_out, visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROLES = ["marketer", "cmo", "finance", "opsadmin"]
# Django's admin and the Swagger UI are other projects' pages, not ours to fix.
NOT_OURS = ("/admin/", "/api/docs/")


def menu_paths(page) -> list[str]:
    hrefs = page.locator("#main-nav a[href^='/']").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return sorted({h.split("#")[0] for h in hrefs if not h.startswith(NOT_OURS)})


def marketer_work_pages() -> list[str]:
    """Where a marketer spends the day beyond the menu: a campaign, its forms, the imports."""
    from django.urls import reverse

    from campaigns.models import Campaign

    pk = Campaign.objects.filter(owner__username="marketer").order_by("pk").values_list("pk", flat=True).first()
    per_campaign = ["campaign-detail", "campaign-edit", "spend-log", "results-log"]
    return [reverse(f"campaigns:{name}", args=[pk]) for name in per_campaign] + [
        reverse(f"campaigns:{name}") for name in ("campaign-create", "calendar", "import-list", "import-upload")
    ]


def test_every_page_a_role_opens_is_accessible_and_fits_phone_and_desktop(demo_organisation, watched_page, live_server):
    page, base = watched_page, live_server.url
    extra = {"marketer": marketer_work_pages()}
    checked = []
    for username in ROLES:
        page.set_viewport_size({"width": DESKTOP, "height": 900})
        log_in(page, base, username, "/workflows/", password="demo")  # every role has tasks
        paths = menu_paths(page)
        assert len(paths) >= 4, (username, paths)
        paths += extra.get(username, [])
        for path in paths:
            visit(page, base + path)
            for width in (PHONE, DESKTOP):
                assert_usable_at(page, width)
                assert_accessible(page)
            checked.append((username, path))
        log_out(page, base)
    assert page.problems == []
    print(f"\n{len(checked)} pages checked at {PHONE} and {DESKTOP} px: {checked}")
