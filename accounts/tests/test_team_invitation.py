import re
from datetime import datetime, timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client

from accounts.models import User
from accounts.services.team import sub_user_create, sub_user_deactivate, sub_user_invitation_resend
from leadnexus.core.models import Event
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

INVITE_LINK = re.compile(r"http://testserver(/invite/[\w-]+/[\w-]+/)")
NEW_PASSWORD = "harbor-lantern-58"


def _invitation_path(email: str) -> str:
    message = EmailMessage.objects.filter(to=email, template="sub_user_invite").latest("created_at")
    found = INVITE_LINK.search(message.text)
    assert found, message.text
    assert found.group(0) in message.html
    return found.group(1)


def _csrf_post(client: Client, url: str, data: dict):
    page = client.get(url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def test_an_invited_member_sets_a_password_and_lands_signed_in(user):
    # given a member added by management
    member = sub_user_create(actor=user, email="new.rep@example.com", full_name="New Rep")
    email = EmailMessage.objects.get(to=member.email, template="sub_user_invite")
    assert user.organization.name in email.subject and user.get_full_name() in email.subject
    path = _invitation_path(member.email)

    # when they open the link, then they see who they join and a password form
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    assert user.organization.name.encode() in page.content and b"new.rep@example.com" in page.content

    # when they choose a password
    response = _csrf_post(client, path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})

    # then they land on the dashboard, signed in, with their address verified
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/")
    assert dashboard.status_code == 200 and b"Your password is set" in dashboard.content
    member.refresh_from_db()
    assert member.email_verified and member.check_password(NEW_PASSWORD) and member.last_login
    assert Event.objects.filter(name="accounts.sub_user.invitation_accepted", actor=member).exists()
    # and they can sign in with it later
    assert Client().post("/login/", {"email": member.email, "password": NEW_PASSWORD}).status_code == 302


def test_a_used_invitation_link_shows_a_clear_page(client, user):
    member = sub_user_create(actor=user, email="once@example.com")
    path = _invitation_path(member.email)
    client.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    client.logout()

    for response in (client.get(path), client.post(path, {"new_password": "x", "confirm_password": "x"})):
        assert response.status_code == 400
        assert b"This invitation does not work" in response.content
        assert b"already been used" in response.content
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)


def test_an_expired_or_forged_invitation_link_is_refused(client, user, monkeypatch, settings):
    member = sub_user_create(actor=user, email="late@example.com")
    path = _invitation_path(member.email)

    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(type(default_token_generator), "_now", lambda self: later)
    response = client.get(path)
    assert response.status_code == 400 and b"not valid or has expired" in response.content
    monkeypatch.undo()

    uidb64 = path.split("/")[2]
    for forged in (f"/invite/{uidb64}/abc-123/", "/invite/bm9ib2R5/abc-123/", "/invite/!!/abc/"):
        assert client.get(forged).status_code == 400


def test_a_deactivated_members_invitation_stops_working(client, user):
    member = sub_user_create(actor=user, email="gone@example.com")
    path = _invitation_path(member.email)

    sub_user_deactivate(actor=user, member_id=member.pk)

    response = client.post(path, {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert not User.objects.get(pk=member.pk).has_usable_password()


def test_the_password_rules_apply_to_an_invitation(client, user):
    member = sub_user_create(actor=user, email="weak@example.com")
    path = _invitation_path(member.email)

    response = client.post(path, {"new_password": "12345678", "confirm_password": "12345678"})
    assert response.status_code == 400 and b"too common" in response.content
    mismatch = client.post(path, {"new_password": NEW_PASSWORD, "confirm_password": "other-thing-99"})
    assert mismatch.status_code == 400 and b"do not match" in mismatch.content
    member.refresh_from_db()
    assert not member.has_usable_password() and not member.email_verified


def test_a_resent_invitation_works_and_an_uninvited_member_cannot_sign_in(client, user):
    member = sub_user_create(actor=user, email="again@example.com")
    # before accepting, signing in is impossible (no password yet)
    assert client.post("/login/", {"email": member.email, "password": ""}).status_code == 400

    sub_user_invitation_resend(actor=user, member_id=member.pk)
    assert EmailMessage.objects.filter(to=member.email, template="sub_user_invite").count() == 2
    response = client.post(
        _invitation_path(member.email), {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert Event.objects.filter(name="accounts.sub_user.invited", subject_id=str(member.pk)).count() == 2
