import re

import pytest

from accounts.tests.factories import UserFactory, bearer_client
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage, Notification, NotificationSettings, NotificationType
from notifications.selectors import EMAILED_BY_DEFAULT, Channels, notification_settings_of
from notifications.services import notification_send, notification_settings_update

pytestmark = pytest.mark.django_db

ON = {"in_app": True, "email": True}
OFF = {"in_app": False, "email": False}


def _send(user, type):
    return notification_send(user=user, type=type, title=f"About {type}", link="/leads/1/")


def _emails(user) -> int:
    return EmailMessage.objects.filter(to=user.email, template="notification").count()


def test_the_matrix_lists_every_type_with_the_defaults(user, django_assert_num_queries):
    with django_assert_num_queries(1):
        matrix = notification_settings_of(user=user)
    assert list(matrix) == list(NotificationType.values)
    for type, channels in matrix.items():
        assert channels == Channels(in_app=True, email=type in EMAILED_BY_DEFAULT)


def test_update_replaces_the_matrix_and_stores_only_what_differs_from_the_defaults(user):
    # given a user who turned a few things off
    notification_settings_update(actor=user, channels={"assignment": {"in_app": True, "email": False}})

    # when they replace the settings with another choice
    matrix = notification_settings_update(
        actor=user,
        channels={
            NotificationType.HOT_LEAD: {"in_app": True, "email": True},
            NotificationType.DISPUTE: OFF,
            NotificationType.ACCOUNT: {"in_app": True, "email": True},  # the default
        },
    )

    # then the earlier choice went back to its default; only differences are stored
    assert matrix["assignment"] == Channels(in_app=True, email=True)
    assert matrix["hot_lead"] == Channels(in_app=True, email=True)
    assert matrix["dispute"] == Channels(in_app=False, email=False)
    assert NotificationSettings.objects.get(user=user).channels == {
        "hot_lead": {"email": True},
        "dispute": {"in_app": False, "email": False},
    }
    event = Event.objects.filter(name="notifications.settings.updated").latest("id")
    assert event.actor == user
    assert event.data == {"changed": {"assignment": ON, "hot_lead": ON, "dispute": OFF}}


@pytest.mark.parametrize(
    "channels",
    [
        {"newsletter": ON},
        {"assignment": {"email": False}},
        {"assignment": {"in_app": "yes", "email": False}},
        {"assignment": {"in_app": True, "email": False, "sms": True}},
    ],
)
def test_update_refuses_unknown_types_and_incomplete_channels(user, channels):
    with pytest.raises(ValidationFailed):
        notification_settings_update(actor=user, channels=channels)
    assert not NotificationSettings.objects.exists()


def test_notification_send_honours_each_type_and_channel(user):
    # given: assignments only by email, new leads emailed too, disputes only in the app
    notification_settings_update(
        actor=user,
        channels={
            "assignment": {"in_app": False, "email": True},
            "new_lead": {"in_app": True, "email": True},
            "dispute": {"in_app": True, "email": False},
        },
    )

    assert _send(user, NotificationType.ASSIGNMENT) is None and _emails(user) == 1
    assert _send(user, NotificationType.NEW_LEAD) is not None and _emails(user) == 2
    assert _send(user, NotificationType.DISPUTE) is not None and _emails(user) == 2
    # untouched types keep their defaults: hot leads in the app only, purchases also by email
    assert _send(user, NotificationType.HOT_LEAD) is not None and _emails(user) == 2
    assert _send(user, NotificationType.PURCHASE_SALE) is not None and _emails(user) == 3
    assert list(Notification.objects.values_list("type", flat=True).order_by("id")) == [
        "new_lead",
        "dispute",
        "hot_lead",
        "purchase_sale",
    ]


def test_one_users_settings_never_reach_another(user):
    colleague = UserFactory(organization=user.organization)
    notification_settings_update(actor=user, channels={"assignment": OFF})
    assert _send(colleague, NotificationType.ASSIGNMENT) is not None
    assert _emails(colleague) == 1
    assert not NotificationSettings.objects.filter(user=colleague).exists()


