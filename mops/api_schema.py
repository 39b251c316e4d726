"""The OpenAPI schema class (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``): drf-spectacular's, plus the
error answers of ``mops.api_base.exception_handler``. Its own module: drf-spectacular imports DRF's
generic views, which import the pagination class in ``api_base``.
"""

from drf_spectacular import openapi
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema plus the error answers ``mops.api_base.exception_handler`` gives, so that a client (and
    the fuzz test, tests/core/test_api_fuzz.py) can rely on the documented status codes and bodies.

    An operation's own ``extend_schema(responses={400: ...})`` wins over these generic ones.
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        query = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
        errors = {}
        if method != "GET" or query:  # a command refused by a service is a 400 too, body or not
            errors[400] = OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input: messages by field.")
        errors[401] = OpenApiResponse(ErrorDetailSerializer, description="Missing or invalid credentials.")
        if operation.get("security"):
            errors[403] = OpenApiResponse(ErrorDetailSerializer, description="Not allowed for this user.")
        if any(parameter["in"] == "path" for parameter in parameters) or "page" in query:
            errors[404] = OpenApiResponse(ErrorDetailSerializer, description="No such object (or page) visible.")
        if method != "GET":
            errors[409] = OpenApiResponse(ErrorDetailSerializer, description="Someone acted first, or wrong state.")
        if "requestBody" in operation:
            errors[415] = OpenApiResponse(ErrorDetailSerializer, description="A body in a media type not listed.")
        if self.view.get_throttles():
            errors[429] = OpenApiResponse(ErrorDetailSerializer, description="Too many requests; try again later.")
        responses = operation["responses"]
        for code, response in errors.items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(response, str(code))
        return operation
