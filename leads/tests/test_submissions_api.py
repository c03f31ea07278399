"""Public submissions (`POST /api/public/forms/<slug>/submit/`), attachments and their
download, the submissions list, and marking a submission reached out."""

import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import Lead, Submission
from leads.services.forms import submission_receive
from leads.tests.factories import AssignmentRuleFactory, CaptureFormFactory, LeadFactory, SubmissionFactory
from notifications.models import EmailMessage, Notification, NotificationSettings, NotificationType

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    )


def _zip(names) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


@pytest.fixture
def org(user):
    return user.organization


@pytest.fixture
def form(org, user):
    return CaptureFormFactory(organization=org, slug="contact", allow_attachment=True, notify_users=[user])


def _submit(client, form, **data):
    data = {"first_name": "Ada", "last_name": "Lovelace", "company": "Analytical", "email": "ada@example.org", **data}
    return client.post(
        f"/api/public/forms/{form.slug}/submit/", data, format="multipart", HTTP_USER_AGENT="Mozilla/5.0 test"
    )


# --- Submitting --------------------------------------------------------------------------------


def test_a_submission_creates_an_assigned_lead_and_tells_everyone(api_client, user, org, form):
    # Given a round-robin rule for form leads, and the form's notified member (emailed by default)
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    AssignmentRuleFactory(organization=org, sources=["form"], members=[rep])
    # When a visitor submits the form
    response = _submit(api_client, form, notes="Call me about pricing", phone="")

    # Then the answer is the thank-you text
    assert response.status_code == 201, response.content
    assert response.json() == {"status": "received", "message": form.thank_you_text}
    # And a new lead of the form's organization exists, from the form, unowned by anyone who typed it
    lead = Lead.objects.get()
    assert (lead.organization, lead.source, lead.status, lead.created_by) == (org, "form", "new", None)
    assert (lead.first_name, lead.email, lead.notes) == ("Ada", "ada@example.org", "Call me about pricing")
    assert lead.assigned_to == rep
    # And the submission keeps the answers, the address and the browser
    submission = Submission.objects.get()
    assert submission.lead == lead and submission.form == form
    assert submission.data["email"] == "ada@example.org" and submission.data["notes"] == "Call me about pricing"
    assert (submission.ip, submission.user_agent) == ("127.0.0.1", "Mozilla/5.0 test")
    # And the assignee is told in the app and by email; the form's member too
    assert Notification.objects.filter(user=rep, type=NotificationType.ASSIGNMENT).count() == 1
    assert EmailMessage.objects.filter(to=rep.email).count() == 1
    told = Notification.objects.get(user=user, type=NotificationType.NEW_LEAD)
    assert form.name in told.title and told.link == f"/leads/forms/{form.pk}/#submission-{submission.pk}"
    assert EmailMessage.objects.filter(to=user.email, subject__contains=form.name).count() == 1
    # And both events are on record
    received = Event.objects.get(name="leads.submission.received")
    assert received.data == {"form": form.pk, "lead": lead.pk, "new_lead": True} and received.actor is None
    assert Event.objects.get(name="leads.lead.created", subject_id=str(lead.pk)).data["source"] == "form"


def test_notified_members_get_email_only_as_their_settings_say(api_client, user, form):
    # "New leads" is shown in the app and emailed, unless the member turns the email off
    NotificationSettings.objects.create(user=user, channels={"new_lead": {"email": False}})
    assert _submit(api_client, form).status_code == 201
    assert Notification.objects.filter(user=user, type=NotificationType.NEW_LEAD).count() == 1
    assert not EmailMessage.objects.filter(to=user.email).exists()


def test_deactivated_members_are_not_told(api_client, org, form):
    gone = UserFactory(organization=org, is_active=False)
    form.notify_users.set([gone])
    assert _submit(api_client, form).status_code == 201
    assert not Notification.objects.filter(user=gone).exists()


def test_a_filled_honeypot_answers_the_same_but_stores_nothing(api_client, form):
    response = _submit(api_client, form, website_url="http://spam.example")

    assert response.status_code == 201
    assert response.json() == {"status": "received", "message": form.thank_you_text}
    assert not Submission.objects.exists() and not Lead.objects.exists() and not Notification.objects.exists()


