import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SecuritySettings, SubUserPermissions, User, UserPreferences, UserSession
from accounts.selectors import (
    export_format_of,
    export_include_notes_of,
    items_per_page_of,
    leads_view_of,
    preferences_of,
)
from accounts.services.preferences import preferences_update, security_settings_update, theme_update
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage, Notification, NotificationSettings, NotificationType

pytestmark = pytest.mark.django_db

APP = {
    "items_per_page": 50,
    "leads_view": "cards",
    "compact_mode": True,
    "theme": "dark",
    "export_format": "xlsx",
    "export_include_notes": False,
}
SECURITY = {"login_notifications": False, "session_timeout_minutes": 60}


def _prefs(user, **values) -> UserPreferences:
    return preferences_update(actor=user, **{**_defaults(), **values})


def _defaults() -> dict:
    row = UserPreferences()
    return {field: getattr(row, field) for field in APP}


def _notify(user, count: int) -> None:
    Notification.objects.bulk_create(
        Notification(user=user, type=NotificationType.NEW_LEAD, title=f"Lead {n}") for n in range(count)
    )


# --- Reading and replacing through the API -----------------------------------------


def test_preferences_start_with_the_defaults(auth_client):
    body = auth_client.get("/api/profile/preferences/").json()
    assert set(body) == {"notifications", "security", "app"}
    assert list(body["notifications"]) == list(NotificationType.values)
    assert body["notifications"]["assignment"] == {"in_app": True, "email": True}
    assert body["notifications"]["new_lead"] == {"in_app": True, "email": True}
    assert body["notifications"]["hot_lead"] == {"in_app": True, "email": False}
    assert body["security"] == {"login_notifications": True, "session_timeout_minutes": 20160}
    assert body["app"] == {
        "items_per_page": 25,
        "leads_view": "table",
        "compact_mode": False,
        "theme": "system",
        "export_format": "csv",
        "export_include_notes": True,
    }


def test_each_part_is_replaced_and_read_back(auth_client, user):
    assert auth_client.put("/api/profile/preferences/app/", APP).json() == APP
    assert auth_client.put("/api/profile/preferences/security/", SECURITY).json() == SECURITY
    notifications = auth_client.put(
        "/api/profile/preferences/notifications/", {"dispute": {"in_app": False, "email": False}}
    ).json()
    assert notifications["dispute"] == {"in_app": False, "email": False}

    body = auth_client.get("/api/profile/preferences/").json()
    assert body["app"] == APP and body["security"] == SECURITY
    assert body["notifications"]["dispute"] == {"in_app": False, "email": False}
    saved = UserPreferences.objects.get(user=user)
    assert (saved.items_per_page, saved.theme, saved.compact_mode) == (50, "dark", True)
    assert SecuritySettings.objects.get(user=user).session_timeout_minutes == 60
    # who changed what is recorded
    event = Event.objects.get(name="accounts.preferences.updated")
    assert event.actor == user and event.data == {
        "items_per_page": 50,
        "leads_view": "cards",
        "compact_mode": True,
        "theme": "dark",
        "export_format": "xlsx",
        "export_include_notes": False,
    }
    assert Event.objects.get(name="accounts.security_settings.updated").data == SECURITY


def test_a_put_must_name_every_field_with_an_allowed_value(auth_client):
    error = assert_error(auth_client.put("/api/profile/preferences/app/", {}), 400, "validation_error")
    assert set(error["details"]) == set(APP)
    for field, wrong in [("items_per_page", 7), ("theme", "neon"), ("leads_view", "kanban"), ("export_format", "pdf")]:
        error = assert_error(
            auth_client.put("/api/profile/preferences/app/", {**APP, field: wrong}), 400, "validation_error"
        )
        assert list(error["details"]) == [field]
    error = assert_error(
        auth_client.put("/api/profile/preferences/security/", {**SECURITY, "session_timeout_minutes": 5}),
        400,
        "validation_error",
    )
    assert list(error["details"]) == ["session_timeout_minutes"]


def test_the_services_refuse_values_outside_the_choices(user):
    with pytest.raises(ValidationFailed) as caught:
        preferences_update(actor=user, **{**APP, "items_per_page": 1000})
    assert list(caught.value.details) == ["items_per_page"]
    with pytest.raises(ValidationFailed):
        security_settings_update(actor=user, login_notifications=True, session_timeout_minutes=1)
    with pytest.raises(ValidationFailed):
        theme_update(actor=user, theme="sepia")
    assert not UserPreferences.objects.exists() and not SecuritySettings.objects.exists()


