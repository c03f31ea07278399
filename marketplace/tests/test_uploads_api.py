"""Uploads of listings through the API: upload → confirm → status, the payloads of DESIGN §5,
the rejected rows, and who may do what (vendor roles, a sub-user without `can_sell`, a
buyer-only organization, staff, another organization, anonymous callers)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads.models import ImportJob
from leads.tests.factories import spreadsheet_upload
from leads.tests.test_import_api import JOB_KEYS  # an upload is an import job: the same payload
from marketplace.models import Listing
from marketplace.tests.factories import VendorUserFactory

pytestmark = pytest.mark.django_db

UPLOADS = "/api/marketplace/uploads/"
FILE = "Title,Price,Email,Role\nVP Sales,120,ada@engines.com,VP of Sales\nBroken,12,not-an-email,\n"


@pytest.fixture
def vendor():
    return VendorUserFactory()


@pytest.fixture
def client(vendor):
    return bearer_client(vendor)


def _upload(client, content=FILE, name="stock.csv", **fields):
    return client.post(UPLOADS, {"file": spreadsheet_upload(name, content), **fields}, format="multipart")


def _url(job_id, suffix="") -> str:
    return f"{UPLOADS}{job_id}/{suffix}"


# --- The flow --------------------------------------------------------------------------------------


def test_upload_answers_the_staged_job_with_its_mapping_and_preview(client):
    response = _upload(client)

    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == JOB_KEYS | {"preview"}
    assert (data["kind"], data["status"], data["total"], data["file_name"]) == (
        "listings",
        "awaiting_confirm",
        2,
        "stock.csv",
    )
    assert data["columns"] == ["Title", "Price", "Email", "Role"]
    assert data["mapping"] == {"Title": "title", "Price": "price", "Email": "email", "Role": "job_title"}
    assert data["preview"][0] == {
        "row": 1,
        "values": {"Title": "VP Sales", "Price": "120", "Email": "ada@engines.com", "Role": "VP of Sales"},
        "problems": {},
        "rejected": False,
    }
    assert data["preview"][1]["rejected"] is True
    assert data["rejected_url"] is None
    assert not Listing.objects.exists()


def test_confirm_queues_the_upload_which_runs_and_reports_its_counts(client, vendor):
    job_id = _upload(client).json()["id"]

    confirmed = client.post(_url(job_id, "confirm/"), {"duplicate_policy": "skip"}, format="json")

    assert confirmed.status_code == 202, confirmed.content
    assert confirmed.json() == {"id": job_id, "status": "queued"}
    data = client.get(_url(job_id)).json()
    assert (data["status"], data["total"], data["processed"], data["progress"]) == ("done", 2, 2, 100)
    assert (data["created"], data["updated"], data["duplicates"], data["invalid"]) == (1, 0, 0, 1)
    assert data["rejected_url"] == f"http://testserver{_url(job_id, 'rejected/')}"
    listing = Listing.objects.get()
    assert (listing.vendor_id, listing.approval_status, listing.upload_id) == (
        vendor.organization_id,
        "pending",
        job_id,
    )


def test_the_rejected_rows_download_with_their_reason(client):
    job_id = _upload(client).json()["id"]
    client.post(_url(job_id, "confirm/"), {}, format="json")

    response = client.get(_url(job_id, "rejected/"))

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["Title", "Price", "Email", "Role", "reason"]
    assert rows[1][:3] == ["Broken", "12", "not-an-email"]
    assert rows[1][4].startswith("A listing needs a valid email address or phone number.")


def test_confirm_takes_a_corrected_mapping_and_the_update_policy(client):
    job_id = _upload(client, "Headline,Cost,Mail\nCTO,80,cto@corp.com\n").json()["id"]

    response = client.post(
        _url(job_id, "confirm/"), {"mapping": {"Mail": "email"}, "duplicate_policy": "update"}, format="json"
    )

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=job_id)
    assert job.mapping == {"Headline": "title", "Cost": "price", "Mail": "email"}
    assert (job.duplicate_policy, job.created) == ("update", 1)


def test_upload_wide_defaults_are_taken(client):
    response = _upload(client, "Title,Email\nCTO,cto@corp.com\n", default_price="35.00", default_exclusive="false")

    assert response.status_code == 201, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.options == {"defaults": {"price": "35.00", "exclusive": "no"}}


def test_the_create_policy_is_refused(client):
    job_id = _upload(client).json()["id"]

    error = assert_error(
        client.post(_url(job_id, "confirm/"), {"duplicate_policy": "create"}, format="json"), 400, "validation_error"
    )

    assert "duplicate_policy" in error["details"]
    assert ImportJob.objects.get(pk=job_id).status == "awaiting_confirm"


def test_confirming_twice_is_409(client):
    job_id = _upload(client).json()["id"]
    client.post(_url(job_id, "confirm/"), {}, format="json")

    assert_error(client.post(_url(job_id, "confirm/"), {}, format="json"), 409, "illegal_transition")


def test_files_that_are_not_spreadsheets_or_are_empty_are_refused(client):
    assert_error(_upload(client, b"%PDF-1.7 not a sheet", name="stock.pdf"), 415, "unsupported_media_type")
    assert_error(_upload(client, "Title,Price,Email\n"), 400, "validation_error")
    assert_error(client.post(UPLOADS, {}, format="multipart"), 400, "validation_error")


def test_past_uploads_list_newest_first_in_a_constant_number_of_queries(client, vendor):
    for _ in range(2):
        _upload(client)
    with CaptureQueriesContext(connection) as few:
        response = client.get(UPLOADS)
    assert [job["id"] for job in response.json()["results"]] == list(
        ImportJob.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
    )
    for _ in range(4):
        _upload(client)

    with CaptureQueriesContext(connection) as many:
        response = client.get(UPLOADS)

    assert response.json()["count"] == 6
    assert len(many) == len(few)


# --- Who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [User.Role.MANAGEMENT, User.Role.SALES_MANAGER, User.Role.SALES_REP])
def test_every_role_of_a_vendor_may_upload(role):
    client = bearer_client(VendorUserFactory(role=role))

    assert _upload(client).status_code == 201


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: SubUserFactory(parent=VendorUserFactory(), permissions={"can_sell": False}),
        lambda: UserFactory(),  # a buyer-only organization
        lambda: StaffUserFactory(),
    ],
    ids=["vendor-sub-user-without-can-sell", "buyer-org", "staff"],
)
def test_others_may_not_upload_nor_list_uploads(make_user):
    client = bearer_client(make_user())

    assert_error(_upload(client), 403, "permission_denied")
    assert_error(client.get(UPLOADS), 403, "permission_denied")
    assert not ImportJob.objects.exists()


def test_a_vendor_sub_user_allowed_to_sell_may_upload():
    client = bearer_client(SubUserFactory(parent=VendorUserFactory(), permissions={"can_sell": True}))

    assert _upload(client).status_code == 201


def test_another_organizations_upload_is_not_found(client):
    theirs = _upload(bearer_client(VendorUserFactory())).json()["id"]

    for url in (_url(theirs), _url(theirs, "rejected/")):
        assert_error(client.get(url), 404, "not_found")
    assert_error(client.post(_url(theirs, "confirm/"), {}, format="json"), 404, "not_found")
    assert ImportJob.objects.get(pk=theirs).status == "awaiting_confirm"
    assert client.get(UPLOADS).json()["count"] == 0


def test_a_sales_rep_follows_only_their_own_uploads(vendor):
    rep = UserFactory(organization=vendor.organization, role=User.Role.SALES_REP)
    mine = _upload(bearer_client(rep)).json()["id"]
    managers = _upload(bearer_client(vendor)).json()["id"]

    client = bearer_client(rep)

    assert [job["id"] for job in client.get(UPLOADS).json()["results"]] == [mine]
    assert_error(client.get(_url(managers)), 404, "not_found")
    assert bearer_client(vendor).get(UPLOADS).json()["count"] == 2


def test_anonymous_callers_are_401(api_client, vendor):
    job_id = _upload(bearer_client(vendor)).json()["id"]

    assert_error(_upload(api_client), 401, "not_authenticated")
    assert_error(api_client.get(UPLOADS), 401, "not_authenticated")
    assert_error(api_client.get(_url(job_id)), 401, "not_authenticated")
    assert_error(api_client.post(_url(job_id, "confirm/"), {}, format="json"), 401, "not_authenticated")
