"""Browser tests drive Debian's Chromium (downloading Playwright's own browsers is impossible here)."""

import os
from pathlib import Path

import pytest

from tests import needs

CHROMIUM = Path(os.environ.get("MOPS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's 'chromium' package (make test does this as root)"
        needs.skip_or_fail(message)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def artifacts():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def watched_page(page, live_server):
    """A page that records failed requests, HTTP errors and console errors for assertions."""
    problems = []

    def on_response(response):
        if response.status >= 400:
            problems.append(f"HTTP {response.status}: {response.url}")

    def on_console(message):
        if message.type == "error":
            problems.append(f"console: {message.text}")

    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url} {request.failure}"))
    page.on("response", on_response)
    page.on("console", on_console)
    page.problems = problems
    return page
