"""Lead form pages: the builder (management), the form's page with its embed snippet, and the
public page at /f/<slug>/, the only page the site lets others frame (and only as the embed)."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory
from leads.models import CaptureForm, Lead, Submission
from leads.tests.factories import CaptureFormFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

LIST = "/leads/forms/"


@pytest.fixture
def org(user):
    return user.organization


def _builder(name="Demo request", **extra):
    """A builder post asking first name, company and a required email."""
    return {
        "name": name,
        "thank_you_text": "Thanks, talk soon.",
        "is_active": "on",
        "first_name__ask": "on",
        "company__ask": "on",
        "company__label": "Your company",
        "email__ask": "on",
        "email__required": "on",
        **extra,
    }


def test_visitors_are_sent_to_sign_in(client, org):
    form = CaptureFormFactory(organization=org)
    for url in (LIST, f"{LIST}new/", f"{LIST}{form.pk}/", f"{LIST}{form.pk}/edit/", f"{LIST}{form.pk}/delete/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    assert client.post(f"{LIST}new/", _builder()).status_code == 302
    assert CaptureForm.objects.count() == 1


def test_management_builds_a_form(user):
    # Given management on the builder, CSRF enforced
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    seller = UserFactory(organization=user.organization, full_name="Sally Seller")
    page = client.get(f"{LIST}new/")
    assert page.status_code == 200 and "Sally Seller" in page.content.decode()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()

    # When they save it
    response = client.post(f"{LIST}new/", {**_builder(), "notify_users": [seller.pk], "csrfmiddlewaretoken": token})

    # Then the form exists with the chosen fields in lead-field order, and its page shows how to share it
    form = CaptureForm.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{LIST}{form.pk}/"
    assert form.fields == [
        {"name": "first_name", "label": "First name", "required": False},
        {"name": "company", "label": "Your company", "required": False},
        {"name": "email", "label": "Email", "required": True},
    ]
    assert list(form.notify_users.all()) == [seller]
    detail = client.get(response["Location"]).content.decode()
    assert f"http://testserver/f/{form.slug}/" in detail
    assert f"&lt;iframe src=&quot;http://testserver/f/{form.slug}/?embed=1&quot;" in detail
    assert "No submissions yet" in detail


def test_the_builder_refuses_a_form_without_email_or_phone(client, user):
    client.force_login(user)
    data = _builder()
    del data["email__ask"]

    response = client.post(f"{LIST}new/", data)

    assert response.status_code == 400
    assert "Ask for an email address or a phone number" in response.content.decode()
    assert not CaptureForm.objects.exists()


def test_edit_and_delete(client, user, org):
    form = CaptureFormFactory(organization=org, name="Old name")
    client.force_login(user)

    edit = client.get(f"{LIST}{form.pk}/edit/").content.decode()
    assert 'value="Old name"' in edit and 'name="email__required" id="id_email__required" checked' in edit
    response = client.post(f"{LIST}{form.pk}/edit/", _builder(name="New name", allow_attachment="on"))
    assert response.status_code == 302
    form.refresh_from_db()
    assert (form.name, form.allow_attachment, len(form.fields)) == ("New name", True, 3)

    assert "Delete “New name”?" in client.get(f"{LIST}{form.pk}/delete/").content.decode()
    assert client.post(f"{LIST}{form.pk}/delete/").status_code == 302
    assert not CaptureForm.objects.exists()


@pytest.mark.parametrize(
    "who",
    [
        pytest.param({"role": "sales_manager"}, id="sales_manager"),
        pytest.param({"role": "sales_rep"}, id="sales_rep"),
        pytest.param({"role": "management", "sub": {"can_edit_leads": False}}, id="management-without-edit"),
    ],
)
def test_others_see_forms_but_cannot_change_them(client, user, org, who):
    form = CaptureFormFactory(organization=org, name="Keep")
    if "sub" in who:
        actor = SubUserFactory(parent=user, role=who["role"], permissions=who["sub"])
    else:
        actor = UserFactory(organization=org, role=who["role"])
    client.force_login(actor)

    listing = client.get(LIST).content.decode()
    assert "Keep" in listing and "New form" not in listing
    assert client.get(f"{LIST}{form.pk}/").status_code == 200
    assert client.post(f"{LIST}new/", _builder()).status_code == 403
    assert client.post(f"{LIST}{form.pk}/edit/", _builder(name="Changed")).status_code == 403
    assert client.post(f"{LIST}{form.pk}/delete/").status_code == 403
    assert CaptureForm.objects.get().name == "Keep"


def test_without_view_rights_or_in_another_organization(client, user, org):
    mine = CaptureFormFactory(organization=org)
    theirs = CaptureFormFactory(name="Theirs")

    client.force_login(SubUserFactory(parent=user, role="management", permissions={"can_view_leads": False}))
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{mine.pk}/").status_code == 403

    client.force_login(user)
    assert "Theirs" not in client.get(LIST).content.decode()
    for url in (f"{LIST}{theirs.pk}/", f"{LIST}{theirs.pk}/edit/", f"{LIST}{theirs.pk}/delete/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{LIST}{theirs.pk}/delete/").status_code == 404
    assert CaptureForm.objects.filter(pk=theirs.pk).exists()


def test_empty_state(client, user):
    client.force_login(user)
    assert "No lead forms yet" in client.get(LIST).content.decode()


# --- The public page ---------------------------------------------------------------------------


def test_the_public_page_shows_the_form_with_a_hidden_honeypot(client, org):
    form = CaptureFormFactory(organization=org, slug="talk-to-us", allow_attachment=True)

    page = client.get("/f/talk-to-us/")

    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="email"' in html and 'name="first_name"' in html and 'name="attachment"' in html
    assert 'name="job_title"' not in html
    assert re.search(r'class="hp-field" aria-hidden="true">.*name="website_url"', html, re.S)
    assert form.name in html


def test_unknown_and_switched_off_forms_are_not_found(client, org):
    CaptureFormFactory(organization=org, slug="off", is_active=False)
    assert client.get("/f/off/").status_code == 404
    assert client.get("/f/nothing-here/").status_code == 404


def test_only_the_embed_may_be_framed(client, user, org):
    CaptureFormFactory(organization=org, slug="embed-me")

    embed = client.get("/f/embed-me/?embed=1")
    assert embed.status_code == 200
    assert "X-Frame-Options" not in embed
    assert "frame-ancestors *" in embed["Content-Security-Policy"]
    assert "site-header" not in embed.content.decode()  # the form alone, without the site's navigation

    page = client.get("/f/embed-me/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]

    client.force_login(user)
    for url in (LIST, "/leads/assignment/"):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_submitting_the_public_page_thanks_the_visitor(org):
    # A visitor's browser in another site's frame sends no CSRF cookie: the page does not need one
    CaptureFormFactory(organization=org, slug="hello", thank_you_text="We will call you back.")
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/f/hello/?embed=1",
        {"email": "visitor@example.org", "first_name": "Vi", "website_url": ""},
        REMOTE_ADDR="192.0.2.4",
    )

    assert response.status_code == 302 and response["Location"] == "/f/hello/thanks/?embed=1"
    assert "X-Frame-Options" not in response
    thanks = client.get(response["Location"])
    assert "We will call you back." in thanks.content.decode() and "X-Frame-Options" not in thanks
    lead = Lead.objects.get()
    assert (lead.email, lead.source, lead.organization) == ("visitor@example.org", "form", org)
    assert Submission.objects.get().ip == "192.0.2.4"
    assert client.get("/f/hello/thanks/")["X-Frame-Options"] == "DENY"


def test_the_public_page_shows_errors_in_place(client, org):
    CaptureFormFactory(organization=org, slug="hello")

    missing = client.post("/f/hello/", {"first_name": "Vi"})
    invalid = client.post("/f/hello/", {"email": "nope"})

    assert missing.status_code == 400 and "This field is required." in missing.content.decode()
    assert invalid.status_code == 400 and "Enter a valid email" in invalid.content.decode()
    assert not Lead.objects.exists()


def test_the_public_page_honeypot_thanks_bots_and_stores_nothing(client, org):
    CaptureFormFactory(organization=org, slug="hello")

    response = client.post("/f/hello/", {"email": "bot@example.org", "website_url": "http://spam.example"})

    assert response.status_code == 302 and response["Location"] == "/f/hello/thanks/"
    assert not Submission.objects.exists() and not Lead.objects.exists()


def test_the_public_page_is_rate_limited(client, settings, org):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "form_submit": "1/hour"}
    CaptureFormFactory(organization=org, slug="hello")

    assert client.post("/f/hello/", {"email": "one@example.org"}).status_code == 302
    response = client.post("/f/hello/", {"email": "two@example.org"})

    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Too many requests" in response.content.decode()
    assert Lead.objects.count() == 1


def test_the_public_page_refuses_a_disguised_attachment(client, org):
    CaptureFormFactory(organization=org, slug="cv", allow_attachment=True)

    script = SimpleUploadedFile("cv.pdf", b"<script>alert(1)</script>", content_type="application/pdf")
    response = client.post("/f/cv/", {"email": "a@example.org", "attachment": script})

    assert response.status_code == 415
    assert "Attach a PDF" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_rep_notified_by_a_form_is_a_member_of_the_org(org):
    # The builder only offers the organization's own members to notify
    rep = UserFactory(organization=org, role=User.Role.SALES_REP, full_name="Own Rep")
    stranger = UserFactory(full_name="Other Org Person")
    client = Client()
    client.force_login(UserFactory(organization=org))
    html = client.get(f"{LIST}new/").content.decode()
    assert rep.full_name in html and stranger.full_name not in html
    assert client.post(f"{LIST}new/", {**_builder(), "notify_users": [stranger.pk]}).status_code == 400


def test_the_public_page_refuses_a_body_too_large_before_reading_it(client, settings, org):
    settings.SUBMISSION_MAX_ATTACHMENT_BYTES = 1024
    CaptureFormFactory(organization=org, slug="cv", allow_attachment=True)
    upload = SimpleUploadedFile("huge.pdf", b"%PDF-" + b"0" * 400_000, content_type="application/pdf")

    response = client.post("/f/cv/?embed=1", {"email": "a@example.org", "attachment": upload})

    assert response.status_code == 413
    assert "larger than" in response.content.decode()
    assert "X-Frame-Options" not in response  # still the embed
    assert not Submission.objects.exists()


def test_the_forms_list_page_queries_do_not_grow_with_forms(client, user, org):
    client.force_login(user)
    client.get(LIST)  # the first page of a session also records the sign-in
    CaptureFormFactory(organization=org, notify_users=[user])
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(10):
        SubmissionFactory(form=CaptureFormFactory(organization=org, notify_users=[user]))
    with CaptureQueriesContext(connection) as many:
        html = client.get(LIST).content.decode()
    assert html.count("/f/contact-us-") == 11
    assert len(many) == len(few)
