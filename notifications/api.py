from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications.models import Notification
from notifications.selectors import notification_list
from notifications.services import notification_mark_all_read, notification_mark_read


class NotificationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "type", "title", "message", "link", "is_read", "created_at"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationOutputSerializer
    lookup_value_regex = r"\d+"
    filter_backends = []

    @extend_schema(parameters=[OpenApiParameter("unread", bool, description="true: only unread; false: only read")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        unread = self.request.query_params.get("unread")
        flag = {"true": True, "1": True, "false": False, "0": False}.get((unread or "").lower())
        return notification_list(user=self.request.user, unread=flag)

    @extend_schema(request=None, responses={200: NotificationOutputSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = notification_mark_read(actor=request.user, notification_id=int(pk))
        return Response(NotificationOutputSerializer(notification).data)

    @extend_schema(
        request=None, responses={200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})}
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notification_mark_all_read(actor=request.user)})
