"""Fields and small serializers every workflow endpoint shares."""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

User = get_user_model()


def active_users():
    return User.objects.filter(is_active=True)


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")


@extend_schema_field(OpenApiTypes.STR)
class TeamField(serializers.RelatedField):
    """A team given by id or by slug; shown as its slug."""

    default_error_messages = {"does_not_exist": "There is no team {value!r}."}

    def __init__(self, *, visible=None, **kwargs):
        self.visible = visible  # ``visible(user)``: the teams the requesting user may name
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.visible is None:
            return queryset
        return queryset.filter(pk__in=self.visible(self.context["request"].user).values("pk"))

    def to_internal_value(self, data):
        value = str(data).strip()
        queryset = self.get_queryset()
        team = queryset.filter(pk=int(value)).first() if value.isdigit() else None
        team = team or queryset.filter(slug=value).first()
        if team is None:
            self.fail("does_not_exist", value=value)
        return team

    def to_representation(self, value):
        return value.slug


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")
