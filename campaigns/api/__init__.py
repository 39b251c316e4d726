"""Campaigns API: programs, campaigns (with their totals; one action per status command), spend and
results (single rows and all-or-nothing bulk posts), spreadsheet imports and campaign files.

Serializers check the shape of a request; every write goes through ``campaigns.services``,
``campaigns.facts.services``, ``campaigns.attachments.services`` or ``campaigns.imports.services``, whose errors
become 400 / 403 / 409 bodies in ``mops.api_base.exception_handler``.
"""

from rest_framework.routers import SimpleRouter

from campaigns.api.plan import CampaignViewSet, ProgramViewSet
from campaigns.attachments.api import AttachmentViewSet
from campaigns.facts.api import ResultViewSet, SpendViewSet
from campaigns.imports.api import ImportViewSet

router = SimpleRouter()
router.register("programs", ProgramViewSet, basename="program")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("spend", SpendViewSet, basename="spend")
router.register("results", ResultViewSet, basename="result")
router.register("imports", ImportViewSet, basename="import")
router.register("campaign-attachments", AttachmentViewSet, basename="campaign-attachment")
urlpatterns = router.urls
