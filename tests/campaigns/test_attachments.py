"""Campaign files: the type told by content (and the name agreeing), the size limit, nothing left
behind by a refusal, downloads that are only ever downloads — as owner, teammate, outsider, the
CMO, finance and anonymous — on the page and in the API."""

import io
import struct
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import Resolver404, resolve, reverse

from campaigns.attachments import filetypes, services
from campaigns.models import AttachmentKind, CampaignAttachment
from mops.models import AuditEvent
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/campaign-attachments/"
ALLOWED = "allowed: PDF, PNG, JPEG, GIF, WebP, Word, Excel, PowerPoint, text, CSV."

# --- tiny real files ------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = (  # a 1×1 transparent pixel
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
_VP8L = b"VP8L" + struct.pack("<I", 5) + b"\x2f\x00\x00\x00\x00\x00"
WEBP = b"RIFF" + struct.pack("<I", 4 + len(_VP8L)) + b"WEBP" + _VP8L
CSV = "date,campaign,spend\n2026-01-10,spring-webinars,100.00\n2026-01-11,spring-webinars,120.50 €\n".encode()
OOXML_MAIN = {
    "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation.main+xml"),
}


def office(extension: str, *, content_types: bool = True, macros: bool = False) -> bytes:
    """A minimal Office Open XML package: ``[Content_Types].xml`` naming the main part, and that part."""
    part, main_type = OOXML_MAIN[extension]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        if content_types:
            package.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                f'<Override PartName="/{part}" '
                f'ContentType="application/vnd.openxmlformats-officedocument.{main_type}"/>'
                "</Types>",
            )
        package.writestr(part, "<document/>")
        if macros:
            package.writestr("word/vbaProject.bin", b"\x00\x01")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    # The browser's claimed type is deliberately wrong-ish: it must not matter.
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def other_campaign(other_team, outsider, paid_search, fiscal_2026):
    return CampaignFactory(
        name="EMEA roadshow", code="emea-roadshow", team=other_team, owner=outsider, channel=paid_search
    )


@pytest.fixture
def brief(campaign, marketer):
    return services.attachment_add(
        actor=marketer, campaign=campaign, uploaded_file=upload("Spring brief.pdf", PDF), kind=AttachmentKind.BRIEF
    )


def url(name, *args):
    return reverse(f"campaigns:{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the service: what is accepted ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("brief.pdf", PDF, "application/pdf"),
        ("banner.png", PNG, "image/png"),
        ("photo.jpg", JPEG, "image/jpeg"),
        ("photo.JPEG", JPEG, "image/jpeg"),
        ("spinner.gif", GIF, "image/gif"),
        ("hero.webp", WEBP, "image/webp"),
        ("brief.docx", office("docx"), filetypes.DOCX.content_type),
        ("plan.xlsx", office("xlsx"), filetypes.XLSX.content_type),
        ("deck.pptx", office("pptx"), filetypes.PPTX.content_type),
        ("leads.csv", CSV, "text/csv"),
        ("notes.txt", b"Agenda: kick-off, creative review.\n", "text/plain"),
        ("targets.csv", b"<5k accounts,tier 3\n>5k accounts,tier 1\n", "text/csv"),
    ],
)
def test_allowed_types_are_attached_with_the_detected_type(campaign, marketer, media_root, name, content, content_type):
    attachment = services.attachment_add(
        actor=marketer, campaign=campaign, uploaded_file=upload(name, content), kind=AttachmentKind.CREATIVE
    )

    attachment.refresh_from_db()
    assert (attachment.name, attachment.size, attachment.content_type) == (name, len(content), content_type)
    assert attachment.kind == "creative" and attachment.uploaded_by == marketer
    [path] = stored_files(media_root)
    assert path.read_bytes() == content
    # Stored under a random name in attachments/YYYY/MM/, never the user's.
    assert path.relative_to(media_root).parts[0] == "attachments"
    assert name.rsplit(".", 1)[0] not in path.name
    assert attachment.file.name == path.relative_to(media_root).as_posix()
    event = AuditEvent.objects.get(action="attachment.add")
    assert event.actor == marketer and event.after["name"] == name and event.object_id == str(attachment.pk)


def test_the_browser_claim_does_not_decide_the_type(campaign, marketer):
    attachment = services.attachment_add(
        actor=marketer, campaign=campaign, uploaded_file=upload("logo.png", PNG, "text/html"), kind="creative"
    )
    assert attachment.content_type == "image/png"


