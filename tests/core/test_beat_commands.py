"""Every task the beat runs has a management command in the app that owns the task, with
``--dry-run``; the rollup and import commands do what their tasks do, and their dry runs keep nothing
(the SLA sweep and the weekly report have their own tests beside their subsystems)."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command, get_commands, load_command_class
from django.utils import timezone

from campaigns import tasks as campaign_tasks  # noqa: F401 (registers the import tasks)
from campaigns.models import FactSource, ImportBatch, ImportStatus, SpendEntry
from metrics.rollups.marks import mark_campaigns
from metrics.rollups.models import Cell, DirtyMark, RefreshRun, Rollup
from mops.celery import app as celery_app
from tests.factories import CampaignFactory

D = datetime.date
NOW = datetime.datetime(2026, 3, 20, 12, 0, tzinfo=datetime.UTC)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE.values(), key=lambda e: e["task"]))
def test_each_beat_task_has_a_command_with_dry_run_in_its_app(entry):
    app, module, name = entry["task"].split(".")
    assert module == "tasks"
    assert get_commands().get(name) == app, f"no manage.py {name} in {app}"
    parser = load_command_class(app, name).create_parser("manage.py", name)
    assert "--dry-run" in parser._option_string_actions


@pytest.fixture
def marked(team):
    """A campaign with spend whose change marks are waiting for the sweep."""
    with time_machine.travel(NOW, tick=False):
        campaign = CampaignFactory(team=team, start_date=D(2026, 3, 1), end_date=D(2026, 3, 31))
        SpendEntry.objects.bulk_create(
            SpendEntry(campaign=campaign, date=D(2026, 3, day), amount=Decimal(100), currency="USD", amount_base=100)
            for day in (2, 3)
        )
        mark_campaigns([campaign.pk])
    return campaign


def counts():
    return DirtyMark.objects.count(), RefreshRun.objects.count(), Cell.objects.count(), Rollup.objects.count()


@pytest.mark.django_db
def test_refresh_rollups_dry_run_keeps_nothing_then_the_command_folds_the_marks_in(marked):
    before = counts()
    assert before[0] > 0
    with time_machine.travel(NOW, tick=False):
        out = run("refresh_rollups", "--dry-run")
    assert out.startswith("Dry run, rolled back, nothing kept. Would have:") and "1 campaign(s)" in out
    assert counts() == before

    with time_machine.travel(NOW, tick=False):
        out = run("refresh_rollups")
    assert out.startswith("Refreshed:") and "1 campaign(s)" in out
    assert DirtyMark.objects.count() == 0 and RefreshRun.objects.count() == 1
    assert run("refresh_rollups") == "No pending changes: the rollups are up to date.\n"


@pytest.mark.django_db
def test_rebuild_rollups_dry_run_says_what_differs_and_changes_nothing(marked):
    with time_machine.travel(NOW, tick=False):
        run("refresh_rollups")
    Rollup.objects.all().delete()  # rows the incremental path lost
    before = counts()
    with time_machine.travel(NOW, tick=False):
        out = run("rebuild_rollups", "--dry-run")
    assert out.startswith("Dry run, rolled back, nothing changed: the rebuild would write")
    assert "rows differ from the kept ones" in out and " 0 rows differ" not in out
    assert counts() == before

    with time_machine.travel(NOW, tick=False):
        run("rebuild_rollups", "--verbosity", "0")
    assert Rollup.objects.exists() and RefreshRun.objects.count() == before[1] + 1  # no marks to fold in: one run


@pytest.fixture
def sent(monkeypatch):
    """The import tasks' sends, recorded instead of run."""
    calls = []
    for name in ("campaigns.tasks.run_import", "campaigns.tasks.check_import"):
        task = celery_app.tasks[name]  # registered by importing campaigns.tasks (above)
        monkeypatch.setattr(task, "apply_async", lambda args, _n=name, **kw: calls.append((_n, *args)))
    return calls


@pytest.mark.django_db
def test_requeue_imports_sends_stale_batches_again_and_dry_run_only_counts(marketer, sent):
    stale = timezone.now() - datetime.timedelta(seconds=settings.IMPORT_REQUEUE_AFTER_SECONDS + 60)
    fields = {"file": "imports/x.csv", "file_sha256": "0" * 64, "format": FactSource.values[0], "uploaded_by": marketer}
    queued = ImportBatch.objects.create(filename="a.csv", status=ImportStatus.QUEUED, queued_at=stale, **fields)
    checking = ImportBatch.objects.create(filename="b.csv", status=ImportStatus.CHECKING, queued_at=stale, **fields)
    ImportBatch.objects.create(filename="c.csv", status=ImportStatus.QUEUED, queued_at=timezone.now(), **fields)

    out = run("requeue_imports", "--dry-run")
    assert out.startswith("Dry run, nothing sent: 2 import(s)")
    assert sent == [] and ImportBatch.objects.get(pk=queued.pk).queued_at == stale

    out = run("requeue_imports")
    assert "2 import(s)" in out and "sent again to the workers" in out
    assert sorted(sent) == [("campaigns.tasks.check_import", checking.pk), ("campaigns.tasks.run_import", queued.pk)]
    assert ImportBatch.objects.get(pk=queued.pk).queued_at > stale
