"""Contact exports: exactly the filtered list the user may see (a rep: their own), as CSV or
XLSX, in the user's preferred format and with notes as they prefer; a constant number of
queries; who may export, through the API and the page; and an export imports back."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import UserPreferences
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from crm.models import Contact
from crm.tests.factories import ContactFactory
from leadnexus.core.testing import assert_error
from leads.imports import services
from leads.imports.export import XLSX_TYPE
from leads.models import ImportJob
from leads.tests.factories import spreadsheet_upload

pytestmark = pytest.mark.django_db

EXPORT = "/api/contacts/export/"


def _csv_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def _xlsx_rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _emails(rows) -> list[str]:
    return [row["email"] for row in rows]


@pytest.fixture
def contacts(manager, rep):
    """The manager's contacts, the rep's own, a deleted one and another organization's."""

    def contact(by, email, first_name, last_name, company, **more):
        return ContactFactory(
            created_by=by, email=email, first_name=first_name, last_name=last_name, company=company, **more
        )

    return {
        "ada": contact(manager, "ada@example.com", "Ada", "Lovelace", "Engines Ltd", notes="Met at a fair"),
        "bob": contact(manager, "bob@example.com", "Bob", "Stone", "Acme"),
        "rep": contact(rep, "rep@example.com", "Rita", "Moreno", "Acme", position="VP"),
        "deleted": contact(manager, "gone@example.com", "Gus", "Gone", "Acme", deleted_at=timezone.now()),
        "theirs": contact(UserFactory(), "theirs@example.com", "Theo", "Other", "Acme"),
    }


# --- What is exported --------------------------------------------------------------------------


def test_the_csv_export_is_exactly_the_filtered_list(manager, rep, contacts):
    # when the list filtered by company is exported, in the list's order
    response = bearer_client(manager).get(EXPORT, {"format": "csv", "company": "acme", "ordering": "created_at"})

    # then the file holds those contacts only, streamed as a CSV attachment
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    rows = _csv_rows(response)
    assert _emails(rows) == ["bob@example.com", "rep@example.com"]
    assert rows[1]["assigned_to"] == rep.email and rows[1]["position"] == "VP"
    assert rows[1]["id"] == str(contacts["rep"].pk)


def test_every_filter_of_the_list_applies(manager, rep, contacts):
    cases = {
        "search=ada": {"ada@example.com"},
        "company=engines": {"ada@example.com"},
        f"assigned_to={rep.pk}": {"rep@example.com"},
        "": {"ada@example.com", "bob@example.com", "rep@example.com"},
    }
    for query, expected in cases.items():
        rows = _csv_rows(bearer_client(manager).get(f"{EXPORT}?format=csv&{query}"))
        assert set(_emails(rows)) == expected, query


def test_the_xlsx_export_has_the_same_rows(manager, contacts):
    response = bearer_client(manager).get(EXPORT, {"format": "xlsx", "ordering": "-created_at"})

    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert _emails(_xlsx_rows(response)) == ["rep@example.com", "bob@example.com", "ada@example.com"]


def test_a_rep_exports_only_their_own_contacts(rep, contacts):
    assert _emails(_csv_rows(bearer_client(rep).get(EXPORT, {"format": "csv"}))) == ["rep@example.com"]


def test_cells_that_would_run_as_formulas_are_neutralised(manager):
    ContactFactory(created_by=manager, company="=cmd|' /C calc'!A0", position="+SUM(A1)")

    row = _csv_rows(bearer_client(manager).get(EXPORT, {"format": "csv"}))[0]

    assert (row["company"], row["position"]) == ("'=cmd|' /C calc'!A0", "'+SUM(A1)")


