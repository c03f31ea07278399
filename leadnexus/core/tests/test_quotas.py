import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from accounts.tests.factories import UserFactory, bearer_client
from leadnexus.core.testing import assert_error


class GoalView(APIView):
    quota_group = "search_goals"

    def post(self, request):
        return Response({"ok": True}, status=201)


class LeadViewSet(ViewSet):
    quota_groups = {"create": "lead_writes"}

    def list(self, request):
        return Response([])

    def create(self, request):
        return Response({}, status=201)


urlpatterns = [
    path("api/test/goals/", GoalView.as_view()),
    path("api/test/leads/", LeadViewSet.as_view({"get": "list", "post": "create"})),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_quota_answers_429_with_retry_after_per_user(settings):
    settings.QUOTAS = {**settings.QUOTAS, "search_goals": "2/day"}
    user = UserFactory()
    client = bearer_client(user)
    assert [client.post("/api/test/goals/").status_code for _ in range(2)] == [201, 201]

    response = client.post("/api/test/goals/")
    error = assert_error(response, 429, "throttled")
    assert "quota of 2 search goals" in error["message"]
    assert 0 < int(response["Retry-After"]) <= 86400

    # another user of the same org has a quota of their own
    colleague = bearer_client(UserFactory(organization=user.organization))
    assert colleague.post("/api/test/goals/").status_code == 201


def test_quota_groups_can_be_per_action(settings):
    settings.QUOTAS = {**settings.QUOTAS, "lead_writes": "1/hour"}
    client = bearer_client(UserFactory())
    assert client.post("/api/test/leads/").status_code == 201
    assert_error(client.post("/api/test/leads/"), 429, "throttled")
    assert client.get("/api/test/leads/").status_code == 200  # reads are not counted


def test_quotas_are_scaled_like_rate_limits(settings):
    settings.QUOTAS = {**settings.QUOTAS, "search_goals": "1/day"}
    settings.RATE_LIMIT_SCALE = 3
    client = bearer_client(UserFactory())
    assert [client.post("/api/test/goals/").status_code for _ in range(4)] == [201, 201, 201, 429]
