"""The campaigns API's routes, mounted under ``/api/v1/`` by ``mops.urls``; one viewset per resource."""

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
