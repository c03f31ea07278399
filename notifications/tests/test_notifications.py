import pytest
from django.core import mail

from accounts.tests.factories import UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage, Notification, NotificationSettings, NotificationType
from notifications.services import notification_send

pytestmark = pytest.mark.django_db


def _send(user, type=NotificationType.ASSIGNMENT, title="Lead assigned to you"):
    return notification_send(
        user=user, type=type, title=title, message="Acme Corp, from the web form", link="/leads/1/"
    )


def test_notification_is_shown_in_the_app_and_emailed_by_default(user):
    notification = _send(user)
    assert notification.user == user and not notification.is_read
    email = EmailMessage.objects.get()
    assert email.status == EmailMessage.Status.SENT and email.subject == "Lead assigned to you"
    assert "http://testserver/leads/1/" in email.text
    assert mail.outbox[0].alternatives  # HTML part


def test_notification_settings_are_honoured_per_type_and_channel(user):
    NotificationSettings.objects.create(
        user=user,
        channels={NotificationType.ASSIGNMENT: {"email": False}, NotificationType.DISPUTE: {"in_app": False}},
    )
    assert _send(user) is not None
    assert not EmailMessage.objects.exists()

    assert _send(user, type=NotificationType.DISPUTE, title="A dispute was opened") is None
    assert EmailMessage.objects.get().subject == "A dispute was opened"

    _send(user, type=NotificationType.HOT_LEAD, title="Hot lead")  # not emailed by default
    assert EmailMessage.objects.count() == 1


def test_api_lists_my_notifications_with_an_unread_filter(auth_client, user):
    read = _send(user, title="Old news")
    read.is_read = True
    read.save()
    _send(user, title="Fresh")
    _send(UserFactory(organization=user.organization), title="Someone else's")

    assert [n["title"] for n in auth_client.get("/api/workflows/notifications").json()["results"]] == [
        "Fresh",
        "Old news",
    ]
    unread = auth_client.get("/api/workflows/notifications?unread=true").json()
    assert unread["count"] == 1 and unread["results"][0]["title"] == "Fresh"


def test_mark_one_and_all_read(auth_client, user):
    first, *_ = (_send(user, title=t) for t in ["a", "b", "c"])
    response = auth_client.post(f"/api/workflows/notifications/{first.pk}/read")
    assert response.status_code == 200 and response.json()["is_read"] is True

    assert auth_client.post("/api/workflows/notifications/read-all").json() == {"marked": 2}
    assert not Notification.objects.filter(is_read=False).exists()


def test_someone_elses_notification_is_not_found(auth_client, other_org_user, user):
    theirs = _send(other_org_user)
    colleague = _send(UserFactory(organization=user.organization))
    for notification in (theirs, colleague):
        assert_error(auth_client.post(f"/api/workflows/notifications/{notification.pk}/read"), 404, "not_found")
    theirs.refresh_from_db()
    assert not theirs.is_read


def test_notifications_need_authentication(api_client):
    assert_error(api_client.get("/api/workflows/notifications"), 401, "not_authenticated")
    assert_error(api_client.post("/api/workflows/notifications/read-all"), 401, "not_authenticated")


def test_bell_shows_the_unread_count_and_the_page_marks_read(client, user):
    notification = _send(user, title="Your lead converted")
    _send(user, title="Another")
    client.force_login(user)

    page = client.get("/notifications/")
    assert b'data-testid="unread-count">2<' in page.content
    assert b"Your lead converted" in page.content

    response = client.post(f"/notifications/{notification.pk}/read/")
    assert response["Location"] == "/leads/1/"
    assert b'data-testid="unread-count">1<' in client.get("/dashboard/").content

    client.post("/notifications/read-all/")
    assert b"unread-count" not in client.get("/dashboard/").content
    assert b"You have read everything" in client.get("/notifications/?unread=true").content


def test_notification_links_never_leave_the_site(client, user):
    notification = notification_send(user=user, type=NotificationType.ACCOUNT, title="x", link="https://evil.example/")
    client.force_login(user)
    assert client.post(f"/notifications/{notification.pk}/read/")["Location"] == "/notifications/"


def test_notification_list_query_count_is_flat(user, django_assert_max_num_queries):
    for i in range(30):
        _send(user, type=NotificationType.NEW_LEAD, title=f"n{i}")
    client = bearer_client(user)
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/workflows/notifications?page_size=30").json()["results"]) == 30
