"""The workflow subjects campaigns registers: campaign launch (drives the campaign's status) and
asset review (its model arrives with campaign files)."""

from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus
from workflows import registry

CAMPAIGN_LAUNCH = "campaign_launch"
ASSET_REVIEW = "asset_review"


def _set_campaign_status(status):
    def callback(instance):
        Campaign.objects.filter(pk=instance.subject_id).update(status=status)

    return callback


def register() -> None:
    registry.register(
        registry.SubjectType(
            key=CAMPAIGN_LAUNCH,
            label="Campaign launch",
            model="campaigns.Campaign",
            attributes=(
                registry.Attribute(
                    "planned_cost", "Planned cost (base currency)", "decimal", lambda c: c.planned_cost_base
                ),
                registry.Attribute("channel", "Channel (code)", "text", lambda c: c.channel.slug),
                registry.Attribute("channel_group", "Channel group", "text", lambda c: c.channel.group),
                registry.Attribute("team", "Team (code)", "text", lambda c: c.team.slug),
            ),
            team_of=lambda c: c.team,
            owner_of=lambda c: c.owner,
            url_of=lambda c: reverse("campaigns:campaign-detail", args=[c.pk]),
            # Approved (the last step, "Launch", done): live. Rejected, sent back or cancelled: planned.
            on_approved=_set_campaign_status(CampaignStatus.LIVE),
            on_rejected=_set_campaign_status(CampaignStatus.PLANNED),
            on_returned=_set_campaign_status(CampaignStatus.PLANNED),
            on_resubmitted=_set_campaign_status(CampaignStatus.IN_LAUNCH_REVIEW),
            on_cancelled=_set_campaign_status(CampaignStatus.PLANNED),
        )
    )
    registry.register(
        registry.SubjectType(
            key=ASSET_REVIEW,
            label="Asset review",
            attributes=(registry.Attribute("team", "Team (code)", "text", lambda a: a.campaign.team.slug),),
            team_of=lambda a: a.campaign.team,
        )
    )
