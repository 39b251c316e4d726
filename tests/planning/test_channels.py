import pytest
from django.urls import reverse

from planning.models import Channel, ChannelGroup, Region, Segment
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_ops_admin_adds_a_channel_on_the_taxonomy_page(client, ops_admin):
    client.force_login(ops_admin)
    response = client.post(
        reverse("planning:taxonomy"), {"kind": "channel", "channel-name": "Podcasts", "channel-group": "paid_media"}
    )
    assert response.status_code == 302
    assert Channel.objects.get(slug="podcasts").group == "paid_media"


@pytest.mark.parametrize(
    ("kind", "data", "model", "lookup"),
    [
        ("region", {"region-name": "Nordics"}, Region, {"code": "nordics"}),
        ("segment", {"segment-name": "Public sector", "segment-kind": "segment"}, Segment, {"code": "public-sector"}),
    ],
)
def test_ops_admin_adds_regions_and_segments(client, ops_admin, kind, data, model, lookup):
    client.force_login(ops_admin)
    assert client.post(reverse("planning:taxonomy"), {"kind": kind, **data}).status_code == 302
    assert model.objects.filter(**lookup).exists()


def test_duplicate_region_is_a_form_error(client, ops_admin):
    Region.objects.create(name="EMEA", code="emea")
    client.force_login(ops_admin)
    response = client.post(reverse("planning:taxonomy"), {"kind": "region", "region-name": "EMEA"})
    assert response.status_code == 200
    assert "name" in response.context["forms"]["region"].errors


def test_marketer_sees_taxonomy_but_cannot_add(client, marketer):
    ChannelFactory(name="Email", slug="email", group=ChannelGroup.OWNED)
    client.force_login(marketer)
    response = client.get(reverse("planning:taxonomy"))
    assert response.status_code == 200
    assert response.context["forms"] == {}
    assert b"Email" in response.content
    response = client.post(
        reverse("planning:taxonomy"), {"kind": "channel", "channel-name": "Rogue", "channel-group": "owned"}
    )
    assert response.status_code == 403
    assert not Channel.objects.filter(name="Rogue").exists()


def test_channel_api(api_as, ops_admin, marketer):
    created = api_as(ops_admin).post("/api/v1/channels/", {"name": "Webinars", "group": "events"})
    assert created.status_code == 201, created.json()
    listed = api_as(marketer).get("/api/v1/channels/?group=events").json()
    assert [c["slug"] for c in listed["results"]] == ["webinars"]
    assert api_as(marketer).post("/api/v1/channels/", {"name": "X", "group": "events"}).status_code == 403
    bad = api_as(ops_admin).post("/api/v1/channels/", {"name": "Y", "group": "telepathy"})
    assert bad.status_code == 400
    assert "group" in bad.json()


def test_region_and_segment_api(api_as, ops_admin, finance):
    assert api_as(ops_admin).post("/api/v1/regions/", {"name": "LATAM"}).json()["code"] == "latam"
    segment = api_as(ops_admin).post("/api/v1/segments/", {"name": "SMB", "kind": "segment"})
    assert segment.status_code == 201
    assert api_as(finance).patch(f"/api/v1/segments/{segment.json()['id']}/", {"name": "Small"}).status_code == 403
    renamed = api_as(ops_admin).patch(f"/api/v1/segments/{segment.json()['id']}/", {"name": "Small business"})
    assert renamed.json()["name"] == "Small business"
    assert api_as(finance).get("/api/v1/regions/").json()["count"] == 1
