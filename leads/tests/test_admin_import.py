"""The staff admin: importing leads into a chosen organization with django-import-export
(cleaned and deduplicated by the app's own functions), exporting without formulas, and
following import jobs."""

import pytest

from accounts.tests.factories import UserFactory
from leadnexus.core.models import Event
from leads.admin import LeadAdmin, LeadResource
from leads.models import ImportJob, ImportRow, Lead
from leads.tests.factories import AssignmentRuleFactory, LeadFactory, spreadsheet_upload
from notifications.models import Notification

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/leads/lead/import/"
PROCESS_URL = "/admin/leads/lead/process_import/"


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _csv_format() -> str:
    from django.contrib import admin

    formats = admin.site._registry[Lead].get_import_formats()
    return str(next(index for index, fmt in enumerate(formats) if fmt().get_title() == "csv"))


def _dry_run(staff_client, organization, content: str):
    return staff_client.post(
        IMPORT_URL,
        {
            "resource": "0",
            "format": _csv_format(),
            "organization": organization.pk,
            "import_file": spreadsheet_upload("admin-leads.csv", content),
        },
    )


def test_the_import_form_asks_for_the_organization(staff_client, user):
    response = staff_client.get(IMPORT_URL)

    assert response.status_code == 200
    assert 'name="organization"' in response.content.decode()


def test_staff_import_leads_into_an_organization_skipping_duplicates(staff_client, staff_user, user):
    # given an organization with a lead already, and a rule dealing new leads to a rep
    existing = LeadFactory(organization=user.organization, email="known@example.com")
    rep = UserFactory(organization=user.organization, role="sales_rep")
    AssignmentRuleFactory(organization=user.organization, members=[rep])
    content = (
        "first_name,last_name,email,phone,company\n"
        "Ada,Lovelace,ADA@example.com ,,Engines\n"
        "Known,Lead,known@example.com,,X\n"
        "Ada,Again,ada@example.com,,Engines\n"
        "Mary,Major,,(415) 555-0132,Globex\n"
    )

    # when a staff member uploads the file for that organization (a dry run)
    preview = _dry_run(staff_client, user.organization, content)

    # then nothing is saved yet, and the confirmation carries the organization
    assert preview.status_code == 200, preview.content[:2000]
    assert not Lead.objects.filter(source=Lead.Source.IMPORT).exists()
    confirm = preview.context["confirm_form"]
    assert confirm is not None and confirm.initial["organization"] == user.organization.pk

    # when the import is confirmed
    response = staff_client.post(PROCESS_URL, {**confirm.initial, "resource": "0"})

    # then the leads are created in that organization, cleaned, deduplicated and assigned
    assert response.status_code == 302
    imported = Lead.objects.filter(source=Lead.Source.IMPORT).order_by("pk")
    assert [(lead.email, lead.phone) for lead in imported] == [("ADA@example.com", ""), ("", "+14155550132")]
    assert all(lead.organization == user.organization and lead.assigned_to == rep for lead in imported)
    assert all(lead.validation_status == Lead.ValidationStatus.VALID for lead in imported)
    assert Lead.objects.filter(email_key="known@example.com").get() == existing
    assert Notification.objects.get(user=rep).title.startswith("2 new leads from admin-leads.csv")
    event = Event.objects.get(name="leads.admin_import.completed")
    assert event.org_id == user.organization.pk and event.actor == staff_user
    assert (event.data["created"], event.data["duplicates"]) == (2, 2)


def test_a_row_nobody_can_reach_is_reported_and_nothing_is_imported(staff_client, user):
    preview = _dry_run(staff_client, user.organization, "email,first_name\nok@example.com,Ok\nnot-an-email,Bad\n")

    assert preview.status_code == 200
    result = preview.context["result"]
    assert result.has_validation_errors()
    assert "A lead needs a valid email or phone" in preview.content.decode()
    assert preview.context.get("confirm_form") is None
    assert not Lead.objects.exists()


def test_an_id_column_never_reaches_an_existing_lead(user, other_org_user):
    # given another organization's lead, named by id in the file
    theirs = LeadFactory(organization=other_org_user.organization, email="theirs@example.com", first_name="Theirs")
    import tablib

    dataset = tablib.Dataset(headers=["id", "email", "first_name"])
    dataset.append([theirs.pk, "new@example.com", "Changed"])

    # when it is imported into our organization
    result = LeadResource(organization=user.organization).import_data(dataset, dry_run=False)

    # then a new lead of ours is created and theirs is untouched
    assert not result.has_errors() and not result.has_validation_errors()
    theirs.refresh_from_db()
    assert theirs.first_name == "Theirs"
    assert Lead.objects.get(email="new@example.com").organization == user.organization


def test_the_admin_export_neutralises_formulas(user):
    LeadFactory(organization=user.organization, first_name="=HYPERLINK(1)", company="+evil")

    dataset = LeadResource().export(Lead.objects.all())

    row = dict(zip(dataset.headers, dataset[0], strict=True))
    assert row["first_name"] == "'=HYPERLINK(1)" and row["company"] == "'+evil"


def test_leads_are_read_only_in_the_admin(staff_client, user):
    lead = LeadFactory(organization=user.organization)

    assert staff_client.get("/admin/leads/lead/").status_code == 200
    assert staff_client.get(f"/admin/leads/lead/{lead.pk}/change/").status_code == 200
    admin_class = LeadAdmin(Lead, None)
    assert not admin_class.has_delete_permission(None) and not admin_class.has_add_permission(None)


def test_an_import_job_shows_its_first_rows(staff_client, user, settings):
    # given a finished job of 60 rows
    from leads.imports import services

    upload = services.import_upload(
        actor=user,
        kind="leads",
        file=spreadsheet_upload("big.csv", "Email\n" + "".join(f"p{n}@example.com\n" for n in range(60))),
    )
    services.import_confirm(actor=user, kind="leads", job_id=upload.job.pk)

    # when staff open it
    response = staff_client.get(f"/admin/leads/importjob/{upload.job.pk}/change/")

    # then the page lists its first 50 rows, not all of them
    assert response.status_code == 200
    html = response.content.decode()
    assert "p49@example.com" in html and "p50@example.com" not in html
    assert ImportRow.objects.filter(job=upload.job).count() == 60


def test_staff_run_a_failed_import_again_from_the_admin(staff_client, user):
    from leads.imports import services

    upload = services.import_upload(
        actor=user, kind="leads", file=spreadsheet_upload("x.csv", "Email\na@example.com\nb@example.com\n")
    )
    ImportJob.objects.filter(pk=upload.job.pk).update(
        status=ImportJob.Status.FAILED, error="RuntimeError: database went away"
    )

    response = staff_client.post(
        "/admin/leads/importjob/", {"action": "retry", "_selected_action": [upload.job.pk]}, follow=True
    )

    assert response.status_code == 200
    job = ImportJob.objects.get(pk=upload.job.pk)
    assert (job.status, job.created, job.error) == (ImportJob.Status.DONE, 2, "")
    assert Event.objects.filter(name="leads.import.retried").exists()
