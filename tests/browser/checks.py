"""Checks any page can be put through in a browser test: an automated accessibility audit with
axe-core (fetched from npm by ``make axe``, never served by the app) and a layout check at a given
viewport width (nothing scrolls sideways, the main navigation and the page's heading are reachable)."""

import contextlib
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests import needs

AXE_JS = Path(__file__).resolve().parents[2] / "var" / "axe" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
DESKTOP, PHONE = 1280, 390
PLOTS_FIT = """() => [...document.querySelectorAll('.js-plotly-plot')].every(el => {
    const svg = el.querySelector('.main-svg');
    return !svg || svg.getBoundingClientRect().width <= el.clientWidth + 1;
})"""


def axe_source() -> str:
    if not AXE_JS.exists():
        needs.skip_or_fail(f"{AXE_JS} is missing: run `make axe` (make test does) to fetch axe-core from npm")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now. ``page.evaluate`` goes through the DevTools protocol,
    which the page's Content-Security-Policy (script-src 'self') does not govern, unlike an injected
    <script> tag; the CSP stays on for everything the app itself runs."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
            .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' ')).slice(0, 8)})))""",
        AXE_TAGS,
    )


def assert_accessible(page):
    """No serious or critical WCAG 2.1 A/AA violation that axe-core can find on the page."""
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(f"{v['impact']} {v['id']}: {v['help']} — {', '.join(v['targets'])}" for v in blocking)
    assert not blocking, f"axe-core on {page.url}:\n{report}"


def assert_usable_at(page, width, *, height=900):
    """At ``width`` px the document does not scroll sideways, the page's main heading is visible and
    the main navigation can be reached (behind the navbar toggler on a phone)."""
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_load_state("networkidle")
    # plotly.js redraws its figures to the new width shortly after the window's resize event; if one
    # never fits, the overflow check below names it.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(PLOTS_FIT, timeout=5000)
    overflow = page.evaluate(
        """() => {
            const doc = document.documentElement;
            if (doc.scrollWidth <= doc.clientWidth + 1) return null;
            // Name the widest offenders to make the failure useful.
            return [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > doc.clientWidth + 1)
                .filter(el => !(el.parentElement && el.parentElement.closest('.table-responsive, .overflow-auto')))
                .slice(0, 5)
                .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                    + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')
                    + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
        }"""
    )
    assert overflow is None, f"{page.url} scrolls sideways at {width} px: {overflow}"
    heading = page.locator("main h1").first
    assert heading.is_visible(), f"{page.url}: no visible main heading at {width} px"
    nav = page.locator("#main-nav")
    if nav.count():  # logged in: the navigation is there, behind the toggler when the screen is narrow
        toggler = page.locator(".navbar-toggler")
        if toggler.is_visible():
            toggler.click()
            page.wait_for_selector("#main-nav.show:not(.collapsing)")
            assert nav.get_by_role("link").first.is_visible()
            toggler.click()
            page.wait_for_selector("#main-nav:not(.show):not(.collapsing)", state="attached")
        else:
            assert width >= 992, f"{page.url}: no navbar toggler at {width} px"
            assert nav.get_by_role("link").first.is_visible()


def check_page(page, artifacts, name):
    """The checks for a landing page: accessible, usable at 1280 and 390 px, with a screenshot at each
    width in the artifacts folder. Leaves the viewport at 1280 px."""
    for width in (PHONE, DESKTOP):
        assert_usable_at(page, width)
        page.screenshot(path=str(artifacts / f"month-{name}-{width}px.png"), full_page=True)
        assert_accessible(page)