def test_two_files_of_the_same_name_are_both_kept(campaign, marketer, media_root):
    for _ in range(2):
        services.attachment_add(actor=marketer, campaign=campaign, uploaded_file=upload("brief.pdf", PDF), kind="brief")
    assert CampaignAttachment.objects.filter(name="brief.pdf").count() == 2
    assert len(stored_files(media_root)) == 2


# --- the service: what is refused, leaving nothing behind -----------------------------------


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.pdf", b"", "The file is empty."),
        (
            "page.html",
            b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
            f"HTML files cannot be attached; {ALLOWED}",
        ),
        ("page.txt", b"\n  <html><script>alert(1)</script></html>", f"HTML files cannot be attached; {ALLOWED}"),
        ("page.html", b"just words, no tags", f"HTML files cannot be attached; {ALLOWED}"),
        (
            "logo.svg",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            f"SVG files cannot be attached; {ALLOWED}",
        ),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', f"SVG files cannot be attached; {ALLOWED}"),
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(64),
            f"Executable files cannot be attached; {ALLOWED}",
        ),
        (
            "brief.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(64),
            f"Executable files cannot be attached; {ALLOWED}",
        ),
        ("tool", b"\x7fELF\x02\x01\x01" + bytes(32), f"Executable files cannot be attached; {ALLOWED}"),
        ("run.sh", b"#!/bin/sh\nrm -rf /\n", f"Executable files cannot be attached; {ALLOWED}"),
        ("setup.exe", bytes(range(256)) * 4, f"Executable files cannot be attached; {ALLOWED}"),
        ("blob.bin", b"\x00\x9f\x92\x96\xff" * 50, f"BIN files cannot be attached; {ALLOWED}"),
        ("blob", b"\x00\x9f\x92\x96\xff" * 50, f"Unrecognised files cannot be attached; {ALLOWED}"),
        ("app.js", b"fetch('/api/v1/me/')\n", f"JS files cannot be attached; {ALLOWED}"),
        ("brief.docx", office("docx", content_types=False), f"ZIP files cannot be attached; {ALLOWED}"),
        ("brief.docx", office("docx", macros=True), f"Macro-enabled Office files cannot be attached; {ALLOWED}"),
        (
            "brief.docx",
            b"PK\x03\x04 this is not really a zip",
            f"Damaged or encrypted ZIP files cannot be attached; {ALLOWED}",
        ),
        (
            "logo.pdf",
            PNG,
            "“logo.pdf” is a PNG image but its name ends in .pdf: rename it to end with .png.",
        ),
        (
            "photo.png",
            JPEG,
            "“photo.png” is a JPEG image but its name ends in .png: rename it to end with .jpg or .jpeg.",
        ),
        (
            "plan.docx",
            office("xlsx"),
            "“plan.docx” is an Excel workbook but its name ends in .docx: rename it to end with .xlsx.",
        ),
        ("brief", PDF, "“brief” is a PDF document but its name has no extension: end it with .pdf."),
        (
            "notes.pdf",
            b"just text\n",
            "“notes.pdf” is a text file but its name ends in .pdf: rename it to end with .txt, .csv, .tsv or .md.",
        ),
        ("latin1.csv", "café;5\n".encode("latin-1"), f"CSV files cannot be attached; {ALLOWED}"),
        ("nul.txt", b"text with a \x00 NUL", f"TXT files cannot be attached; {ALLOWED}"),
    ],
)
def test_refused_files_name_the_reason_and_leave_nothing(campaign, marketer, media_root, name, content, message):
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(actor=marketer, campaign=campaign, uploaded_file=upload(name, content), kind="brief")

    assert refused.value.message_dict == {"file": [message]}
    assert not CampaignAttachment.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="attachment.").exists()
    assert stored_files(media_root) == []


