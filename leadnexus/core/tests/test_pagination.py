from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db


def test_page_number_pagination_defaults_and_caps(auth_client, user, settings):
    settings.PAGE_SIZE = 3
    UserFactory.create_batch(4, organization=user.organization)

    first = auth_client.get("/api/users").json()
    assert first["count"] == 5 and len(first["results"]) == 3
    assert first["previous"] is None and "page=2" in first["next"]

    assert len(auth_client.get("/api/users?page_size=2").json()["results"]) == 2
    assert len(auth_client.get("/api/users?page_size=100000").json()["results"]) == 5  # capped at 200
    assert_error(auth_client.get("/api/users?page=99"), 404, "not_found")


@pytest.mark.urls("leadnexus.core.tests.urls")
def test_keyset_pagination_walks_forward_and_back_through_ties(auth_client):
    now = timezone.now()
    # ten events, pairs sharing a timestamp so the id must break ties
    events = [Event.objects.create(name=f"page.{i}") for i in range(10)]
    for i, event in enumerate(events):
        Event.objects.filter(pk=event.pk).update(created_at=now - timedelta(minutes=i // 2))
    expected = [
        e.pk
        for e in sorted(
            Event.objects.filter(name__startswith="page."), key=lambda e: (e.created_at, e.pk), reverse=True
        )
    ]

    seen, url, pages = [], "/api/test/events/?page_size=3", []
    while url:
        body = auth_client.get(url).json()
        assert "count" not in body
        pages.append(body)
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == expected
    assert pages[0]["previous"] is None

    # walking back from the last page gives the previous page again
    back = auth_client.get(pages[-1]["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in pages[-2]["results"]]


@pytest.mark.urls("leadnexus.core.tests.urls")
def test_keyset_ordering_is_whitelisted_and_cursors_are_checked(auth_client):
    for name in ["page.b", "page.a", "page.c"]:
        Event.objects.create(name=name)
    by_name = auth_client.get("/api/test/events/?ordering=name").json()
    assert [row["name"] for row in by_name["results"]] == ["page.a", "page.b", "page.c"]
    ignored = auth_client.get("/api/test/events/?ordering=actor__password").json()
    assert [row["name"] for row in ignored["results"]] == ["page.c", "page.a", "page.b"]  # default: newest first
    assert_error(auth_client.get("/api/test/events/?cursor=not-a-cursor"), 404, "not_found")


@pytest.mark.urls("leadnexus.core.tests.urls")
def test_scoped_related_field_accepts_only_what_the_user_may_see(auth_client, user, other_org_user):
    colleague = UserFactory(organization=user.organization)

    assert auth_client.post("/api/test/assign/", {"assignee": colleague.pk}, format="json").json() == {
        "assignee": colleague.email
    }
    error = assert_error(
        auth_client.post("/api/test/assign/", {"assignee": other_org_user.pk}, format="json"), 400, "validation_error"
    )
    assert "Not found" in error["details"]["assignee"][0]