def test_saving_the_same_values_again_records_no_change(user):
    _prefs(user, theme="dark")
    _prefs(user, theme="dark")
    assert Event.objects.filter(name="accounts.preferences.updated").count() == 1


def test_preferences_need_authentication(api_client):
    assert_error(api_client.get("/api/profile/preferences/"), 401, "not_authenticated")
    for part, body in [("app", APP), ("security", SECURITY), ("notifications", {})]:
        assert_error(api_client.put(f"/api/profile/preferences/{part}/", body), 401, "not_authenticated")


def test_settings_pages_need_sign_in(client):
    for url in ["/settings/preferences/", "/settings/notifications/", "/settings/security/"]:
        assert client.get(url)["Location"] == f"/login/?next={url}"
    assert client.post("/settings/theme/", {"theme": "dark"})["Location"].startswith("/login/")
    assert not UserPreferences.objects.exists()


# --- Who may: everyone, on their own rows only ---------------------------------------


KINDS = [*User.Role.values, *(f"sub-user without {flag}" for flag in SubUserPermissions.FLAGS)]


def _someone(kind: str, owner: User) -> User:
    if kind.startswith("sub-user"):
        return SubUserFactory(parent=owner, permissions={kind.rsplit(" ", 1)[1]: False})
    return UserFactory(organization=owner.organization, role=kind)


@pytest.mark.parametrize("kind", KINDS)
def test_every_user_reads_and_replaces_their_own_preferences(kind, other_org_user):
    # given any kind of user, a colleague and a user of another org with saved preferences
    owner = UserFactory()
    someone = _someone(kind, owner)
    for bystander in (owner, other_org_user):
        _prefs(bystander, theme="light", items_per_page=100)
        security_settings_update(actor=bystander, login_notifications=True, session_timeout_minutes=30)
        NotificationSettings.objects.create(user=bystander, channels={"assignment": {"email": False}})
    client = bearer_client(someone)

    # when they read and replace every part of their own preferences
    assert client.get("/api/profile/preferences/").json()["app"]["theme"] == "system"
    assert client.put("/api/profile/preferences/app/", APP).status_code == 200
    assert client.put("/api/profile/preferences/security/", SECURITY).status_code == 200
    off = {"in_app": False, "email": False}
    assert client.put("/api/profile/preferences/notifications/", {"assignment": off}).status_code == 200

    # then their rows hold the change and nobody else's row moved
    assert preferences_of(user=someone).theme == "dark"
    for bystander in (owner, other_org_user):
        assert (preferences_of(user=bystander).theme, items_per_page_of(user=bystander)) == ("light", 100)
        assert SecuritySettings.objects.get(user=bystander).session_timeout_minutes == 30
        assert NotificationSettings.objects.get(user=bystander).channels == {"assignment": {"email": False}}
    assert UserPreferences.objects.count() == SecuritySettings.objects.count() == 3


@pytest.mark.parametrize("kind", KINDS)
def test_every_user_has_the_settings_pages(kind, client):
    someone = _someone(kind, UserFactory())
    client.force_login(someone)
    for url in ["/settings/profile/", "/settings/preferences/", "/settings/notifications/", "/settings/security/"]:
        assert client.get(url).status_code == 200, url
    response = client.post("/settings/preferences/", {**APP, "compact_mode": "on", "export_include_notes": ""})
    assert response.status_code == 302
    assert preferences_of(user=someone).theme == "dark"


def test_there_is_no_way_to_name_another_user(auth_client, user, other_org_user):
    # the paths carry no id; extra keys naming someone else are ignored
    response = auth_client.put("/api/profile/preferences/app/", {**APP, "user": other_org_user.pk})
    assert response.status_code == 200
    assert UserPreferences.objects.get().user == user
    assert auth_client.get(f"/api/profile/preferences/{other_org_user.pk}/").status_code == 404


# --- Pages ----------------------------------------------------------------------------


def test_preferences_page_shows_and_saves_my_choices(client, user):
    _prefs(user, export_format="xlsx", leads_view="cards")
    client.force_login(user)
    page = client.get("/settings/preferences/").content.decode()
    assert re.search(r'value="cards"[^>]*checked', page)
    assert re.search(r'<option value="xlsx" selected>', page)
    assert "Same as my device" in page and "Compact mode" in page

    response = client.post(
        "/settings/preferences/", {**APP, "theme": "light", "compact_mode": "", "export_include_notes": "on"}
    )
    assert response["Location"] == "/settings/preferences/"
    saved = preferences_of(user=user)
    assert (saved.theme, saved.compact_mode, saved.export_include_notes) == ("light", False, True)
    assert b"Your preferences are saved." in client.get("/settings/preferences/").content


