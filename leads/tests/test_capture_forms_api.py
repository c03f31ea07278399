"""`/api/lead-forms/`: defining capture forms, and who may.

Decision: members who may view leads read the forms; only management users (with
`can_edit_leads`) create, change and delete them."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import CaptureForm, Lead, Submission
from leads.tests.factories import CaptureFormFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

URL = "/api/lead-forms/"
FIELDS = [
    {"name": "first_name", "required": True},
    {"name": "email", "label": "Work email", "required": True},
    {"name": "notes"},
]


def _url(form) -> str:
    return f"{URL}{form.pk}/"


@pytest.fixture
def org(user):
    return user.organization


def test_management_defines_a_form(auth_client, user, org):
    # Given a member to notify
    seller = UserFactory(organization=org, role=User.Role.SALES_REP)

    # When management posts a form
    response = auth_client.post(
        URL,
        {"name": "Contact us!", "fields": FIELDS, "notify_users": [seller.pk], "allow_attachment": True},
        format="json",
    )

    # Then it has a slug from its name, a public link, an embed snippet, and default labels
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "contact-us"
    assert body["public_url"] == "http://testserver/f/contact-us/"
    assert '<iframe src="http://testserver/f/contact-us/?embed=1"' in body["embed_snippet"]
    assert body["fields"] == [
        {"name": "first_name", "label": "First name", "required": True},
        {"name": "email", "label": "Work email", "required": True},
        {"name": "notes", "label": "Message", "required": False},
    ]
    assert body["notify_users"] == [seller.pk]
    assert body["allow_attachment"] is True and body["is_active"] is True
    assert body["thank_you_text"]
    assert (body["submission_count"], body["open_count"]) == (0, 0)
    form = CaptureForm.objects.get()
    assert (form.organization, form.created_by) == (org, user)
    assert Event.objects.filter(name="leads.capture_form.created", subject_id=str(form.pk), actor=user).exists()


def test_slugs_stay_unique_across_organizations(auth_client):
    CaptureFormFactory(slug="contact-us")

    slug = auth_client.post(URL, {"name": "Contact us", "fields": FIELDS}, format="json").json()["slug"]

    assert slug.startswith("contact-us-") and slug != "contact-us"


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param([{"name": "first_name"}, {"name": "company"}], id="no-email-nor-phone"),
        pytest.param([{"name": "email"}, {"name": "email"}], id="twice"),
        pytest.param([{"name": "password"}], id="not-a-lead-field"),
        pytest.param([], id="empty"),
    ],
)
def test_fields_must_make_a_reachable_lead(auth_client, fields):
    error = assert_error(
        auth_client.post(URL, {"name": "Bad", "fields": fields}, format="json"), 400, "validation_error"
    )
    assert "fields" in error["details"]
    assert not CaptureForm.objects.exists()


def test_people_to_notify_must_be_members_of_the_organization(auth_client):
    stranger = UserFactory()

    error = assert_error(
        auth_client.post(URL, {"name": "F", "fields": FIELDS, "notify_users": [stranger.pk]}, format="json"),
        400,
        "validation_error",
    )
    assert "notify_users" in error["details"]


def test_rename_keeps_the_slug_and_records_the_change(auth_client, user, org):
    form = CaptureFormFactory(organization=org, name="Old", slug="old")

    response = auth_client.patch(_url(form), {"name": "New", "is_active": False}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["slug"], response.json()["is_active"]) == ("New", "old", False)
    event = Event.objects.get(name="leads.capture_form.updated")
    assert event.data["name"] == ["Old", "New"] and event.data["is_active"] == [True, False]


def test_delete_removes_the_form_its_submissions_and_their_files_but_keeps_the_leads(auth_client, org, private_files):
    form = CaptureFormFactory(organization=org)
    submission = SubmissionFactory(form=form)
    submission.attachment.save("0123abcd.pdf", ContentFile(b"%PDF-1.4 brief"), save=True)
    stored = submission.attachment.name
    assert private_files.exists(stored)

    assert auth_client.delete(_url(form)).status_code == 204

    assert not CaptureForm.objects.exists() and not Submission.objects.exists()
    assert Lead.objects.filter(pk=submission.lead_id).exists()
    assert not private_files.exists(stored)
    assert Event.objects.get(name="leads.capture_form.deleted").data["submissions"] == 1


@pytest.mark.parametrize(
    "who",
    [
        pytest.param({"role": "sales_manager"}, id="sales_manager"),
        pytest.param({"role": "sales_rep"}, id="sales_rep"),
        pytest.param({"role": "management", "sub": {"can_edit_leads": False}}, id="management-without-edit"),
    ],
)
def test_others_read_forms_but_cannot_change_them(user, org, who):
    form = CaptureFormFactory(organization=org, name="Keep")
    if "sub" in who:
        actor = SubUserFactory(parent=user, role=who["role"], permissions=who["sub"])
    else:
        actor = UserFactory(organization=org, role=who["role"])
    client = bearer_client(actor)

    assert client.get(URL).json()["count"] == 1
    assert client.get(_url(form)).status_code == 200
    assert_error(client.post(URL, {"name": "X", "fields": FIELDS}, format="json"), 403, "permission_denied")
    assert_error(client.patch(_url(form), {"name": "X"}, format="json"), 403, "permission_denied")
    assert_error(client.delete(_url(form)), 403, "permission_denied")
    assert CaptureForm.objects.get().name == "Keep"


def test_a_management_sub_user_with_the_default_flags_manages_forms(user):
    client = bearer_client(SubUserFactory(parent=user, role="management", permissions={}))
    assert client.post(URL, {"name": "Theirs", "fields": FIELDS}, format="json").status_code == 201


def test_a_sub_user_without_view_rights_gets_403(user, org):
    form = CaptureFormFactory(organization=org)
    client = bearer_client(SubUserFactory(parent=user, role="management", permissions={"can_view_leads": False}))

    assert_error(client.get(URL), 403, "permission_denied")
    assert_error(client.get(_url(form)), 403, "permission_denied")
    assert_error(client.get(f"{_url(form)}submissions/"), 403, "permission_denied")


def test_another_organizations_form_is_not_found(auth_client):
    other = CaptureFormFactory(name="Theirs")

    assert auth_client.get(URL).json()["count"] == 0
    for response in (
        auth_client.get(_url(other)),
        auth_client.patch(_url(other), {"name": "Mine"}, format="json"),
        auth_client.delete(_url(other)),
        auth_client.get(f"{_url(other)}submissions/"),
    ):
        assert_error(response, 404, "not_found")
    assert CaptureForm.objects.get().name == "Theirs"


def test_anonymous_is_refused(api_client, org):
    form = CaptureFormFactory(organization=org)
    assert_error(api_client.get(URL), 401, "not_authenticated")
    assert_error(api_client.post(URL, {"name": "X"}), 401, "not_authenticated")
    assert_error(api_client.get(f"{_url(form)}submissions/"), 401, "not_authenticated")


def test_list_queries_do_not_grow_with_forms(auth_client, org):
    members = [UserFactory(organization=org) for _ in range(2)]
    CaptureFormFactory(organization=org, notify_users=members)
    with CaptureQueriesContext(connection) as few:
        auth_client.get(URL, {"page_size": 1})
    for _ in range(12):
        SubmissionFactory(form=CaptureFormFactory(organization=org, notify_users=members))
    with CaptureQueriesContext(connection) as many:
        body = auth_client.get(URL, {"page_size": 50}).json()
    assert body["count"] == 13
    assert len(many) == len(few)
