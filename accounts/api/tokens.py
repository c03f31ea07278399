from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.selectors import api_token_list
from accounts.services.tokens import api_token_create, api_token_revoke
from leadnexus.core.api import validated


class ApiTokenOutputSerializer(serializers.ModelSerializer):
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at", "active"]

    def get_active(self, token) -> bool:
        return token.revoked_at is None and (token.expires_at is None or token.expires_at > timezone.now())


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    key = serializers.CharField(help_text="The secret, shown only in this answer: send `Authorization: Token <key>`.")

    class Meta(ApiTokenOutputSerializer.Meta):
        fields = [*ApiTokenOutputSerializer.Meta.fields, "key"]


class ApiTokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class ApiTokenListView(APIView):
    """My personal API tokens."""

    @extend_schema(responses={200: ApiTokenOutputSerializer(many=True)})
    def get(self, request):
        return Response(ApiTokenOutputSerializer(api_token_list(user=request.user), many=True).data)

    @extend_schema(request=ApiTokenInputSerializer, responses={201: ApiTokenCreatedOutputSerializer})
    def post(self, request):
        issued = api_token_create(actor=request.user, **validated(ApiTokenInputSerializer, request))
        issued.token.key = issued.key
        return Response(ApiTokenCreatedOutputSerializer(issued.token).data, status=status.HTTP_201_CREATED)


class ApiTokenDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, token_id: int):
        api_token_revoke(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


api_urlpatterns = [
    path("profile/api-tokens/", ApiTokenListView.as_view(), name="api-tokens"),
    path("profile/api-tokens/<id:token_id>/", ApiTokenDetailView.as_view(), name="api-token"),
]
