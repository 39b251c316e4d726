"""``pytest --today=YYYY-MM-DD``: run the suite as if today were another date.

A pytest plugin (``-p tests.today`` in pyproject's addopts), not part of conftest.py, because it must
start travelling before pytest-django sets Django up and creates the test database: conftest.py is
imported after that. The clock then stays on that day for the whole session, ticking from 10:00 UTC
(``time_machine.travel(…, tick=True)``), so ``timezone.now()``, ``timezone.localdate()``,
``date.today()`` and the database's transaction timestamps written by Django follow it (PostgreSQL's
own ``now()`` does not: code must pass Python's time). pytest's header names the day.

With ``FISCAL_YEAR_START_MONTH`` from the environment (mops/settings.py), e.g.::

    FISCAL_YEAR_START_MONTH=7 .venv/bin/python -m pytest --today=2027-06-30 tests/core/test_seed_demo.py
"""

import datetime

import pytest

_traveller = None


def pytest_addoption(parser):
    parser.addoption(
        "--today",
        metavar="YYYY-MM-DD",
        default=None,
        type=_day,
        help="run as if today were this date (time-machine travel for the whole session, the clock ticking)",
    )


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(f"--today={value}: give a date as YYYY-MM-DD, e.g. --today=2027-06-30") from None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before pytest-django's own hook (Django's setup) and before any conftest is imported."""
    global _traveller
    day = early_config.known_args_namespace.today
    if day is None or _traveller is not None:
        return
    import time_machine

    moment = datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=datetime.UTC)
    _traveller = time_machine.travel(moment, tick=True)
    _traveller.start()


def pytest_report_header(config):
    day = config.getoption("today")
    if day is None:
        return [f"mops today: {datetime.date.today().isoformat()} (the real date; --today=YYYY-MM-DD to travel)"]
    return [f"mops today: {day.isoformat()} (--today, time-machine travel from 10:00 UTC, ticking)"]


def pytest_unconfigure(config):
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None
