import pytest
from django.urls import reverse

from planning.models import Channel, ChannelGroup
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_ops_admin_adds_a_channel_on_the_planning_page(client, ops_admin):
    client.force_login(ops_admin)
    response = client.post(reverse("planning:home"), {"name": "Podcasts", "group": ChannelGroup.PAID_MEDIA})
    assert response.status_code == 302
    assert Channel.objects.get(slug="podcasts").group == "paid_media"


def test_marketer_sees_channels_but_cannot_add(client, marketer):
    ChannelFactory(name="Email", slug="email", group=ChannelGroup.OWNED)
    client.force_login(marketer)
    response = client.get(reverse("planning:home"))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert b"Email" in response.content
    assert client.post(reverse("planning:home"), {"name": "Rogue", "group": "owned"}).status_code == 403


def test_channel_api(api_as, ops_admin, marketer):
    created = api_as(ops_admin).post("/api/v1/channels/", {"name": "Webinars", "group": "events"})
    assert created.status_code == 201, created.json()
    listed = api_as(marketer).get("/api/v1/channels/?group=events").json()
    assert [c["slug"] for c in listed["results"]] == ["webinars"]
    assert api_as(marketer).post("/api/v1/channels/", {"name": "X", "group": "events"}).status_code == 403
    bad = api_as(ops_admin).post("/api/v1/channels/", {"name": "Y", "group": "telepathy"})
    assert bad.status_code == 400
    assert "group" in bad.json()