def test_preferences_page_refuses_values_outside_the_choices(client, user):
    client.force_login(user)
    response = client.post("/settings/preferences/", {**APP, "items_per_page": 7})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    assert not UserPreferences.objects.exists()


def test_security_page_saves_my_settings(client, user):
    client.force_login(user)
    page = client.get("/settings/security/").content.decode()
    assert re.search(r'name="login_notifications"[^>]*checked', page)
    assert '<option value="20160" selected>14 days</option>' in page

    response = client.post("/settings/security/", {"session_timeout_minutes": 30})
    assert response["Location"] == "/settings/security/"
    saved = SecuritySettings.objects.get(user=user)
    assert (saved.login_notifications, saved.session_timeout_minutes) == (False, 30)
    assert client.post("/settings/security/", {"session_timeout_minutes": 3}).status_code == 400


# --- Preferences take effect ------------------------------------------------------------


def test_items_per_page_is_the_default_page_size_of_api_lists(user, settings):
    client = bearer_client(user)
    _notify(user, 205)
    UserFactory.create_batch(11, organization=user.organization)

    # without a saved preference: the site's PAGE_SIZE
    settings.PAGE_SIZE = 7
    assert len(client.get("/api/workflows/notifications/").json()["results"]) == 7

    _prefs(user, items_per_page=10)
    first = client.get("/api/workflows/notifications/").json()
    assert len(first["results"]) == 10 and first["count"] == 205
    assert len(client.get("/api/users/").json()["results"]) == 10
    # ?page_size= still wins, up to 200
    assert len(client.get("/api/workflows/notifications/?page_size=3").json()["results"]) == 3
    assert len(client.get("/api/workflows/notifications/?page_size=1000").json()["results"]) == 200
    assert len(client.get("/api/workflows/notifications/?page_size=zero").json()["results"]) == 10


@pytest.mark.urls("leadnexus.core.tests.urls")
def test_items_per_page_is_the_default_page_size_of_keyset_lists(user):
    client = bearer_client(user)
    for n in range(12):
        Event.objects.create(name=f"page.{n}")
    _prefs(user, items_per_page=10)
    assert len(client.get("/api/test/events/").json()["results"]) == 10
    assert len(client.get("/api/test/events/?page_size=4").json()["results"]) == 4


def test_the_page_size_preference_costs_one_query(user, django_assert_max_num_queries):
    _prefs(user, items_per_page=10)
    _notify(user, 30)
    client = bearer_client(user)
    # sign-in check, the preference, count, page
    with django_assert_max_num_queries(4):
        assert len(client.get("/api/workflows/notifications/").json()["results"]) == 10


def test_items_per_page_paginates_list_pages(client, user):
    _prefs(user, items_per_page=10)
    _notify(user, 12)
    client.force_login(user)

    page = client.get("/notifications/").content.decode()
    assert page.count("Lead ") == 10 and "Page 1 of 2" in page
    assert client.get("/notifications/?page=2").content.decode().count("Lead ") == 2

    _prefs(user, items_per_page=25)
    assert client.get("/notifications/").content.decode().count("Lead ") == 12


def test_theme_is_rendered_on_the_server(client, user):
    client.force_login(user)
    page = client.get("/dashboard/").content.decode()
    # "system": the browser decides, from the device's setting
    assert '<html lang="en" data-theme-choice="system">' in page

    _prefs(user, theme="dark")
    assert '<html lang="en" data-theme-choice="dark" data-theme="dark">' in client.get("/dashboard/").content.decode()
    _prefs(user, theme="light")
    assert 'data-theme="light"' in client.get("/settings/preferences/").content.decode()


def test_anonymous_pages_leave_the_theme_to_the_browser(client):
    page = client.get("/login/").content.decode()
    assert '<html lang="en">' in page and "<body>" in page


def test_compact_mode_puts_a_class_on_the_body(client, user):
    client.force_login(user)
    assert "<body>" in client.get("/dashboard/").content.decode()
    _prefs(user, compact_mode=True)
    assert '<body class="compact">' in client.get("/dashboard/").content.decode()


def test_the_layout_reads_preferences_in_one_query(client, user):
    _prefs(user, theme="dark", compact_mode=True)
    client.force_login(user)
    client.get("/dashboard/")  # the first request adopts the sign-in session
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/").status_code == 200
    assert sum("accounts_userpreferences" in query["sql"] for query in queries.captured_queries) == 1


