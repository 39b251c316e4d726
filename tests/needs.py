"""What a test needs from the machine. Missing on a developer's machine: the test is skipped with
the reason. Missing in CI (``CI`` set): the test fails — CI has every service, so a skip there
would hide a failure."""

import os

import pytest
from django.db import connection


def skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must not skip this test: {reason}")
    pytest.skip(reason)


def postgresql(why: str) -> None:
    """Call at the start of a test that needs PostgreSQL."""
    if connection.vendor != "postgresql":
        skip_or_fail(f"needs PostgreSQL: {why}")


@pytest.fixture
def needs_postgresql():
    postgresql("concurrent connections and row locks (SQLite serialises whole-database writes)")
