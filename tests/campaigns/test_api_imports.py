"""The imports API: upload, map, start and follow an import; who sees it; validation; query counts."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import ImportBatch, SpendEntry

pytestmark = pytest.mark.django_db


# --- imports --------------------------------------------------------------------------------

IMPORTS = "/api/v1/imports/"
DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload_file(client, name="google_ads_ui_export.csv", **fields):
    file = SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="text/csv")
    return client.post(IMPORTS, {"file": file, **fields}, format="multipart")


def test_anonymous_import_calls_are_401(api, media):
    assert api.get(IMPORTS).status_code == 401
    assert upload_file(api).status_code == 401


def test_upload_map_start_and_follow_an_import(api_as, marketer, campaign, media, django_capture_on_commit_callbacks):
    client = api_as(marketer)
    uploaded = upload_file(client)
    assert uploaded.status_code == 201, uploaded.json()
    body = uploaded.json()
    assert (body["status"], body["format"], body["rows_total"], body["unknown_campaigns"]) == (
        "uploaded",
        "google_ads",
        5,
        ["Brand US"],
    )
    url = f"{IMPORTS}{body['id']}/"
    refused = client.post(url + "start/")
    assert (refused.status_code, "Brand US" in str(refused.json())) == (400, True)

    mapped = client.post(url + "map/", {"mapping": {"Brand US": campaign.pk}})
    assert (mapped.status_code, mapped.json()["unknown_campaigns"]) == (200, [])
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url + "start/")
    assert (started.status_code, started.json()["status"]) == (202, "queued")

    done = client.get(url).json()
    assert (done["status"], done["rows_done"], done["rows_total"]) == ("done", 5, 5)
    assert (done["rows_created"], done["rows_rejected"], done["errors"]) == (5, 0, [])
    spend = SpendEntry.objects.filter(campaign=campaign, source="google_ads")  # both names → one row per day
    assert (spend.count(), sum(e.amount for e in spend)) == (3, Decimal("2732.61"))


def test_mapping_to_null_skips_a_campaigns_rows(api_as, marketer, campaign, media):
    client = api_as(marketer)
    batch = upload_file(client).json()
    mapped = client.post(f"{IMPORTS}{batch['id']}/map/", {"mapping": {"Brand US": None}})
    assert mapped.status_code == 200, mapped.json()
    assert mapped.json()["unknown_campaigns"] == []
    assert mapped.json()["errors"][0]["ref"] == "Brand US"


def test_import_validation_names_fields(api_as, marketer, campaign, other_campaign, media):
    client = api_as(marketer)
    assert set(client.post(IMPORTS, {}, format="multipart").json()) == {"file"}
    assert set(upload_file(client, "empty.csv").json()) == {"file"}
    assert set(upload_file(client, commit_mode="maybe").json()) == {"commit_mode"}
    assert "LinkedIn" in str(upload_file(client, format="linkedin_ads").json()["file"])
    batch = upload_file(client).json()
    unknown = client.post(f"{IMPORTS}{batch['id']}/map/", {"mapping": {"Brand US": other_campaign.pk}})
    assert unknown.json() == {"mapping": [f"There is no campaign {other_campaign.pk}."]}  # not one alice sees
    stranger = client.post(f"{IMPORTS}{batch['id']}/map/", {"mapping": {"Nope": campaign.pk}})
    assert stranger.status_code == 400
    assert not ImportBatch.objects.exclude(unknown_campaigns=["Brand US"]).exists()


def test_imports_are_seen_by_their_uploader_the_cmo_and_ops_admins(
    api_as, marketer, teammate, finance, cmo, ops_admin, campaign, media
):
    batch = upload_file(api_as(marketer)).json()
    url = f"{IMPORTS}{batch['id']}/"
    for user, sees in [(marketer, True), (cmo, True), (ops_admin, True), (teammate, False), (finance, False)]:
        client = api_as(user)
        assert client.get(IMPORTS).json()["count"] == int(sees), user
        assert client.get(url).status_code == (200 if sees else 404), user
    for user in (cmo, ops_admin):  # they see it; only the uploader maps and starts it
        assert api_as(user).post(url + "map/", {"mapping": {"Brand US": campaign.pk}}).status_code == 403
        assert api_as(user).post(url + "start/").status_code == 403
    assert api_as(teammate).post(url + "start/").status_code == 404


@pytest.mark.parametrize("who", ["cmo", "finance", "ops_admin"])
def test_only_marketers_upload(request, api_as, who, media):
    assert upload_file(api_as(request.getfixturevalue(who))).status_code == 403
    assert not ImportBatch.objects.exists()


def test_import_list_queries_do_not_grow_with_rows(api_as, marketer, media, django_assert_max_num_queries):
    client = api_as(marketer)
    for total in (10, 40):
        ImportBatch.objects.bulk_create(
            ImportBatch(filename=f"f{n}.csv", file_sha256="0" * 64, format="generic", uploaded_by=marketer)
            for n in range(ImportBatch.objects.count(), total)
        )
        with django_assert_max_num_queries(3):  # roles, count, page
            assert len(client.get(IMPORTS + "?page_size=100").json()["results"]) == total