def test_the_rate_limit_answers_429_with_retry_after(api_client, settings, form):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "form_submit": "2/hour"}

    assert _submit(api_client, form, email="one@example.org").status_code == 201
    assert _submit(api_client, form, email="two@example.org").status_code == 201
    response = _submit(api_client, form, email="three@example.org")

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert Submission.objects.count() == 2


def test_required_fields_must_be_given(api_client, form):
    error = assert_error(_submit(api_client, form, email=""), 400, "validation_error")
    assert error["details"] == {"email": ["This field is required."]}
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a\x00b@example.org"}, "email"),
        ({"first_name": "x" * 101}, "first_name"),
    ],
)
def test_invalid_answers_are_refused_with_details(api_client, form, data, field):
    error = assert_error(_submit(api_client, form, **data), 400, "validation_error")
    assert field in error["details"]
    assert not Lead.objects.exists()


def test_a_lead_must_be_reachable(api_client, org):
    phone_form = CaptureFormFactory(
        organization=org,
        fields=[
            {"name": "email", "label": "Email", "required": False},
            {"name": "phone", "label": "Phone", "required": False},
        ],
    )
    error = assert_error(_submit(api_client, phone_form, email="", phone="12"), 400, "validation_error")
    assert set(error["details"]) == {"phone"}


def test_unknown_and_switched_off_forms_are_not_found(api_client, org):
    off = CaptureFormFactory(organization=org, is_active=False)
    missing = api_client.post("/api/public/forms/no-such-form/submit/", {"email": "a@b.org"}, format="multipart")
    assert_error(missing, 404, "not_found")
    assert_error(_submit(api_client, off), 404, "not_found")


def test_fields_the_form_does_not_ask_are_ignored(api_client, form):
    assert _submit(api_client, form, job_title="CEO", annual_revenue="10").status_code == 201
    lead = Lead.objects.get()
    assert (lead.job_title, lead.annual_revenue) == ("", None)
    assert "job_title" not in Submission.objects.get().data


def test_a_certain_duplicate_joins_the_existing_lead(api_client, org, form):
    # Given a lead with the same mailbox (Gmail ignores dots and +tags)
    existing = LeadFactory(organization=org, email="ada.lovelace@gmail.com", status="qualified")

    response = _submit(api_client, form, email="AdaLovelace+web@gmail.com")

    assert response.status_code == 201
    assert Lead.objects.count() == 1
    assert Submission.objects.get().lead == existing
    assert Event.objects.get(name="leads.submission.received").data["new_lead"] is False


def test_a_possible_duplicate_or_a_deleted_match_still_makes_a_lead(api_client, org, form):
    LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="Analytical", email="x@other.org")
    deleted = LeadFactory(organization=org, email="gone@example.org")
    Lead.objects.filter(pk=deleted.pk).update(deleted_at="2020-01-01T00:00:00Z")

    assert _submit(api_client, form, email="ada@example.org").status_code == 201
    assert _submit(api_client, form, email="gone@example.org", first_name="Gone").status_code == 201

    assert Lead.objects.filter(source="form").count() == 2


