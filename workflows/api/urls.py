"""The workflows API's routes, mounted under ``/api/v1/`` by ``mops.urls``; one viewset per resource."""

from rest_framework.routers import SimpleRouter

from workflows.api.requests import DelegationViewSet, RequestViewSet
from workflows.api.runs import InstanceViewSet, TaskViewSet
from workflows.api.templates import SubjectTypeViewSet, TemplateViewSet

router = SimpleRouter()
router.register("workflow-subject-types", SubjectTypeViewSet, basename="workflow-subject-type")
router.register("workflow-templates", TemplateViewSet, basename="workflow-template")
router.register("workflow-instances", InstanceViewSet, basename="workflow-instance")
router.register("tasks", TaskViewSet, basename="workflow-task")
router.register("workflow-requests", RequestViewSet, basename="workflow-request")
router.register("delegations", DelegationViewSet, basename="delegation")
urlpatterns = router.urls
