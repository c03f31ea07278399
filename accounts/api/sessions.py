from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.devices import describe_device
from accounts.middleware import current_session_id
from accounts.models import UserSession
from accounts.selectors import session_list
from accounts.services.sessions import session_revoke


class SessionOutputSerializer(serializers.ModelSerializer):
    device = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    class Meta:
        model = UserSession
        fields = ["id", "kind", "device", "ip", "created_at", "last_seen_at", "current"]

    def get_device(self, session) -> str:
        return describe_device(session.user_agent)

    def get_current(self, session) -> bool:
        return session.pk == self.context.get("current_session_id")


class SessionListView(APIView):
    """My open sign-ins, on pages and through the API."""

    @extend_schema(responses={200: SessionOutputSerializer(many=True)})
    def get(self, request):
        context = {"current_session_id": current_session_id(request)}
        return Response(SessionOutputSerializer(session_list(user=request.user), many=True, context=context).data)


class SessionDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, session_id: int):
        session_revoke(actor=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


api_urlpatterns = [
    path("auth/sessions/", SessionListView.as_view(), name="auth-sessions"),
    path("auth/sessions/<id:session_id>/", SessionDetailView.as_view(), name="auth-session"),
]