def test_a_file_over_the_limit_is_refused(campaign, marketer, media_root, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(
            actor=marketer, campaign=campaign, uploaded_file=upload("big.pdf", PDF + bytes(200)), kind="brief"
        )
    assert refused.value.message_dict == {"file": ["The file is 277 bytes; attachments can be at most 100 bytes."]}
    assert not CampaignAttachment.objects.exists() and stored_files(media_root) == []


def test_a_file_at_the_limit_is_accepted(campaign, marketer, settings):
    settings.ATTACHMENT_MAX_BYTES = len(PDF)
    services.attachment_add(actor=marketer, campaign=campaign, uploaded_file=upload("a.pdf", PDF), kind="brief")
    assert CampaignAttachment.objects.count() == 1


def test_the_size_message_speaks_in_mb(settings, campaign, marketer):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    too_big = upload("big.pdf", PDF + bytes(int(1.5 * 1024 * 1024)))
    with pytest.raises(ValidationError, match=r"The file is 1\.5 MB; attachments can be at most 1 MB\."):
        services.attachment_add(actor=marketer, campaign=campaign, uploaded_file=too_big, kind="brief")


def test_an_unknown_kind_is_refused(campaign, marketer, media_root):
    with pytest.raises(ValidationError) as refused:
        services.attachment_add(actor=marketer, campaign=campaign, uploaded_file=upload("a.pdf", PDF), kind="secret")
    assert list(refused.value.message_dict) == ["kind"]
    assert stored_files(media_root) == []


@pytest.mark.parametrize("who", ["outsider", "cmo", "finance", "ops_admin"])
def test_only_the_campaigns_marketers_attach(request, campaign, media_root, who):
    with pytest.raises(PermissionDenied):
        services.attachment_add(
            actor=request.getfixturevalue(who), campaign=campaign, uploaded_file=upload("a.pdf", PDF), kind="brief"
        )
    assert stored_files(media_root) == []


def test_a_failed_transaction_removes_the_stored_file(campaign, marketer, media_root, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit", broken_audit)
    with pytest.raises(RuntimeError):
        services.attachment_add(actor=marketer, campaign=campaign, uploaded_file=upload("a.pdf", PDF), kind="brief")
    assert not CampaignAttachment.objects.exists()
    assert stored_files(media_root) == []


def test_delete_removes_the_row_and_then_the_file(brief, teammate, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(actor=teammate, attachment=brief)
    assert not CampaignAttachment.objects.exists()
    assert stored_files(media_root) == []
    assert AuditEvent.objects.get(action="attachment.delete").before["name"] == "Spring brief.pdf"


@pytest.mark.parametrize("who", ["outsider", "cmo", "finance"])
def test_only_the_campaigns_marketers_delete(request, brief, media_root, who):
    with pytest.raises(PermissionDenied):
        services.attachment_delete(actor=request.getfixturevalue(who), attachment=brief)
    assert CampaignAttachment.objects.count() == 1 and len(stored_files(media_root)) == 1


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("brief.pdf", "brief.pdf"),
        ("C:\\Users\\alice\\Desktop\\brief.pdf", "brief.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("line\nbreak\x07.txt", "linebreak.txt"),
        ("", "file"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_display_names_are_cleaned(raw, shown):
    assert filetypes.display_name(raw) == shown


@pytest.mark.parametrize(
    "size, shown", [(0, "0 bytes"), (1, "1 byte"), (1023, "1023 bytes"), (1536, "1.5 KB"), (20 * 1024 * 1024, "20 MB")]
)
def test_human_sizes(size, shown):
    assert filetypes.human_size(size) == shown


# --- the page -------------------------------------------------------------------------------


def test_the_campaign_page_lists_files_and_offers_upload_to_editors(client, brief, teammate):
    client.force_login(teammate)
    html = client.get(url("campaign-detail", brief.campaign_id)).content.decode()
    assert 'id="files"' in html
    assert f'href="{url("attachment-download", brief.pk)}"' in html and "Spring brief.pdf" in html
    assert "Brief · 77 bytes · " in html
    assert 'enctype="multipart/form-data"' in html and f'action="{url("attachment-add", brief.campaign_id)}"' in html
    assert f'action="{url("attachment-delete", brief.pk)}"' in html


def test_read_only_roles_see_files_but_no_upload_or_delete(client, brief, cmo):
    client.force_login(cmo)
    html = client.get(url("campaign-detail", brief.campaign_id)).content.decode()
    assert "Spring brief.pdf" in html
    assert url("attachment-add", brief.campaign_id) not in html and url("attachment-delete", brief.pk) not in html


def test_the_page_upload_attaches_the_file(client, campaign, marketer, media_root):
    client.force_login(marketer)
    response = client.post(
        url("attachment-add", campaign.pk), {"file": upload("deck.pptx", office("pptx")), "kind": "creative"}
    )
    assert response.status_code == 302 and response.url == url("campaign-detail", campaign.pk) + "#files"
    attachment = CampaignAttachment.objects.get()
    assert (attachment.name, attachment.kind, attachment.campaign) == ("deck.pptx", "creative", campaign)
    assert messages_of(response) == ["“deck.pptx” attached."]
    assert len(stored_files(media_root)) == 1


@pytest.mark.parametrize("name, content", [("plan.xlsx", office("xlsx")), ("brief.pdf", PDF), ("x.html", b"<html>")])
def test_uploads_spooled_to_disk_are_checked_and_stored_alike(
    client, campaign, marketer, media_root, settings, name, content
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # the upload becomes a TemporaryUploadedFile
    client.force_login(marketer)
    client.post(url("attachment-add", campaign.pk), {"file": upload(name, content), "kind": "report"})
    if name.endswith(".html"):
        assert not CampaignAttachment.objects.exists() and stored_files(media_root) == []
    else:
        assert CampaignAttachment.objects.get().name == name
        [path] = stored_files(media_root)
        assert path.read_bytes() == content


def test_a_refused_page_upload_says_why_and_stores_nothing(client, campaign, marketer, media_root):
    client.force_login(marketer)
    response = client.post(url("attachment-add", campaign.pk), {"file": upload("x.svg", b"<svg/>"), "kind": "creative"})
    assert response.status_code == 302
    assert messages_of(response) == [f"“x.svg” was not attached: SVG files cannot be attached; {ALLOWED}"]
    assert not CampaignAttachment.objects.exists() and stored_files(media_root) == []


def test_a_page_upload_without_a_file_says_so(client, campaign, marketer):
    client.force_login(marketer)
    response = client.post(url("attachment-add", campaign.pk), {"kind": "brief"})
    assert messages_of(response) == ["The file was not attached: File: This field is required."]


@pytest.mark.parametrize("who, status", [("cmo", 403), ("finance", 403), ("outsider", 404)])
def test_page_upload_needs_an_editor(request, client, campaign, media_root, who, status):
    client.force_login(request.getfixturevalue(who))
    response = client.post(url("attachment-add", campaign.pk), {"file": upload("a.pdf", PDF), "kind": "brief"})
    assert response.status_code == status
    assert stored_files(media_root) == []


@pytest.mark.parametrize("who", ["marketer", "teammate", "cmo", "finance", "ops_admin"])
def test_download_is_an_attachment_that_is_never_rendered(request, client, brief, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(url("attachment-download", brief.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Spring brief.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content) == PDF


def test_download_names_non_ascii_files_safely(client, campaign, marketer):
    attachment = services.attachment_add(
        actor=marketer, campaign=campaign, uploaded_file=upload('Präsentation "final".pdf', PDF), kind="report"
    )
    client.force_login(marketer)
    disposition = client.get(url("attachment-download", attachment.pk))["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''Pr%C3%A4sentation%20%22final%22.pdf")


def test_outsiders_get_404_and_anonymous_the_login_page(client, brief, outsider):
    assert client.get(url("attachment-download", brief.pk)).url.startswith("/accounts/login/?next=")
    client.force_login(outsider)
    assert client.get(url("attachment-download", brief.pk)).status_code == 404


def test_a_missing_stored_file_is_a_404(client, brief, marketer, media_root):
    for path in stored_files(media_root):
        path.unlink()
    client.force_login(marketer)
    assert client.get(url("attachment-download", brief.pk)).status_code == 404


def test_media_files_have_no_url_of_their_own(client, brief, marketer):
    with pytest.raises(Resolver404):
        resolve(f"/media/{brief.file.name}")
    client.force_login(marketer)
    assert client.get(f"/media/{brief.file.name}").status_code == 404


def test_the_page_delete_removes_row_and_file(client, brief, teammate, media_root, django_capture_on_commit_callbacks):
    client.force_login(teammate)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("attachment-delete", brief.pk))
    assert response.status_code == 302 and response.url.endswith("#files")
    assert messages_of(response) == ["“Spring brief.pdf” deleted."]
    assert not CampaignAttachment.objects.exists() and stored_files(media_root) == []


@pytest.mark.parametrize("who, status", [("cmo", 403), ("finance", 403), ("outsider", 404)])
def test_page_delete_needs_an_editor(request, client, brief, media_root, who, status):
    client.force_login(request.getfixturevalue(who))
    assert client.post(url("attachment-delete", brief.pk)).status_code == status
    assert CampaignAttachment.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_delete_and_upload_refuse_get(client, brief, marketer):
    client.force_login(marketer)
    assert client.get(url("attachment-delete", brief.pk)).status_code == 405
    assert client.get(url("attachment-add", brief.campaign_id)).status_code == 405


# --- the API --------------------------------------------------------------------------------


def test_api_anonymous_is_401(api, brief):
    assert api.get(API).status_code == 401
    assert api.get(f"{API}{brief.pk}/download/").status_code == 401
    assert api.delete(f"{API}{brief.pk}/").status_code == 401


@pytest.mark.parametrize(
    "who, sees", [("marketer", True), ("teammate", True), ("cmo", True), ("finance", True), ("outsider", False)]
)
def test_api_lists_the_files_of_visible_campaigns(request, api_as, brief, other_campaign, outsider, who, sees):
    services.attachment_add(
        actor=outsider, campaign=other_campaign, uploaded_file=upload("emea.pdf", PDF), kind="brief"
    )
    client = api_as(request.getfixturevalue(who))
    names = {row["name"] for row in client.get(API, {"campaign": brief.campaign_id}).json()["results"]}
    assert names == ({"Spring brief.pdf"} if sees else set())
    detail = client.get(f"{API}{brief.pk}/")
    assert detail.status_code == (200 if sees else 404)


def test_api_retrieve_has_a_download_url_that_downloads(api_as, brief, cmo):
    client = api_as(cmo)
    body = client.get(f"{API}{brief.pk}/").json()
    assert body == {
        "id": brief.pk,
        "campaign": brief.campaign_id,
        "kind": "brief",
        "name": "Spring brief.pdf",
        "size": len(PDF),
        "content_type": "application/pdf",
        "uploaded_by": "alice",
        "uploaded_at": body["uploaded_at"],
        "download_url": f"http://testserver{API}{brief.pk}/download/",
    }
    response = client.get(body["download_url"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="Spring brief.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Security-Policy"] == "sandbox"
    assert b"".join(response.streaming_content) == PDF


def test_api_create_attaches_a_file(api_as, campaign, marketer, media_root):
    response = api_as(marketer).post(
        API, {"campaign": campaign.pk, "kind": "report", "file": upload("q1.xlsx", office("xlsx"))}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == filetypes.XLSX.content_type
    assert CampaignAttachment.objects.get().name == "q1.xlsx" and len(stored_files(media_root)) == 1


def test_api_create_refuses_a_bad_file_with_the_reason(api_as, campaign, marketer, media_root):
    response = api_as(marketer).post(
        API, {"campaign": campaign.pk, "kind": "creative", "file": upload("logo.pdf", PNG)}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {
        "file": ["“logo.pdf” is a PNG image but its name ends in .pdf: rename it to end with .png."]
    }
    assert stored_files(media_root) == []


def test_api_create_refuses_an_empty_file_with_the_services_message(api_as, campaign, marketer):
    response = api_as(marketer).post(API, {"campaign": campaign.pk, "file": upload("a.pdf", b"")}, format="multipart")
    assert response.status_code == 400 and response.json() == {"file": ["The file is empty."]}


@pytest.mark.parametrize("who, status", [("cmo", 403), ("finance", 403), ("ops_admin", 403), ("outsider", 400)])
def test_api_create_needs_an_editor(request, api_as, campaign, media_root, who, status):
    response = api_as(request.getfixturevalue(who)).post(
        API, {"campaign": campaign.pk, "kind": "brief", "file": upload("a.pdf", PDF)}, format="multipart"
    )
    assert response.status_code == status
    if status == 400:  # another team's campaign does not exist, as far as the outsider can tell
        assert list(response.json()) == ["campaign"]
    assert stored_files(media_root) == []


def test_api_delete_by_a_teammate(api_as, brief, teammate, media_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(teammate).delete(f"{API}{brief.pk}/")
    assert response.status_code == 204
    assert not CampaignAttachment.objects.exists() and stored_files(media_root) == []


@pytest.mark.parametrize("who, status", [("cmo", 403), ("finance", 403), ("outsider", 404)])
def test_api_delete_needs_an_editor(request, api_as, brief, media_root, who, status):
    assert api_as(request.getfixturevalue(who)).delete(f"{API}{brief.pk}/").status_code == status
    assert CampaignAttachment.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_api_has_no_update(api_as, brief, marketer):
    assert api_as(marketer).patch(f"{API}{brief.pk}/", {"kind": "other"}).status_code == 405