def test_theme_toggle_saves_the_choice_for_every_device(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get("/dashboard/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert 'action="/settings/theme/"' in page and 'name="theme" value="dark"' in page

    # the script posts in the background
    response = browser.post(
        "/settings/theme/", {"theme": "dark", "csrfmiddlewaretoken": token}, HTTP_X_REQUESTED_WITH="fetch"
    )
    assert response.status_code == 204
    assert preferences_of(user=user).theme == "dark"

    # another device of the same user renders it
    other_device = Client()
    other_device.force_login(user)
    assert 'data-theme="dark"' in other_device.get("/dashboard/").content.decode()

    # without scripts the form posts and comes back; never to another site
    response = browser.post(
        "/settings/theme/", {"theme": "light", "next": "/notifications/", "csrfmiddlewaretoken": token}
    )
    assert response["Location"] == "/notifications/"
    response = browser.post(
        "/settings/theme/", {"theme": "dark", "next": "https://evil.example/", "csrfmiddlewaretoken": token}
    )
    assert response["Location"] == "/settings/preferences/"


def test_theme_toggle_needs_csrf_and_a_known_theme(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.post("/settings/theme/", {"theme": "dark"}).status_code == 403

    loose = Client()
    loose.force_login(user)
    assert loose.post("/settings/theme/", {"theme": "sepia"}).status_code == 400
    assert not UserPreferences.objects.exists()


def test_login_notification_follows_the_security_setting(api_client, user):
    credentials = {"email": user.email, "password": PASSWORD}
    assert api_client.post("/api/auth/login/", credentials).status_code == 200
    assert EmailMessage.objects.filter(to=user.email, template="new_sign_in").count() == 1

    security_settings_update(actor=user, login_notifications=False, session_timeout_minutes=20160)
    assert api_client.post("/api/auth/login/", credentials).status_code == 200
    assert EmailMessage.objects.filter(to=user.email, template="new_sign_in").count() == 1


def _idle(user, minutes: int) -> None:
    UserSession.objects.filter(user=user).update(last_seen_at=timezone.now() - timedelta(minutes=minutes))


def test_a_page_session_idle_for_less_than_the_timeout_stays_signed_in(client, user):
    security_settings_update(actor=user, login_notifications=True, session_timeout_minutes=15)
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 200
    _idle(user, 14)
    assert client.get("/dashboard/").status_code == 200
    assert UserSession.objects.get(user=user).revoked_at is None


def test_idle_timeout_signs_a_page_session_out(client, user):
    # given a browser signed in, with a 15-minute idle timeout
    security_settings_update(actor=user, login_notifications=True, session_timeout_minutes=15)
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 200

    # when it sits idle for 16 minutes, then it is signed out, told why, and the sign-in is ended
    _idle(user, 16)
    response = client.get("/dashboard/")
    assert response["Location"] == "/login/?next=/dashboard/"
    assert b"signed out after a period without activity" in client.get("/login/").content
    assert UserSession.objects.get(user=user).revoke_reason == "timed_out"


def test_the_default_idle_timeout_is_generous(client, user):
    client.force_login(user)
    client.get("/dashboard/")
    _idle(user, 60 * 24 * 7)
    assert client.get("/dashboard/").status_code == 200


def test_the_idle_timeout_does_not_apply_to_api_sign_ins(user):
    security_settings_update(actor=user, login_notifications=True, session_timeout_minutes=15)
    client = bearer_client(user)
    _idle(user, 60)
    assert client.get("/api/auth/me/").status_code == 200


# --- Preferences later lists and exports read ------------------------------------------


def test_selectors_give_the_preference_unless_the_request_picks(user, settings):
    settings.PAGE_SIZE = 25
    assert items_per_page_of(user=user) == 25
    assert (leads_view_of(user=user), export_format_of(user=user), export_include_notes_of(user=user)) == (
        "table",
        "csv",
        True,
    )

    _prefs(user, items_per_page=100, leads_view="cards", export_format="xlsx", export_include_notes=False)
    assert items_per_page_of(user=user) == 100
    assert leads_view_of(user=user) == "cards"
    assert export_format_of(user=user) == "xlsx"
    assert export_include_notes_of(user=user) is False
    # what the request asks for wins when it is valid
    assert leads_view_of(user=user, requested="table") == "table"
    assert leads_view_of(user=user, requested="kanban") == "cards"
    assert export_format_of(user=user, requested="csv") == "csv"
    assert export_format_of(user=user, requested="pdf") == "xlsx"
    assert export_include_notes_of(user=user, requested=True) is True


def test_preferences_page_shows_the_list_and_export_choices(client, user):
    client.force_login(user)
    page = client.get("/settings/preferences/").content.decode()
    for label in ["Items per page", "Show leads as", "Export format", "Include notes in lead and contact exports"]:
        assert label in page
