"""Backup and restore as README "Backup and restore" says: ``pg_dump -Fc`` of the database and a tar
of MEDIA_ROOT; ``createdb`` + ``pg_restore`` + untar. The app pointed at the restored copy shows the
CMO the same numbers (the KPI API by channel and by month, the campaign list's totals) and serves an
attachment with the same bytes; the restored rollups agree with a rebuild from the restored facts.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from campaigns.attachments import services as attachment_services
from campaigns.imports.services import import_map, import_start, import_upload
from campaigns.models import AttachmentKind, ResultFact, SpendEntry
from metrics.rollups import services as metric_services
from metrics.rollups.models import DirtyMark
from mops.roles import Role
from tests.factories import CampaignFactory, ChannelFactory, UserFactory
from tests.faults.pg_proc import PG_BIN
from tests.needs import postgresql, skip_or_fail

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump must see the data: committed, not in a test transaction

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "microsoft_ads_campaign_performance_daily_report_data.csv"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
KPIS = "spend,revenue,roi,roas,cpl,leads"
PERIOD = {"start": "2018-01-01", "end": "2019-12-31"}

# What the CMO sees, computed by the app itself in a fresh process against DATABASE_URL and MEDIA_ROOT.
NUMBERS = """
import hashlib, json, sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment

setup_test_environment()  # keeps each page's context, for the list's totals
username, attachment_url, kpis, start, end = sys.argv[1:]
client = Client()
client.force_login(get_user_model().objects.get(username=username))
numbers = {}
for group_by in ("channel", "month"):
    response = client.get("/api/v1/kpis/", {"metrics": kpis, "group_by": group_by, "start": start, "end": end})
    assert response.status_code == 200, response.content
    numbers[f"kpis by {group_by}"] = response.json()
page = client.get("/campaigns/")
assert page.status_code == 200, page.status_code
numbers["campaign list totals"] = {key: str(value) for key, value in vars(page.context["totals"]).items()}
download = client.get(attachment_url)
assert download.status_code == 200, download.status_code
numbers["attachment sha256"] = hashlib.sha256(b"".join(download.streaming_content)).hexdigest()
print(json.dumps(numbers, sort_keys=True))
"""


def sh(command: str, **env: str) -> str:
    """Run a documented shell command as written, ``$DATABASE_URL`` and friends taken from ``env``; the
    PostgreSQL clients of the server's version come first on PATH when they are installed beside it."""
    path = f"{PG_BIN}:{os.environ['PATH']}" if PG_BIN.is_dir() else os.environ["PATH"]
    for program in ("pg_dump", "pg_restore", "createdb", "tar"):
        if not shutil.which(program, path=path):
            skip_or_fail(f"needs {program}")
    result = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": path, **env},
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def database_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def numbers_from(url: str, media_root: Path, username: str, attachment_url: str) -> subprocess.Popen:
    """Start the computation in a fresh process (read its answer with ``read``)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": url, "MEDIA_ROOT": str(media_root)}
    return subprocess.Popen(
        [sys.executable, "-c", NUMBERS, username, attachment_url, KPIS, PERIOD["start"], PERIOD["end"]],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read(process: subprocess.Popen) -> dict:
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def restored_name():
    """A uniquely named database on the suite's server, dropped afterwards whatever happened."""
    name = f"mops_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield name
    db = connection.settings_dict
    admin = psycopg2.connect(
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def organisation(media, team):
    """Three campaigns on two channels, a real ad-platform export imported into them (2,630 rows),
    rollups refreshed, and a brief attached to one."""
    marketer = UserFactory(username="mia", roles=[Role.MARKETER], teams=[team])
    cmo = UserFactory(username="carol-cmo", roles=[Role.CMO])
    search, display = ChannelFactory(name="Paid search"), ChannelFactory(name="Display")
    ids = {"359751135": ("bing-brand", search), "349886458": ("bing-generic", search)}
    ids["349886462"] = ("bing-competitor", display)
    campaigns = {
        ref: CampaignFactory(code=code, team=team, owner=marketer, channel=channel)
        for ref, (code, channel) in ids.items()
    }
    content = DATA.read_bytes()
    batch = import_upload(actor=marketer, file=ContentFile(content, name=DATA.name), filename=DATA.name)
    batch = import_map(actor=marketer, batch=batch, mapping=campaigns)
    import_start(actor=marketer, batch=batch)  # tasks run eagerly, after commit: the import, then the refresh
    metric_services.refresh_pending()
    attachment = attachment_services.attachment_add(
        actor=marketer,
        campaign=campaigns["359751135"],
        uploaded_file=SimpleUploadedFile("Spring brief.pdf", PDF),
        kind=AttachmentKind.BRIEF,
    )
    return cmo, attachment


def test_a_restored_backup_shows_the_same_numbers_and_files(organisation, media, restored_name, tmp_path):
    postgresql("pg_dump and pg_restore")
    cmo, attachment = organisation
    assert SpendEntry.objects.count() > 100 and ResultFact.objects.count() > 100
    assert not DirtyMark.objects.exists()  # rollups are up to date before the backup
    source = database_url(connection.settings_dict["NAME"])
    restored = database_url(restored_name)
    db = connection.settings_dict
    where = {"PGHOST": db["HOST"] or "127.0.0.1", "PGPORT": str(db["PORT"] or 5432), "PGUSER": db["USER"]}
    backup, new_media = tmp_path / "backup", tmp_path / "restored-media"
    backup.mkdir()
    url = f"/campaigns/attachments/{attachment.pk}/download/"

    # Backup (README): the database in PostgreSQL's custom format, and the uploaded files.
    sh(f'pg_dump -Fc -f {backup}/mops.dump "$DATABASE_URL"', DATABASE_URL=source)
    sh(f'tar -czf {backup}/mops-media.tar.gz -C "$MEDIA_ROOT" .', MEDIA_ROOT=str(media))
    # Restore (README) into a new database and a new MEDIA_ROOT.
    sh(f"createdb {restored_name}", **where)
    sh(f'pg_restore --no-owner --exit-on-error -d "$DATABASE_URL" {backup}/mops.dump', DATABASE_URL=restored)
    sh(
        f'mkdir -p "$MEDIA_ROOT" && tar -xzf {backup}/mops-media.tar.gz -C "$MEDIA_ROOT"',
        MEDIA_ROOT=str(new_media),
    )

    computing = [numbers_from(source, media, cmo.username, url), numbers_from(restored, new_media, cmo.username, url)]
    try:
        before, after = (read(process) for process in computing)
    finally:
        for process in computing:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert after == before
    # …and they are real numbers, not two empty answers.
    channels = {row["channel"]: row for row in before["kpis by channel"]["results"]}
    assert set(channels) == {"Paid search", "Display"} and all(float(row["spend"]) > 0 for row in channels.values())
    assert len(before["kpis by month"]["results"]) > 1
    assert before["campaign list totals"]["count"] == "3" and float(before["campaign list totals"]["spend"]) > 0
    assert before["attachment sha256"] == hashlib.sha256(PDF).hexdigest()

    # After a restore (README): migrate has nothing to do on the same version, and the rollups came
    # with the dump: a rebuild from the restored facts agrees with them.
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": restored, "MEDIA_ROOT": str(new_media)}
    assert "No migrations to apply" in sh(f"{sys.executable} manage.py migrate", **env)
    assert "incremental rows agreed" in sh(f"{sys.executable} manage.py rebuild_rollups --verbosity 0", **env)
