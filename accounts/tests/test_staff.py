import pytest
from django.core.management import call_command

from accounts.models import Organization, User

pytestmark = pytest.mark.django_db


def test_createsuperuser_noinput_makes_a_verified_staff_user_in_the_platform_org(monkeypatch, client, api_client):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "platform-keeper-42")
    call_command("createsuperuser", "--noinput")

    staff = User.objects.get(email="root@example.com")
    assert staff.is_staff and staff.is_superuser and staff.email_verified
    assert staff.organization == Organization.objects.get(is_platform=True)

    # pages, admin and API at once
    assert client.post("/login/", {"email": "root@example.com", "password": "platform-keeper-42"}).status_code == 302
    assert client.get("/admin/").status_code == 200
    response = api_client.post(
        "/api/auth/login", {"email": "root@example.com", "password": "platform-keeper-42"}, format="json"
    )
    assert response.status_code == 200


def test_second_staff_user_joins_the_same_platform_org(staff_user):
    from accounts.tests.factories import StaffUserFactory

    assert StaffUserFactory().organization == staff_user.organization
    assert Organization.objects.filter(is_platform=True).count() == 1


ADMIN_PAGES = [
    "/admin/accounts/organization/",
    "/admin/accounts/user/",
    "/admin/accounts/user/add/",
    "/admin/notifications/notification/",
    "/admin/notifications/emailmessage/",
    "/admin/core/event/",
    "/admin/core/outboxmessage/",
    "/admin/accounts/usersession/",
    "/admin/accounts/apitoken/",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_admin_pages_open_for_staff_only(client, staff_user, user, url):
    client.force_login(user)
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(staff_user)
    assert client.get(url + "?q=example").status_code == 200


def test_staff_create_users_in_the_admin_through_the_service(client, staff_user, user):
    client.force_login(staff_user)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Rep@Example.com",
            "full_name": "New Rep",
            "organization": user.organization_id,
            "role": "sales_rep",
            "password1": "pipeline-ranger-8",
            "password2": "pipeline-ranger-8",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    created = User.objects.get(email="new.rep@example.com")
    assert created.email_verified and created.organization == user.organization
    assert created.check_password("pipeline-ranger-8")


def test_events_are_read_only_in_the_admin(client, staff_user):
    from leadnexus.core.models import Event

    event = Event.objects.create(name="test.thing.happened")
    client.force_login(staff_user)
    assert client.get(f"/admin/core/event/{event.pk}/change/").status_code == 200
    client.post(f"/admin/core/event/{event.pk}/change/", {"name": "tampered"})
    event.refresh_from_db()
    assert event.name == "test.thing.happened"


def test_the_admin_sign_in_is_the_site_sign_in(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/admin/"


def test_staff_deactivating_a_user_in_the_admin_ends_their_sign_ins(client, staff_user, user):
    from accounts.tests.factories import bearer_client
    from leadnexus.core.models import Event
    from leadnexus.core.testing import assert_error

    api = bearer_client(user)
    client.force_login(staff_user)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(is_active="", organization=user.organization_id, role=user.role, email=user.email)
    data.update({"sub_user_permissions-TOTAL_FORMS": "0", "sub_user_permissions-INITIAL_FORMS": "0"})
    response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]

    user.refresh_from_db()
    assert not user.is_active
    assert_error(api.get("/api/auth/me"), 401, "not_authenticated")
    event = Event.objects.get(name="accounts.user.updated_by_staff")
    assert event.actor == staff_user and "is_active" in event.data["fields"]


def test_staff_end_sessions_and_revoke_tokens_from_the_admin(client, staff_user, user):
    from accounts.models import ApiToken, UserSession
    from accounts.services.tokens import api_token_create
    from accounts.tests.factories import bearer_client

    api = bearer_client(user)
    key = api_token_create(actor=user, name="integration").key
    client.force_login(staff_user)

    page = client.get("/admin/accounts/apitoken/")
    assert b"integration" in page.content and ApiToken.objects.get().key_digest.encode() not in page.content

    session = UserSession.objects.get(user=user)
    client.post("/admin/accounts/usersession/", {"action": "end_sessions", "_selected_action": [session.pk]})
    client.post(
        "/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [ApiToken.objects.get().pk]}
    )
    assert api.get("/api/auth/me").status_code == 401
    token_client = bearer_client(user)
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert token_client.get("/api/auth/me").status_code == 401