# --- Attachments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind", "content_type"),
    [
        (PDF, "pdf", "application/pdf"),
        (_png(), "png", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "jpg", "image/jpeg"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "doc", "application/msword"),
        (
            _zip(["[Content_Types].xml", "word/document.xml"]),
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_accepted_attachments_are_stored_privately_under_a_random_name(
    api_client, form, private_files, content, kind, content_type
):
    upload = SimpleUploadedFile(f"My Brief.{kind}", content, content_type="application/octet-stream")

    assert _submit(api_client, form, attachment=upload).status_code == 201

    submission = Submission.objects.get()
    stored = submission.attachment.name
    assert stored.startswith("submissions/") and stored.endswith(f".{kind}") and "Brief" not in stored
    assert private_files.open(stored).read() == content
    assert (submission.attachment_name, submission.attachment_content_type) == (f"My Brief.{kind}", content_type)


def test_a_script_renamed_pdf_is_refused_and_nothing_is_kept(api_client, form, private_files):
    script = SimpleUploadedFile("cv.pdf", b"#!/bin/sh\nrm -rf /\n", content_type="application/pdf")

    error = assert_error(_submit(api_client, form, attachment=script), 415, "unsupported_media_type")

    assert "attachment" in error["details"]
    assert not Submission.objects.exists() and not Lead.objects.exists()
    assert private_files.listdir("")[1] == [] and not private_files.exists("submissions")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"<html><script>alert(1)</script></html>", id="html"),
        pytest.param(_zip(["evil.exe"]), id="zip-that-is-not-docx"),
        pytest.param(b"PK\x03\x04 not really a zip", id="broken-zip"),
        pytest.param(b"", id="empty"),
    ],
)
def test_other_contents_are_refused_whatever_their_name(api_client, form, content):
    upload = SimpleUploadedFile(
        "resume.docx", content, content_type=("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    )
    assert_error(_submit(api_client, form, attachment=upload), 415, "unsupported_media_type")
    assert not Submission.objects.exists()


def test_an_oversize_attachment_is_refused(api_client, settings, form, private_files):
    settings.SUBMISSION_MAX_ATTACHMENT_BYTES = 1024
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048, content_type="application/pdf")

    error = assert_error(_submit(api_client, form, attachment=upload), 413, "payload_too_large")

    assert "attachment" in error["details"]
    assert not Submission.objects.exists() and not private_files.exists("submissions")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("inv\x00oice\r\n\u202e.pdf", "invoice.pdf"),
        ("...", "attachment.pdf"),
    ],
)
def test_a_path_in_the_file_name_is_neither_used_nor_shown(api_client, form, private_files, name, shown):
    upload = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    upload.name = name  # what a hostile client could send, past the upload handler's own clean-up

    receipt = submission_receive(slug=form.slug, data={"email": "p@example.org"}, ip="198.51.100.7", attachment=upload)

    submission = receipt.submission
    assert submission.attachment_name == shown
    assert ".." not in submission.attachment.name and "passwd" not in submission.attachment.name
    assert private_files.exists(submission.attachment.name)


def test_a_path_sent_over_http_is_stripped_too(api_client, form, private_files):
    upload = SimpleUploadedFile("passwd.pdf", PDF, content_type="application/pdf")
    upload.name = "../../etc/passwd.pdf"
    assert _submit(api_client, form, attachment=upload).status_code == 201
    assert Submission.objects.get().attachment_name == "passwd.pdf"


def test_a_form_without_attachments_refuses_one(api_client, org):
    plain = CaptureFormFactory(organization=org, allow_attachment=False)
    upload = SimpleUploadedFile("cv.pdf", PDF, content_type="application/pdf")
    error = assert_error(_submit(api_client, plain, attachment=upload), 400, "validation_error")
    assert "attachment" in error["details"]


# --- Downloading an attachment -------------------------------------------------------------------


@pytest.fixture
def with_attachment(api_client, form, private_files):
    upload = SimpleUploadedFile("Résumé final.pdf", PDF, content_type="text/html")
    assert _submit(api_client, form, attachment=upload).status_code == 201
    return Submission.objects.get()


def _download(client, submission):
    return client.get(f"/api/lead-forms/submissions/{submission.pk}/attachment/")


def test_the_organization_downloads_the_attachment_safely(auth_client, with_attachment):
    response = _download(auth_client, with_attachment)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"  # from the content, not the client's text/html
    assert response["Content-Disposition"].startswith("attachment;")
    assert "R%C3%A9sum%C3%A9%20final.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_download_permissions(api_client, user, org, with_attachment, other_org_user):
    # Anonymous: 401; another organization: 404; without can_view_leads: 403
    assert_error(_download(api_client, with_attachment), 401, "not_authenticated")
    assert_error(_download(bearer_client(other_org_user), with_attachment), 404, "not_found")
    blind = SubUserFactory(parent=user, role="management", permissions={"can_view_leads": False})
    assert_error(_download(bearer_client(blind), with_attachment), 403, "permission_denied")
    # A rep who does not own the lead does not see it; the owner does
    stranger_rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    assert_error(_download(bearer_client(stranger_rep), with_attachment), 404, "not_found")
    owner = UserFactory(organization=org, role=User.Role.SALES_REP)
    Lead.objects.filter(pk=with_attachment.lead_id).update(assigned_to=owner)
    assert _download(bearer_client(owner), with_attachment).status_code == 200


def test_a_submission_without_attachment_has_nothing_to_download(auth_client, org, form):
    assert_error(_download(auth_client, SubmissionFactory(form=form)), 404, "not_found")


