"""The import pages: upload, map or skip unknown campaigns, start, row errors, who sees an
import, and the progress partial."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from campaigns.models import ResultFact, SpendEntry
from tests.campaigns.conftest import login, url

pytestmark = pytest.mark.django_db


# --- imports ----------------------------------------------------------------------------------------

GOOGLE_ADS_CSV = """Campaign performance report
"January 1, 2026 - January 31, 2026"
Campaign,Day,Currency code,Cost,Impr.,Clicks,Conversions,Conv. value
Spring webinar series,2026-01-05,USD,"$1,000.00","10,000",500,12.00,$0.00
Spring webinar series,2026-01-06,USD,$250.50,"2,000",90,3.00,$0.00
Brand US - Search,2026-01-06,USD,$40.00,300,12,1.00,$0.00
"""


def upload(client, content=GOOGLE_ADS_CSV, name="google-ads.csv", **data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    post = {"format": "", "commit_mode": "all", **data, "file": SimpleUploadedFile(name, content.encode(), "text/csv")}
    return client.post(url("import-upload"), post)


def test_a_marketer_imports_maps_an_unknown_campaign_and_starts(
    client, marketer, campaign, django_capture_on_commit_callbacks
):
    from campaigns.models import CampaignAlias, ImportBatch

    assert login(client, marketer).get(url("import-upload")).status_code == 200
    response = upload(client)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == url("import-detail", batch.pk)
    page = client.get(response.url)
    content = page.content.decode()
    assert page.context["unknown_refs"] == ["Brand US - Search"]
    assert "Google Ads" in content and 'data-testid="mapping-form"' in content
    assert [label for label in (f.label for f in page.context["mapping_form"])] == ["Brand US - Search"]

    response = client.post(url("import-start", batch.pk), follow=True)  # refused while unmapped
    assert "before starting the import" in response.content.decode()

    response = client.post(url("import-map", batch.pk), {"ref_0": campaign.pk})
    assert response.status_code == 302
    assert CampaignAlias.objects.get().campaign == campaign
    assert client.get(url("import-detail", batch.pk)).context["unknown_refs"] == []

    with django_capture_on_commit_callbacks(execute=True):  # the task is queued on commit; it runs eagerly
        client.post(url("import-start", batch.pk))
    batch.refresh_from_db()
    assert batch.status == "done"
    summary = client.get(url("import-detail", batch.pk)).content.decode()
    assert 'data-count="total">3<' in summary and 'data-count="created">3<' in summary
    assert SpendEntry.objects.filter(campaign=campaign).aggregate(s=Sum("amount_base"))["s"] == Decimal("1290.50")
    assert ResultFact.objects.filter(campaign=campaign).aggregate(s=Sum("clicks"))["s"] == 602
    # … and the campaign page shows the totals.
    detail = client.get(url("campaign-detail", campaign.pk)).content.decode()
    assert 'data-actual="cost">1,290.50' in detail
    # The import list shows it.
    assert [b.pk for b in client.get(url("import-list")).context["page"]] == [batch.pk]


def test_skipping_an_unknown_campaign_imports_the_rest(client, marketer, campaign, django_capture_on_commit_callbacks):
    from campaigns.models import ImportBatch

    login(client, marketer)
    upload(client)
    batch = ImportBatch.objects.get()
    client.post(url("import-map", batch.pk), {"ref_0": "skip"})
    page = client.get(url("import-detail", batch.pk)).content.decode()
    assert "skipped: mapped to no campaign" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("import-start", batch.pk))
    batch.refresh_from_db()
    assert (batch.status, batch.rows_created, batch.rows_rejected) == ("done", 2, 1)


def test_an_unreadable_file_is_refused_on_the_form(client, marketer, campaign):
    from campaigns.models import ImportBatch

    response = upload(login(client, marketer), content="hello\nworld\n", name="notes.txt")
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportBatch.objects.exists()


def test_row_errors_are_listed_and_block_an_all_or_nothing_import(client, marketer, campaign):
    from campaigns.models import ImportBatch

    bad = (
        GOOGLE_ADS_CSV.replace("$250.50", "-$250.50")
        .replace("Brand US - Search", "Spring webinar series")
        .replace("2026-01-06,USD,$40.00", "2026-01-07,USD,$40.00")
    )
    login(client, marketer)
    upload(client, content=bad)
    batch = ImportBatch.objects.get()
    page = client.get(url("import-detail", batch.pk))
    assert page.context["row_error_count"] == 1
    content = page.content.decode()
    assert "row 5" in content  # the file's line of the bad row
    response = client.post(url("import-start", batch.pk), follow=True)
    assert "Row 5 has an error: correct the file" in response.content.decode()  # named, in good English
    assert ImportBatch.objects.get().status == "uploaded" and not SpendEntry.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("teammate", 404), ("outsider", 404), ("cmo", 200), ("ops_admin", 200)])
def test_only_the_uploader_ops_admins_and_the_cmo_see_an_import(client, request, marketer, campaign, who, status):
    from campaigns.models import ImportBatch

    upload(login(client, marketer))
    batch = ImportBatch.objects.get()
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("import-detail", batch.pk)).status_code == status
    assert client.get(url("import-progress", batch.pk)).status_code == status
    assert client.post(url("import-start", batch.pk)).status_code == (403 if status == 200 else 404)
    assert client.post(url("import-map", batch.pk), {"ref_0": "skip"}).status_code == (403 if status == 200 else 404)
    if status == 200:
        assert "mapping-form" not in client.get(url("import-detail", batch.pk)).content.decode()
    assert ImportBatch.objects.get().status == "uploaded" and not ImportBatch.objects.get().errors


def test_only_marketers_upload(client, cmo):
    assert login(client, cmo).get(url("import-upload")).status_code == 403
    assert client.get(url("import-list")).status_code == 200


def test_the_progress_partial_polls_while_the_import_runs(client, marketer, campaign):
    from campaigns.models import ImportBatch

    upload(login(client, marketer))
    ImportBatch.objects.update(status="running", rows_total=3, rows_done=2)
    batch = ImportBatch.objects.get()
    partial = client.get(url("import-progress", batch.pk), headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in partial and 'value="2"' in partial and "<html" not in partial
    page = client.get(url("import-detail", batch.pk)).content.decode()
    assert "htmx" in page and "<script>" not in page
    ImportBatch.objects.update(status="done", rows_done=3, rows_created=3)
    partial = client.get(url("import-progress", batch.pk)).content.decode()
    assert "hx-trigger" not in partial and "Import finished" in partial
