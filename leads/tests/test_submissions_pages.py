"""Submissions on the form's page: the answers, the attachment link (a permission-checked
download), and the "reached out" button."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory
from leads.models import Lead, Submission
from leads.services.forms import submission_receive
from leads.tests.factories import CaptureFormFactory, LeadFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"


@pytest.fixture
def org(user):
    return user.organization


@pytest.fixture
def form(org):
    return CaptureFormFactory(organization=org, allow_attachment=True)


@pytest.fixture
def submission(form, private_files):
    upload = SimpleUploadedFile("brief.pdf", PDF, content_type="application/pdf")
    receipt = submission_receive(
        slug=form.slug,
        data={"first_name": "Grace", "email": "grace@example.org", "notes": "Hello\nthere"},
        ip="203.0.113.5",
        attachment=upload,
    )
    return receipt.submission


def _page(form) -> str:
    return f"/leads/forms/{form.pk}/"


def test_the_form_page_lists_submissions_with_their_answers(client, user, form, submission):
    client.force_login(user)

    html = client.get(_page(form)).content.decode()

    assert f'id="submission-{submission.pk}"' in html
    assert "Grace" in html and "grace@example.org" in html and "Hello<br>there" in html
    assert f'href="/leads/forms/submissions/{submission.pk}/attachment/"' in html and "brief.pdf" in html
    assert "Mark reached out" in html


def test_the_attachment_link_downloads_for_members_who_may_see_the_lead(client, user, org, submission):
    url = f"/leads/forms/submissions/{submission.pk}/attachment/"

    # Visitors sign in first
    assert client.get(url)["Location"].startswith("/login/?next=")

    # Management downloads it, as an attachment with the type its content showed
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="brief.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"

    # Without can_view_leads: 403; another organization: 404; a rep not owning the lead: 404
    client.force_login(SubUserFactory(parent=user, role="management", permissions={"can_view_leads": False}))
    assert client.get(url).status_code == 403
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(organization=org, role=User.Role.SALES_REP))
    assert client.get(url).status_code == 404


def test_marking_reached_out_from_the_page(client, user, form, submission):
    client.force_login(user)

    response = client.post(f"/leads/forms/submissions/{submission.pk}/reached-out/")

    assert response.status_code == 302
    assert response["Location"] == f"{_page(form)}#submission-{submission.pk}"
    submission.refresh_from_db()
    assert submission.reached_out_by == user
    assert Lead.objects.get(pk=submission.lead_id).status == "contacted"
    html = client.get(_page(form)).content.decode()
    assert "Reached out" in html and "Marked as reached out." in html


def test_reached_out_needs_edit_rights_and_the_same_organization(client, user, form):
    submission = SubmissionFactory(form=form)
    url = f"/leads/forms/submissions/{submission.pk}/reached-out/"

    assert client.post(url)["Location"].startswith("/login/?next=")
    client.force_login(SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False}))
    assert client.post(url).status_code == 403
    client.force_login(UserFactory())
    assert client.post(url).status_code == 404
    submission.refresh_from_db()
    assert submission.reached_out_at is None


def test_reps_see_only_their_leads_submissions(client, org, form):
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    SubmissionFactory(form=form, lead=LeadFactory(organization=org, assigned_to=rep, first_name="Mine"))
    SubmissionFactory(form=form, lead=LeadFactory(organization=org, first_name="Theirs"))
    client.force_login(rep)

    html = client.get(_page(form)).content.decode()

    assert ">Mine " in html and ">Theirs " not in html


def test_the_form_page_queries_do_not_grow_with_submissions(client, user, org, form):
    owner = UserFactory(organization=org)
    client.force_login(user)
    client.get(_page(form))  # the first page of a session also records the sign-in
    SubmissionFactory(form=form, lead=LeadFactory(organization=org, assigned_to=owner))
    with CaptureQueriesContext(connection) as few:
        assert client.get(_page(form)).status_code == 200
    for _ in range(12):
        SubmissionFactory(form=form, lead=LeadFactory(organization=org, assigned_to=owner))
    reached = SubmissionFactory(form=form, reached_out_by=owner)
    Submission.objects.filter(pk=reached.pk).update(reached_out_at="2024-01-01T00:00:00Z")
    with CaptureQueriesContext(connection) as many:
        assert client.get(_page(form)).status_code == 200
    assert len(many) == len(few)