# --- The submissions list ----------------------------------------------------------------------


def test_the_list_shows_submissions_newest_first(auth_client, form, with_attachment):
    older = SubmissionFactory(form=form)
    Submission.objects.filter(pk=older.pk).update(created_at="2020-01-01T00:00:00Z")

    body = auth_client.get(f"/api/lead-forms/{form.pk}/submissions/").json()

    assert body["count"] == 2
    first = body["results"][0]
    assert first["id"] == with_attachment.pk
    assert first["attachment"] == {
        "name": "Résumé final.pdf",
        "content_type": "application/pdf",
        "url": f"/api/lead-forms/submissions/{with_attachment.pk}/attachment/",
    }
    assert first["lead"]["id"] == with_attachment.lead_id and first["lead"]["status"] == "new"
    assert first["data"]["email"] == "ada@example.org"
    assert body["results"][1]["attachment"] is None


def test_reps_see_only_the_submissions_of_their_leads(org, form):
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    mine = SubmissionFactory(form=form, lead=LeadFactory(organization=org, assigned_to=rep))
    SubmissionFactory(form=form)

    body = bearer_client(rep).get(f"/api/lead-forms/{form.pk}/submissions/").json()

    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_the_list_queries_do_not_grow_with_page_size(auth_client, org, form):
    owner = UserFactory(organization=org)
    for _ in range(2):
        SubmissionFactory(form=form, lead=LeadFactory(organization=org, assigned_to=owner))
    url = f"/api/lead-forms/{form.pk}/submissions/"
    with CaptureQueriesContext(connection) as few:
        auth_client.get(url, {"page_size": 1})
    for _ in range(15):
        SubmissionFactory(form=form, lead=LeadFactory(organization=org, assigned_to=owner))
    with CaptureQueriesContext(connection) as many:
        assert len(auth_client.get(url, {"page_size": 50}).json()["results"]) == 17
    assert len(many) == len(few)


# --- Reached out -------------------------------------------------------------------------------


def _reached_out(client, submission):
    return client.post(f"/api/lead-forms/submissions/{submission.pk}/reached-out/")


def test_marking_reached_out_moves_a_new_lead_to_contacted(auth_client, user, form):
    submission = SubmissionFactory(form=form)

    response = _reached_out(auth_client, submission)

    assert response.status_code == 200, response.content
    assert response.json()["reached_out_by"] == user.pk and response.json()["reached_out_at"]
    assert response.json()["lead"]["status"] == "contacted"
    moved = Event.objects.get(name="leads.lead.status_changed", subject_id=str(submission.lead_id))
    assert moved.data == {"from": "new", "to": "contacted"} and moved.actor == user
    assert Event.objects.filter(name="leads.submission.reached_out", subject_id=str(submission.pk)).exists()

    # Marking again changes nothing
    assert _reached_out(auth_client, submission).status_code == 200
    assert Event.objects.filter(name="leads.submission.reached_out").count() == 1


def test_a_lead_past_new_keeps_its_status(auth_client, org, form):
    submission = SubmissionFactory(form=form, lead=LeadFactory(organization=org, status="qualified"))

    assert _reached_out(auth_client, submission).json()["lead"]["status"] == "qualified"
    assert not Event.objects.filter(name="leads.lead.status_changed").exists()


def test_reached_out_permissions(api_client, user, org, form, other_org_user):
    submission = SubmissionFactory(form=form)
    read_only = SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False})

    assert_error(_reached_out(api_client, submission), 401, "not_authenticated")
    assert_error(_reached_out(bearer_client(other_org_user), submission), 404, "not_found")
    assert_error(_reached_out(bearer_client(read_only), submission), 403, "permission_denied")
    submission.refresh_from_db()
    assert submission.reached_out_at is None
    assert Lead.objects.get(pk=submission.lead_id).status == "new"


def test_a_body_too_large_to_hold_the_attachment_is_refused_before_it_is_read(api_client, settings, form):
    settings.SUBMISSION_MAX_ATTACHMENT_BYTES = 1024
    upload = SimpleUploadedFile("huge.pdf", PDF + b"0" * 400_000, content_type="application/pdf")

    error = assert_error(_submit(api_client, form, attachment=upload), 413, "payload_too_large")

    assert "attachment" in error["details"]
    assert not Submission.objects.exists()
