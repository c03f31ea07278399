"""Lead imports through the API: the upload → confirm → status flow and its payloads, the
rejected rows, 413/415/400, and who may do what (roles, flags, other organizations,
anonymous callers)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads.models import ImportJob, Lead
from leads.tests.factories import LeadFactory, spreadsheet_upload

pytestmark = pytest.mark.django_db

IMPORTS = "/api/leads/import/"
FILE = 'Email,Name,Phone,Notes\nada@example.com,Ada Lovelace,,=HYPERLINK("http://evil")\nnot-an-email,Bad Row,,\n'
JOB_KEYS = {
    "id",
    "kind",
    "status",
    "file_name",
    "total",
    "processed",
    "progress",
    "created",
    "updated",
    "duplicates",
    "invalid",
    "rejected_url",
    "duplicate_policy",
    "columns",
    "mapping",
    "error",
    "created_by",
    "created_at",
    "started_at",
    "finished_at",
}


def _upload(client, content=FILE, name="contacts.csv"):
    return client.post(IMPORTS, {"file": spreadsheet_upload(name, content)}, format="multipart")


def _job_url(job_id, suffix="") -> str:
    return f"{IMPORTS}{job_id}/{suffix}"


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# --- The flow --------------------------------------------------------------------------------


def test_upload_answers_the_staged_job_with_its_mapping_and_preview(auth_client):
    response = _upload(auth_client)

    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == JOB_KEYS | {"preview"}
    assert data["status"] == "awaiting_confirm" and data["total"] == 2 and data["file_name"] == "contacts.csv"
    assert data["columns"] == ["Email", "Name", "Phone", "Notes"]
    assert data["mapping"] == {"Email": "email", "Name": "full_name", "Phone": "phone", "Notes": "notes"}
    assert data["preview"][0] == {
        "row": 1,
        "values": {"Email": "ada@example.com", "Name": "Ada Lovelace", "Notes": '=HYPERLINK("http://evil")'},
        "problems": {},
        "rejected": False,
    }
    assert data["preview"][1]["rejected"] is True
    assert data["rejected_url"] is None


def test_confirm_queues_the_job_which_runs_and_reports_its_counts(auth_client, user):
    job_id = _upload(auth_client).json()["id"]

    confirmed = auth_client.post(_job_url(job_id, "confirm/"), {"duplicate_policy": "skip"}, format="json")

    assert confirmed.status_code == 202, confirmed.content
    assert confirmed.json() == {"id": job_id, "status": "queued"}
    data = auth_client.get(_job_url(job_id)).json()
    assert (data["status"], data["total"], data["processed"], data["progress"]) == ("done", 2, 2, 100)
    assert (data["created"], data["updated"], data["duplicates"], data["invalid"]) == (1, 0, 0, 1)
    assert data["rejected_url"] == f"http://testserver{_job_url(job_id, 'rejected/')}"
    assert Lead.objects.get(organization=user.organization).notes == '=HYPERLINK("http://evil")'


def test_confirm_takes_a_corrected_mapping(auth_client):
    job_id = _upload(auth_client, "Mail,Name\nada@example.com,Ada\n").json()["id"]

    response = auth_client.post(_job_url(job_id, "confirm/"), {"mapping": {"Mail": "email"}}, format="json")

    assert response.status_code == 202
    job = ImportJob.objects.get(pk=job_id)
    assert job.mapping == {"Mail": "email", "Name": "full_name"} and job.created == 1


def test_a_wrong_mapping_is_400_and_nothing_starts(auth_client):
    job_id = _upload(auth_client).json()["id"]

    response = auth_client.post(_job_url(job_id, "confirm/"), {"mapping": {"Email": "shoe_size"}}, format="json")

    error = assert_error(response, 400, "validation_error")
    assert "shoe_size" in error["details"]["mapping"][0]
    assert ImportJob.objects.get(pk=job_id).status == "awaiting_confirm"


def test_confirming_twice_is_409(auth_client):
    job_id = _upload(auth_client).json()["id"]
    auth_client.post(_job_url(job_id, "confirm/"), {}, format="json")

    assert_error(auth_client.post(_job_url(job_id, "confirm/"), {}, format="json"), 409, "illegal_transition")


def test_an_unknown_policy_is_400(auth_client):
    job_id = _upload(auth_client).json()["id"]
    response = auth_client.post(_job_url(job_id, "confirm/"), {"duplicate_policy": "merge"}, format="json")
    assert "duplicate_policy" in assert_error(response, 400, "validation_error")["details"]


def test_the_rejected_rows_download_with_their_reason_and_no_formulas(auth_client, user):
    # given an import with a bad row and a duplicate of an existing lead
    LeadFactory(organization=user.organization, email="known@example.com")
    content = "Email,Company\nknown@example.com,=cmd|' /C calc'!A0\nnope,Acme\nnew@example.com,Fine\n"
    job_id = _upload(auth_client, content).json()["id"]
    auth_client.post(_job_url(job_id, "confirm/"), {}, format="json")

    # when the rejected rows are downloaded
    response = auth_client.get(_job_url(job_id, "rejected/"), HTTP_ACCEPT="text/csv")

    # then they come back with the file's columns and a reason, formulas defused
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="contacts-rejected-' in response["Content-Disposition"]
    rows = _rows(response)
    assert rows[0] == ["Email", "Company", "reason"]
    assert rows[1][:2] == ["known@example.com", "'=cmd|' /C calc'!A0"]
    assert rows[1][2].startswith("Duplicate of lead")
    assert rows[2][:2] == ["nope", "Acme"] and "valid email" in rows[2][2]
    assert len(rows) == 3


def test_past_imports_list_newest_first_with_a_constant_number_of_queries(auth_client, user):
    # given a few imports
    for n in range(3):
        _upload(auth_client, f"Email\np{n}@example.com\n")

    # when the list is read with two page sizes
    with CaptureQueriesContext(connection) as small:
        first = auth_client.get(IMPORTS, {"page_size": 1})
    for n in range(3, 8):
        _upload(auth_client, f"Email\np{n}@example.com\n")
    with CaptureQueriesContext(connection) as large:
        everything = auth_client.get(IMPORTS, {"page_size": 50})

    # then it is paginated, newest first, and costs the same
    assert first.json()["count"] == 3 and len(first.json()["results"]) == 1
    assert everything.json()["count"] == 8
    ids = [job["id"] for job in everything.json()["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(large.captured_queries) == len(small.captured_queries)


# --- Files refused ---------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_413(auth_client, settings):
    settings.IMPORT_MAX_FILE_BYTES = 64
    assert_error(_upload(auth_client, "Email\n" + "someone@example.com\n" * 10), 413, "payload_too_large")
    assert not ImportJob.objects.exists()


def test_a_file_with_too_many_rows_is_413(auth_client, settings):
    settings.IMPORT_MAX_ROWS = 2
    assert_error(_upload(auth_client, "Email\na@x.com\nb@x.com\nc@x.com\n"), 413, "payload_too_large")
    assert not ImportJob.objects.exists()


def test_a_pdf_named_csv_is_415(auth_client):
    response = _upload(auth_client, b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nendobj\n", name="leads.csv")
    assert_error(response, 415, "unsupported_media_type")


def test_a_malformed_file_is_400_saying_where(auth_client):
    error = assert_error(_upload(auth_client, 'Email,Notes\na@x.com,"open\n'), 400, "validation_error")
    assert "Line 2" in error["message"] and error["details"]["file"]


def test_a_json_body_is_415(auth_client):
    assert_error(auth_client.post(IMPORTS, {"file": "x"}, format="json"), 415, "unsupported_media_type")


def test_no_file_is_400(auth_client):
    assert "file" in assert_error(auth_client.post(IMPORTS, {}, format="multipart"), 400, "validation_error")["details"]


# --- Who may do what -------------------------------------------------------------------------


def test_anonymous_callers_are_401(api_client):
    assert_error(api_client.get(IMPORTS), 401, "not_authenticated")
    assert_error(_upload(api_client), 401, "not_authenticated")
    assert_error(api_client.get("/api/leads/export/"), 401, "not_authenticated")


@pytest.mark.parametrize("role", ["management", "sales_manager", "sales_rep"])
def test_every_role_may_import(role):
    member = UserFactory(role=role)
    assert _upload(bearer_client(member)).status_code == 201


def test_a_sub_user_without_the_right_to_add_leads_is_403_everywhere(user):
    # given a job of the org and a sub-user who may not add leads
    job_id = _upload(bearer_client(user)).json()["id"]
    client = bearer_client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_add_leads": False}))

    # then every import operation is refused
    assert_error(_upload(client), 403, "permission_denied")
    assert_error(client.get(IMPORTS), 403, "permission_denied")
    assert_error(client.get(_job_url(job_id)), 403, "permission_denied")
    assert_error(client.post(_job_url(job_id, "confirm/"), {}, format="json"), 403, "permission_denied")
    assert_error(client.get(_job_url(job_id, "rejected/")), 403, "permission_denied")


def test_the_update_policy_needs_the_right_to_edit_leads(user):
    client = bearer_client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False}))
    job_id = _upload(client).json()["id"]

    response = client.post(_job_url(job_id, "confirm/"), {"duplicate_policy": "update"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert client.post(_job_url(job_id, "confirm/"), {"duplicate_policy": "skip"}, format="json").status_code == 202


def test_a_rep_follows_their_own_imports_and_managers_all_of_the_org(user):
    # given an import by a rep and one by the management user
    rep = UserFactory(organization=user.organization, role="sales_rep")
    manager = UserFactory(organization=user.organization, role="sales_manager")
    mine = _upload(bearer_client(rep)).json()["id"]
    theirs = _upload(bearer_client(user)).json()["id"]

    # then the rep sees only theirs; the other job is not found for them
    rep_client = bearer_client(rep)
    assert [job["id"] for job in rep_client.get(IMPORTS).json()["results"]] == [mine]
    assert rep_client.get(_job_url(mine)).status_code == 200
    assert_error(rep_client.get(_job_url(theirs)), 404, "not_found")
    assert_error(rep_client.post(_job_url(theirs, "confirm/"), {}, format="json"), 404, "not_found")
    assert_error(rep_client.get(_job_url(theirs, "rejected/")), 404, "not_found")

    # and a manager sees both
    assert {job["id"] for job in bearer_client(manager).get(IMPORTS).json()["results"]} == {mine, theirs}


def test_another_organizations_import_is_404(user, other_org_user):
    job_id = _upload(bearer_client(user)).json()["id"]
    client = bearer_client(other_org_user)

    assert_error(client.get(_job_url(job_id)), 404, "not_found")
    assert_error(client.post(_job_url(job_id, "confirm/"), {}, format="json"), 404, "not_found")
    assert_error(client.get(_job_url(job_id, "rejected/")), 404, "not_found")
    assert client.get(IMPORTS).json()["count"] == 0
    assert ImportJob.objects.get(pk=job_id).status == "awaiting_confirm"


def test_an_id_past_the_database_range_is_404(auth_client):
    assert_error(auth_client.get(_job_url(2**64)), 404, "not_found")
