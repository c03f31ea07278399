"""Lead exports: exactly the filtered list the user may see, as CSV or XLSX, streamed, with
formula cells neutralised; the export right; the user's format and notes preferences."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from accounts.models import UserPreferences
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads.imports.export import XLSX_TYPE, cell_safe, leads_export_response
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

EXPORT = "/api/leads/export/"
HOSTILE = {
    "first_name": "=1+2",
    "last_name": "+SUM(A1)",
    "company": "-2+3",
    "job_title": "@cmd",
    "industry": "\tTabbed",
    "location": "\rReturn",
}


def _csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def _xlsx_rows(response) -> list[dict]:
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def leads(user):
    rep = UserFactory(organization=user.organization, role="sales_rep", email="rep@example.com")
    return {
        "hot": LeadFactory(
            organization=user.organization, email="hot@example.com", industry="Software", score=90, assigned_to=rep
        ),
        "cold": LeadFactory(organization=user.organization, email="cold@example.com", industry="Retail", score=10),
        "lost": LeadFactory(
            organization=user.organization, email="lost@example.com", industry="Software", status=Lead.Status.LOST
        ),
        "rep": rep,
    }


# --- What is exported ------------------------------------------------------------------------


def test_csv_export_is_exactly_the_filtered_list(auth_client, leads, other_org_user):
    # given leads of the org, a deleted one, vendor inventory and another org's lead
    org = leads["hot"].organization
    LeadFactory(organization=org, email="deleted@example.com", industry="Software").delete()
    LeadFactory(organization=org, email="stock@example.com", industry="Software", is_inventory=True)
    LeadFactory(organization=other_org_user.organization, email="theirs@example.com", industry="Software")

    # when the list filtered by industry and status is exported
    response = auth_client.get(EXPORT, {"format": "csv", "industry": "soft", "status": "new", "ordering": "-score"})

    # then the file holds those leads only, streamed as a CSV attachment
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    rows = _csv_rows(response)
    assert [row["email"] for row in rows] == ["hot@example.com"]
    assert rows[0]["assigned_to"] == "rep@example.com" and rows[0]["score"] == "90"
    assert rows[0]["industry"] == "Software" and rows[0]["status"] == "new"


def test_every_filter_of_the_list_applies(auth_client, leads):
    cases = {
        "score_min=50": {"hot@example.com"},
        "status=lost": {"lost@example.com"},
        f"assigned_to={leads['rep'].pk}": {"hot@example.com"},
        "search=cold": {"cold@example.com"},
        "industry=retail": {"cold@example.com"},
    }
    for query, expected in cases.items():
        rows = _csv_rows(auth_client.get(f"{EXPORT}?format=csv&{query}"))
        assert {row["email"] for row in rows} == expected, query


def test_an_invalid_filter_is_400(auth_client):
    error = assert_error(auth_client.get(EXPORT, {"score_min": "lots"}), 400, "validation_error")
    assert "score_min" in error["details"]


def test_an_unknown_format_is_400(auth_client):
    assert "format" in assert_error(auth_client.get(EXPORT, {"format": "pdf"}), 400, "validation_error")["details"]


def test_xlsx_export_has_the_same_rows(auth_client, leads):
    response = auth_client.get(EXPORT, {"format": "xlsx", "ordering": "score"})

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    rows = _xlsx_rows(response)
    assert [row["email"] for row in rows] == ["lost@example.com", "cold@example.com", "hot@example.com"]
    assert rows[-1]["score"] == 90


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_cells_that_would_run_as_formulas_are_neutralised(auth_client, user, file_format):
    # given a lead whose fields start with what spreadsheets read as formulas
    LeadFactory(organization=user.organization, email="evil@example.com", **HOSTILE)

    # when it is exported
    response = auth_client.get(EXPORT, {"format": file_format})

    # then each such cell starts with a quote; in the workbook every text cell is a string, never a formula
    row = (_csv_rows if file_format == "csv" else _xlsx_rows)(response)[0]
    assert row["first_name"] == "'=1+2"
    assert row["last_name"] == "'+SUM(A1)"
    assert row["company"] == "'-2+3"
    assert row["job_title"] == "'@cmd"
    assert row["industry"] == "'\tTabbed"
    # (an XML reader turns the carriage return into a newline)
    assert row["location"] in ("'\rReturn", "'\nReturn")
    assert row["email"] == "evil@example.com"
    if file_format == "xlsx":
        workbook = load_workbook(io.BytesIO(b"".join(auth_client.get(EXPORT, {"format": "xlsx"}).streaming_content)))
        assert all(cell.data_type != "f" for row in workbook.worksheets[0].iter_rows() for cell in row)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("=A1", "'=A1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("a=b", "a=b"), (12, 12), (None, "")],
)
def test_cell_safe(value, expected):
    assert cell_safe(value) == expected


def test_the_format_and_notes_default_to_the_users_preferences(auth_client, user):
    LeadFactory(organization=user.organization, notes="Met at the fair")
    UserPreferences.objects.create(
        user=user, export_format=UserPreferences.ExportFormat.XLSX, export_include_notes=False
    )

    response = auth_client.get(EXPORT)

    assert response["Content-Type"] == XLSX_TYPE
    assert "notes" not in _xlsx_rows(response)[0]
    UserPreferences.objects.filter(user=user).update(export_include_notes=True)
    assert _csv_rows(auth_client.get(EXPORT, {"format": "csv"}))[0]["notes"] == "Met at the fair"


def test_the_export_queries_do_not_grow_with_the_number_of_leads(auth_client, user):
    owner = UserFactory(organization=user.organization)
    LeadFactory(organization=user.organization, assigned_to=owner)
    with CaptureQueriesContext(connection) as few:
        _csv_rows(auth_client.get(EXPORT, {"format": "csv"}))
    for _ in range(20):
        LeadFactory(organization=user.organization, assigned_to=UserFactory(organization=user.organization))
    with CaptureQueriesContext(connection) as many:
        assert len(_csv_rows(auth_client.get(EXPORT, {"format": "csv"}))) == 21

    assert len(many.captured_queries) == len(few.captured_queries)


# --- Who may export ------------------------------------------------------------------------


def test_a_rep_exports_only_their_own_leads(leads):
    rows = _csv_rows(bearer_client(leads["rep"]).get(EXPORT, {"format": "csv"}))
    assert [row["email"] for row in rows] == ["hot@example.com"]


def test_a_manager_exports_every_lead_of_the_org(user, leads):
    manager = UserFactory(organization=user.organization, role="sales_manager")
    rows = _csv_rows(bearer_client(manager).get(EXPORT, {"format": "csv"}))
    assert {row["email"] for row in rows} == {"hot@example.com", "cold@example.com", "lost@example.com"}


def test_without_the_export_right_it_is_403(user, leads):
    client = bearer_client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_export": False}))
    assert_error(client.get(EXPORT, {"format": "csv"}), 403, "permission_denied")


def test_without_the_right_to_view_leads_it_is_403(user):
    client = bearer_client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_view_leads": False}))
    assert_error(client.get(EXPORT, {"format": "xlsx"}), 403, "permission_denied")


def test_another_organization_exports_none_of_ours(leads, other_org_user):
    assert _csv_rows(bearer_client(other_org_user).get(EXPORT, {"format": "csv"})) == []


def test_the_export_of_a_selection_needs_the_export_right(user, leads):
    # given a selection (as the list's bulk action hands it over)
    selection = Lead.objects.filter(pk__in=[leads["hot"].pk, leads["cold"].pk])
    clerk = SubUserFactory(parent=user, role="sales_manager", permissions={"can_export": False})

    # then it exports for someone with the right, not for someone without
    response = leads_export_response(user=user, queryset=selection, format="csv")
    assert {row["email"] for row in _csv_rows(response)} == {"hot@example.com", "cold@example.com"}
    with pytest.raises(Exception, match="permission to export"):
        leads_export_response(user=clerk, queryset=selection, format="csv")


# --- The page ----------------------------------------------------------------------------------


def test_the_export_page_takes_the_list_pages_parameters(client, user, leads):
    client.login(email=user.email, password=PASSWORD)

    response = client.get("/leads/export/", {"format": "csv", "industry": "retail"})

    assert response.status_code == 200
    assert [row["email"] for row in _csv_rows(response)] == ["cold@example.com"]


def test_the_export_page_needs_a_signed_in_user_with_the_right(client, user):
    assert client.get("/leads/export/").status_code == 302
    clerk = SubUserFactory(parent=user, role="sales_manager", permissions={"can_export": False})
    client.login(email=clerk.email, password=PASSWORD)
    assert client.get("/leads/export/").status_code == 403