def test_the_api_replaces_my_settings_and_sending_follows_them(auth_client, user):
    body = auth_client.put("/api/profile/preferences/notifications/", {"assignment": OFF}).json()
    assert list(body) == list(NotificationType.values)
    assert body["assignment"] == OFF and body["dispute"] == ON

    assert _send(user, NotificationType.ASSIGNMENT) is None and _emails(user) == 0
    assert auth_client.get("/api/profile/preferences/").json()["notifications"]["assignment"] == OFF


def test_the_api_checks_the_shape_of_each_type(auth_client):
    error = assert_error(
        auth_client.put("/api/profile/preferences/notifications/", {"assignment": {"email": False}}),
        400,
        "validation_error",
    )
    assert "in_app" in error["details"]["assignment"]
    assert_error(
        auth_client.put("/api/profile/preferences/notifications/", {"assignment": "off"}), 400, "validation_error"
    )


def test_the_api_needs_authentication(api_client):
    assert_error(api_client.put("/api/profile/preferences/notifications/", {}), 401, "not_authenticated")


def test_the_page_is_a_table_of_types_with_two_checkboxes(client, user):
    notification_settings_update(actor=user, channels={"hot_lead": {"in_app": False, "email": True}})
    client.force_login(user)
    page = client.get("/settings/notifications/").content.decode()

    rows = re.findall(r'<tr data-type="(\w+)">(.*?)</tr>', page, re.S)
    assert [type for type, _ in rows] == list(NotificationType.values)
    for type, row in rows:
        boxes = dict(re.findall(r'name="\w+-(in_app|email)"([^>]*)>', row))
        assert set(boxes) == {"in_app", "email"}
        expected = notification_settings_of(user=user)[type]
        assert ("checked" in boxes["in_app"], "checked" in boxes["email"]) == (expected.in_app, expected.email)
    assert ("checked" in dict(re.findall(r'name="hot_lead-(in_app|email)"([^>]*)>', page))["in_app"]) is False


def test_the_page_saves_the_ticked_boxes(client, user):
    client.force_login(user)
    # tick everything except email for assignments and the app for new leads
    ticked = {f"{type}-{channel}": "on" for type in NotificationType.values for channel in ("in_app", "email")}
    del ticked["assignment-email"], ticked["new_lead-in_app"]

    response = client.post("/settings/notifications/", ticked)

    assert response.status_code == 302 and response["Location"] == "/settings/notifications/"
    assert b"Your notification settings are saved." in client.get("/settings/notifications/").content
    matrix = notification_settings_of(user=user)
    assert matrix["assignment"] == Channels(in_app=True, email=False)
    assert matrix["new_lead"] == Channels(in_app=False, email=True)
    assert matrix["hot_lead"] == Channels(in_app=True, email=True)
    assert _send(user, NotificationType.NEW_LEAD) is None and _emails(user) == 1


def test_the_page_needs_sign_in(client):
    assert client.get("/settings/notifications/")["Location"] == "/login/?next=/settings/notifications/"
    assert client.post("/settings/notifications/", {})["Location"].startswith("/login/")
    assert not NotificationSettings.objects.exists()


def test_another_users_settings_are_not_changed_by_my_page(client, user, other_org_user):
    notification_settings_update(actor=other_org_user, channels={"dispute": OFF})
    client.force_login(user)
    client.post("/settings/notifications/", {})  # everything unticked
    assert notification_settings_of(user=other_org_user)["dispute"] == Channels(in_app=False, email=False)
    assert notification_settings_of(user=other_org_user)["assignment"] == Channels(in_app=True, email=True)
    assert notification_settings_of(user=user)["assignment"] == Channels(in_app=False, email=False)


def test_the_bearer_of_one_user_reads_only_their_own_matrix(user, other_org_user):
    notification_settings_update(actor=other_org_user, channels={"dispute": OFF})
    assert bearer_client(user).get("/api/profile/preferences/").json()["notifications"]["dispute"] == ON
