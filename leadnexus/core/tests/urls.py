"""Views that exist only to exercise the kernel from the outside, over HTTP."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_list
from leadnexus import urls as project_urls
from leadnexus.core.events import publish
from leadnexus.core.fields import ScopedPrimaryKeyRelatedField
from leadnexus.core.idempotency import idempotent
from leadnexus.core.models import Event
from leadnexus.core.pagination import KeysetPagination

User = get_user_model()


class BoomView(APIView):
    def get(self, request):
        raise RuntimeError("boom")


class ForbiddenView(APIView):
    def get(self, request):
        raise PermissionDenied


def page_boom(request):
    raise RuntimeError("boom")


def database_down(request):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


class DatabaseDownView(APIView):
    def get(self, request):
        database_down(request)


class ChargeView(APIView):
    """Publishes one event per real execution, so a replay is visible as no new event."""

    @idempotent
    def post(self, request):
        amount = request.data.get("amount")
        if amount == "fail":
            raise RuntimeError("provider down")
        if amount == "bad":
            raise serializers.ValidationError({"amount": ["Not a number."]})
        if amount == "forbidden":
            raise PermissionDenied
        event = publish("test.charge.made", actor=request.user, org=request.user.organization, data={"amount": amount})
        return Response({"event_id": event.pk, "amount": amount}, status=201)


class EventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Event
        fields = ["id", "name", "created_at"]


class EventKeysetView(generics.ListAPIView):
    serializer_class = EventOutputSerializer
    pagination_class = KeysetPagination
    keyset_ordering = "-created_at"
    ordering_fields = ["name", "created_at"]
    filter_backends = []

    def get_queryset(self):
        return Event.objects.filter(name__startswith="page.")


class AssignInputSerializer(serializers.Serializer):
    assignee = ScopedPrimaryKeyRelatedField(selector=user_list, model=User)


class AssignView(APIView):
    def post(self, request):
        serializer = AssignInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        return Response({"assignee": serializer.validated_data["assignee"].email})


urlpatterns = [
    path("api/test/boom/", BoomView.as_view()),
    path("api/test/forbidden/", ForbiddenView.as_view()),
    path("api/test/charge/", ChargeView.as_view()),
    path("api/test/events/", EventKeysetView.as_view()),
    path("api/test/assign/", AssignView.as_view()),
    path("api/test/database-down/", DatabaseDownView.as_view()),
    path("test/boom/", page_boom),
    path("test/database-down/", database_down),
    path("", include(project_urls)),
]

handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500
