"""The reports API from the outside: permissions, files, the job path, expiry, query counts."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from analytics.models import ReportExport, ReportSubscription
from analytics.services.exports import report_exports_purge, report_exports_resume_stale, report_run
from analytics.tests.factories import ReportExportFactory, ReportSubscriptionFactory
from leadnexus.core.testing import assert_error
from leads.tests.factories import LeadFactory
from marketplace.tests.factories import VendorUserFactory
from notifications.models import EmailMessage, Notification, NotificationType

pytestmark = pytest.mark.django_db


def _csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


ENDPOINTS = [
    ("get", "/api/analytics/reports/"),
    ("get", "/api/analytics/reports/leads/"),
    ("get", "/api/analytics/reports/exports/"),
    ("get", "/api/analytics/reports/exports/1/"),
    ("get", "/api/analytics/reports/exports/1/download/"),
    ("get", "/api/analytics/subscriptions/"),
    ("post", "/api/analytics/subscriptions/"),
    ("get", "/api/analytics/subscriptions/1/"),
    ("patch", "/api/analytics/subscriptions/1/"),
    ("delete", "/api/analytics/subscriptions/1/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_callers_are_refused(api_client, method, url):
    assert_error(getattr(api_client, method)(url), 401, "not_authenticated")


def test_kinds_listed_are_the_callers(auth_client):
    response = auth_client.get("/api/analytics/reports/")
    assert response.status_code == 200
    assert [kind["kind"] for kind in response.json()] == ["purchases", "pipeline", "campaigns", "leads"]


def test_a_small_report_answers_its_file_and_is_kept_in_the_history(auth_client, user):
    lead = LeadFactory(organization=user.organization, company="Acme")
    today = timezone.localdate()

    response = auth_client.get(f"/api/analytics/reports/leads/?from={today}&to={today}&format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    header, row = _csv(response)
    assert header[0] == "id" and row[0] == str(lead.pk) and "Acme" in row
    history = auth_client.get("/api/analytics/reports/exports/").json()
    assert history["count"] == 1
    export = history["results"][0]
    assert (export["status"], export["row_count"], export["kind"]) == ("done", 1, "leads")
    download = auth_client.get(export["download_url"])
    assert _csv(download)[1][0] == str(lead.pk)


def test_an_xlsx_report_is_a_workbook(auth_client, user):
    from openpyxl import load_workbook

    LeadFactory(organization=user.organization, first_name="+SUM(1)")
    response = auth_client.get("/api/analytics/reports/leads/?format=xlsx")

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.values)
    assert rows[0][0] == "id" and rows[1][2] == "'+SUM(1)"


def test_range_errors_are_the_validation_envelope(auth_client):
    response = auth_client.get("/api/analytics/reports/leads/?from=2026-03-10&to=2026-03-01")
    body = assert_error(response, 400, "validation_error")
    assert "from" in body["details"]
    assert_error(
        auth_client.get("/api/analytics/reports/leads/?from=2020-01-01&to=2026-01-01"), 400, "validation_error"
    )
    assert_error(auth_client.get("/api/analytics/reports/leads/?format=pdf"), 400, "validation_error")


def test_a_vendor_only_kind_is_refused_to_a_buyer_and_an_unknown_kind_is_not_found(auth_client):
    assert_error(auth_client.get("/api/analytics/reports/sales/"), 403, "permission_denied")
    assert_error(auth_client.get("/api/analytics/reports/vendor_quality/"), 403, "permission_denied")
    assert_error(auth_client.get("/api/analytics/reports/nothing/"), 404, "not_found")
    assert bearer_client(VendorUserFactory()).get("/api/analytics/reports/sales/").status_code == 200


def test_a_rep_gets_only_their_own_rows():
    manager = UserFactory()
    rep = SubUserFactory(parent=manager, permissions={"can_export": True})
    mine = LeadFactory(organization=manager.organization, assigned_to=rep)
    LeadFactory(organization=manager.organization, assigned_to=manager)

    rows = _csv(bearer_client(rep).get("/api/analytics/reports/leads/"))

    assert [row[0] for row in rows[1:]] == [str(mine.pk)]


def test_another_orgs_export_and_subscription_are_not_found(auth_client):
    theirs = ReportExportFactory(status=ReportExport.Status.DONE)
    subscription = ReportSubscriptionFactory()

    assert_error(auth_client.get(f"/api/analytics/reports/exports/{theirs.pk}/"), 404, "not_found")
    assert_error(auth_client.get(f"/api/analytics/reports/exports/{theirs.pk}/download/"), 404, "not_found")
    assert_error(auth_client.get(f"/api/analytics/subscriptions/{subscription.pk}/"), 404, "not_found")
    assert_error(
        auth_client.patch(f"/api/analytics/subscriptions/{subscription.pk}/", {"format": "xlsx"}), 404, "not_found"
    )
    assert_error(auth_client.delete(f"/api/analytics/subscriptions/{subscription.pk}/"), 404, "not_found")


def test_a_large_report_runs_as_a_job_with_progress_and_an_emailed_link(auth_client, user, settings):
    # Given more rows than a request writes at once
    settings.REPORT_SYNC_MAX_ROWS = 3
    settings.REPORT_PROGRESS_EVERY = 2
    settings.SITE_URL = "https://app.example.com"
    for _ in range(5):
        LeadFactory(organization=user.organization)

    # When the report is asked for (the job runs eagerly once the request commits)
    response = auth_client.get("/api/analytics/reports/leads/")

    # Then the answer is the export to follow; the job wrote every row and told the user
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["total_rows"] == 5
    export = auth_client.get(f"/api/analytics/reports/exports/{body['id']}/").json()
    assert (export["status"], export["progress"], export["row_count"]) == ("done", 100, 5)
    notification = Notification.objects.get(user=user, type=NotificationType.REPORT)
    assert notification.link == f"/dashboard/reports/exports/{body['id']}/download/"
    email = EmailMessage.objects.get(to=user.email, template="notification")
    assert f"https://app.example.com/dashboard/reports/exports/{body['id']}/download/" in email.text
    assert len(_csv(auth_client.get(export["download_url"]))) == 6


def test_a_job_records_its_progress_while_it_writes(user, settings):
    from analytics.services.exports import _tracked

    settings.REPORT_PROGRESS_EVERY = 2
    export = ReportExportFactory(user=user, status=ReportExport.Status.RUNNING, total_rows=4)
    rows = _tracked(export, iter([["id"], [1], [2], [3], [4]]))

    for _ in range(3):  # the header and two rows
        next(rows)
    next(rows)  # the third row: the count of two was recorded after the second
    export.refresh_from_db()

    assert (export.row_count, export.progress) == (2, 50)


def test_a_stale_job_is_queued_again_then_failed_after_its_attempts(user, settings):
    settings.REPORT_SYNC_MAX_ROWS = 0
    LeadFactory(organization=user.organization)
    old = timezone.now() - settings.REPORT_STALE_AFTER - timedelta(seconds=1)
    # A job whose worker died mid-run
    killed = ReportExportFactory(user=user, status=ReportExport.Status.RUNNING, heartbeat_at=old, attempts=1)
    hopeless = ReportExportFactory(
        user=user, status=ReportExport.Status.RUNNING, heartbeat_at=old, attempts=settings.REPORT_MAX_ATTEMPTS
    )

    assert report_exports_resume_stale() == 2

    killed.refresh_from_db()
    hopeless.refresh_from_db()
    assert killed.status == ReportExport.Status.DONE  # run again at once (eager) and finished
    assert hopeless.status == ReportExport.Status.FAILED and "stopped" in hopeless.error


def test_an_expired_file_is_removed_and_its_download_says_so(auth_client, user):
    LeadFactory(organization=user.organization)
    export = report_run(actor=user, kind="leads")
    name = export.file.name
    ReportExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert report_exports_purge() == 1

    export.refresh_from_db()
    assert export.file.name == "" and not export.file.storage.exists(name)
    body = assert_error(auth_client.get(f"/api/analytics/reports/exports/{export.pk}/download/"), 410, "export_expired")
    assert "Run the report again" in body["message"]
    assert auth_client.get(f"/api/analytics/reports/exports/{export.pk}/").json()["expired"] is True


def test_subscriptions_crud(auth_client):
    created = auth_client.post(
        "/api/analytics/subscriptions/", {"kind": "leads", "frequency": "weekly", "format": "xlsx"}
    )
    assert created.status_code == 201, created.content
    subscription_id = created.json()["id"]

    assert_error(
        auth_client.post("/api/analytics/subscriptions/", {"kind": "leads", "frequency": "weekly"}), 409, "conflict"
    )
    assert_error(
        auth_client.post("/api/analytics/subscriptions/", {"kind": "sales", "frequency": "weekly"}),
        403,
        "permission_denied",
    )
    changed = auth_client.patch(f"/api/analytics/subscriptions/{subscription_id}/", {"frequency": "monthly"})
    assert changed.json()["frequency"] == "monthly"
    assert auth_client.get("/api/analytics/subscriptions/").json()["count"] == 1
    assert auth_client.delete(f"/api/analytics/subscriptions/{subscription_id}/").status_code == 204
    assert not ReportSubscription.objects.exists()


def test_list_endpoints_query_counts_do_not_grow(auth_client, user, django_assert_max_num_queries):
    for _ in range(3):
        ReportExportFactory(user=user, status=ReportExport.Status.DONE)
    for kind in ("leads", "pipeline", "campaigns"):
        ReportSubscriptionFactory(user=user, kind=kind)
    auth_client.get("/api/analytics/reports/exports/")  # warm the session and caches

    with django_assert_max_num_queries(8):
        assert auth_client.get("/api/analytics/reports/exports/").json()["count"] == 3
    with django_assert_max_num_queries(8):
        assert auth_client.get("/api/analytics/subscriptions/").json()["count"] == 3
    with django_assert_max_num_queries(8):
        assert len(auth_client.get("/api/analytics/reports/").json()) == 4