def test_the_format_and_notes_follow_the_users_preferences(manager, contacts):
    UserPreferences.objects.create(
        user=manager, export_format=UserPreferences.ExportFormat.XLSX, export_include_notes=False
    )
    client = bearer_client(manager)

    response = client.get(EXPORT, {"search": "ada"})

    assert response["Content-Type"] == XLSX_TYPE
    assert "notes" not in _xlsx_rows(response)[0]
    UserPreferences.objects.filter(user=manager).update(export_include_notes=True)
    assert _csv_rows(client.get(EXPORT, {"format": "csv", "search": "ada"}))[0]["notes"] == "Met at a fair"


def test_an_invalid_filter_or_format_is_400(manager):
    client = bearer_client(manager)
    assert "assigned_to" in assert_error(client.get(EXPORT, {"assigned_to": "me"}), 400, "validation_error")["details"]
    assert "format" in assert_error(client.get(EXPORT, {"format": "pdf"}), 400, "validation_error")["details"]


def test_the_export_queries_do_not_grow_with_the_number_of_contacts(manager, django_assert_max_num_queries):
    client = bearer_client(manager)
    ContactFactory(created_by=manager, assigned_to=UserFactory(organization=manager.organization))
    with CaptureQueriesContext(connection) as few:
        _csv_rows(client.get(EXPORT, {"format": "csv"}))
    for _ in range(20):
        ContactFactory(created_by=manager, assigned_to=UserFactory(organization=manager.organization))

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(_csv_rows(client.get(EXPORT, {"format": "csv"}))) == 21


# --- Who may export ----------------------------------------------------------------------------


def test_who_may_export_through_the_api(manager, contacts, api_client):
    assert_error(api_client.get(EXPORT, {"format": "csv"}), 401, "not_authenticated")
    no_export = SubUserFactory(parent=manager, role="sales_manager", permissions={"can_export": False})
    assert_error(bearer_client(no_export).get(EXPORT, {"format": "csv"}), 403, "permission_denied")
    no_view = SubUserFactory(parent=manager, role="sales_manager", permissions={"can_view_leads": False})
    assert_error(bearer_client(no_view).get(EXPORT, {"format": "csv"}), 403, "permission_denied")
    # another organization's member exports only their own organization's contacts
    assert _emails(_csv_rows(bearer_client(contacts["theirs"].created_by).get(EXPORT, {"format": "csv"}))) == [
        "theirs@example.com"
    ]


def test_the_export_page_takes_the_list_pages_parameters_and_needs_the_right(client, manager, contacts):
    assert client.get("/crm/contacts/export/").status_code == 302

    client.login(email=manager.email, password=PASSWORD)
    response = client.get("/crm/contacts/export/", {"format": "csv", "search": "bob"})
    assert _emails(_csv_rows(response)) == ["bob@example.com"]

    clerk = SubUserFactory(parent=manager, role="sales_manager", permissions={"can_export": False})
    client.login(email=clerk.email, password=PASSWORD)
    assert client.get("/crm/contacts/export/").status_code == 403


# --- Round trip --------------------------------------------------------------------------------


def test_an_exported_file_imports_back_into_another_organization(manager, contacts):
    # given the manager's contacts exported as a workbook
    body = b"".join(bearer_client(manager).get(EXPORT, {"format": "xlsx"}).streaming_content)
    other = UserFactory()

    # when another organization imports that file with the guessed mapping
    upload = services.import_upload(
        actor=other, kind=ImportJob.Kind.CONTACTS, file=spreadsheet_upload("contacts.xlsx", body)
    )
    services.import_confirm(actor=other, kind=ImportJob.Kind.CONTACTS, job_id=upload.job.pk)

    # then it has the same people, its own
    assert ImportJob.objects.get(pk=upload.job.pk).created == 3
    imported = Contact.objects.filter(organization=other.organization)
    expected = Contact.objects.filter(organization=manager.organization, deleted_at__isnull=True)
    fields = ("first_name", "last_name", "email", "company", "position")
    assert set(imported.values_list(*fields)) == set(expected.values_list(*fields))
    assert set(imported.values_list("assigned_to", flat=True)) == {other.pk}
