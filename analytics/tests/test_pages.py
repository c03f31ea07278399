"""The Reports page: kinds, history with progress, downloads, subscriptions."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory, UserFactory
from analytics.models import ReportExport, ReportSubscription
from analytics.tests.factories import ReportExportFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_client(client, user):
    client.force_login(user)
    return client


def test_the_reports_page_needs_a_sign_in(client):
    response = client.get("/dashboard/reports/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_an_empty_reports_page_says_what_to_do(page_client):
    response = page_client.get("/dashboard/reports/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="report-kind-leads"' in content and "report-kind-sales" not in content
    assert "No reports yet" in content and "No scheduled reports" in content


def test_a_report_downloads_from_its_form(page_client, user):
    LeadFactory(organization=user.organization)
    response = page_client.get("/dashboard/reports/run/leads/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")


def test_a_bad_range_is_a_flash_message(page_client):
    response = page_client.get("/dashboard/reports/run/leads/?from=2026-03-10&to=2026-03-01", follow=True)
    assert "Must be on or before" in response.content.decode()


def test_a_running_export_polls_its_progress_and_stops_when_done(page_client, user):
    export = ReportExportFactory(user=user, status=ReportExport.Status.RUNNING, total_rows=10, row_count=4, progress=40)

    running = page_client.get(f"/dashboard/reports/exports/{export.pk}/progress/").content.decode()
    ReportExport.objects.filter(pk=export.pk).update(status=ReportExport.Status.DONE, progress=100)
    done = page_client.get(f"/dashboard/reports/exports/{export.pk}/progress/").content.decode()

    assert 'hx-trigger="every 2s"' in running and 'value="40"' in running
    assert "hx-trigger" not in done


def test_another_users_export_is_not_found(page_client):
    theirs = ReportExportFactory(user=UserFactory())
    assert page_client.get(f"/dashboard/reports/exports/{theirs.pk}/progress/").status_code == 404
    assert page_client.get(f"/dashboard/reports/exports/{theirs.pk}/download/").status_code == 404


def test_an_expired_download_says_so(page_client, user):
    export = ReportExportFactory(
        user=user, status=ReportExport.Status.DONE, expires_at=timezone.now() - timedelta(days=1)
    )
    response = page_client.get(f"/dashboard/reports/exports/{export.pk}/download/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_subscribe_and_stop_from_the_page(page_client, user):
    page_client.post("/dashboard/reports/subscriptions/", {"kind": "pipeline", "frequency": "monthly", "format": "csv"})
    subscription = ReportSubscription.objects.get(user=user)
    assert "Pipeline" in page_client.get("/dashboard/reports/").content.decode()

    page_client.post(f"/dashboard/reports/subscriptions/{subscription.pk}/delete/")

    assert not ReportSubscription.objects.exists()


def test_staff_see_exports_subscriptions_and_rollups_in_the_admin():
    staff = StaffUserFactory()
    client = Client()
    client.force_login(staff)

    for model in ("reportexport", "reportsubscription", "dailyrollup"):
        assert client.get(f"/admin/analytics/{model}/").status_code == 200
