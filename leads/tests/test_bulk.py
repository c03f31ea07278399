"""`POST /api/leads/bulk/`: one action on many leads, each through the same service as a
single change, with what could not be done reported per lead; and the lead-writes quota."""

import pytest

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

BULK = "/api/leads/bulk/"


def _bulk(client, **body):
    return client.post(BULK, body, format="json")


def test_bulk_assign_assigns_each_lead_and_records_each_move(auth_client, user):
    # given two leads and a rep
    rep = UserFactory(organization=user.organization, role="sales_rep")
    leads = LeadFactory.create_batch(2, organization=user.organization)
    ids = [lead.pk for lead in leads]

    # when both are assigned to the rep
    response = _bulk(auth_client, ids=ids, action="assign", value=rep.pk)

    # then both changed, each with its own event, and the rep is told
    assert response.status_code == 200
    assert response.json() == {"done": ids, "skipped": {}}
    assert set(Lead.objects.values_list("assigned_to", flat=True)) == {rep.pk}
    assert Event.objects.filter(name="leads.lead.assigned").count() == 2
    assert rep.notifications.count() == 2


def test_bulk_assign_with_null_unassigns(auth_client, user):
    leads = LeadFactory.create_batch(2, organization=user.organization, assigned_to=user)
    body = _bulk(auth_client, ids=[lead.pk for lead in leads], action="assign", value=None).json()
    assert len(body["done"]) == 2 and not Lead.objects.filter(assigned_to__isnull=False).exists()


def test_bulk_assign_to_someone_outside_the_org_is_refused_whole(auth_client, user, other_org_user):
    lead = LeadFactory(organization=user.organization)
    for value in (other_org_user.pk, 2**70, "someone", True):
        error = assert_error(_bulk(auth_client, ids=[lead.pk], action="assign", value=value), 400, "validation_error")
        assert "value" in error["details"]
    assert Lead.objects.get(pk=lead.pk).assigned_to is None


def test_bulk_assign_to_a_deactivated_member_is_refused_whole(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    gone = UserFactory(organization=user.organization, is_active=False)
    assert_error(_bulk(auth_client, ids=[lead.pk], action="assign", value=gone.pk), 400, "validation_error")


def test_bulk_delete_soft_deletes_the_selection(auth_client, user):
    keep = LeadFactory(organization=user.organization)
    leads = LeadFactory.create_batch(3, organization=user.organization)
    ids = [lead.pk for lead in leads]

    assert _bulk(auth_client, ids=ids, action="delete").json() == {"done": ids, "skipped": {}}

    assert [row["id"] for row in auth_client.get("/api/leads/").json()["results"]] == [keep.pk]
    assert auth_client.get("/api/leads/", {"deleted": "true"}).json()["count"] == 3


def test_bulk_ignores_repeated_ids_and_reports_unknown_ones(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    body = _bulk(auth_client, ids=[lead.pk, lead.pk, 999999], action="set_status", value="contacted").json()
    assert body == {"done": [lead.pk], "skipped": {"999999": "Not found."}}
    assert Event.objects.filter(name="leads.lead.status_changed").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "action": "delete"}, "ids"),
        ({"ids": list(range(1, 1002)), "action": "delete"}, "ids"),
        ({"ids": [0], "action": "delete"}, "ids"),
        ({"ids": [2**70], "action": "delete"}, "ids"),
        ({"ids": [1], "action": "archive"}, "action"),
        ({"ids": [1], "action": "set_status"}, "value"),
        ({"ids": [1], "action": "set_status", "value": "asleep"}, "value"),
        ({"ids": [1], "action": "export", "value": "pdf"}, "value"),
        ({"action": "delete"}, "ids"),
    ],
)
def test_bulk_checks_the_shape_of_the_request(auth_client, body, field):
    error = assert_error(auth_client.post(BULK, body, format="json"), 400, "validation_error")
    assert field in error["details"]


def test_bulk_needs_can_edit_leads(user):
    lead = LeadFactory(organization=user.organization)
    client = bearer_client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False}))
    for action, value in (("delete", None), ("set_status", "contacted"), ("assign", user.pk)):
        assert_error(_bulk(client, ids=[lead.pk], action=action, value=value), 403, "permission_denied")
    lead.refresh_from_db()
    assert lead.deleted_at is None and lead.status == "new" and lead.assigned_to is None


def test_bulk_needs_authentication(api_client):
    assert_error(api_client.post(BULK, {"ids": [1], "action": "delete"}, format="json"), 401, "not_authenticated")


def test_lead_writes_count_against_the_hourly_quota(auth_client, user, settings):
    # given a quota of three lead writes
    settings.QUOTAS = {**settings.QUOTAS, "lead_writes": "3/hour"}
    lead = LeadFactory(organization=user.organization)

    # when a create, an edit and a bulk action use it up
    assert auth_client.post("/api/leads/", {"email": "q@example.com"}, format="json").status_code == 201
    assert auth_client.patch(f"/api/leads/{lead.pk}/", {"industry": "Retail"}, format="json").status_code == 200
    assert _bulk(auth_client, ids=[lead.pk], action="set_status", value="contacted").status_code == 200

    # then the next write is refused with Retry-After, while reading still works
    response = auth_client.delete(f"/api/leads/{lead.pk}/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert auth_client.get("/api/leads/").status_code == 200
    assert Lead.objects.get(pk=lead.pk).deleted_at is None


# --- Export of a selection ------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_bulk_export_answers_the_file_of_the_selected_leads_in_sight(user, other_org_user):
    # given a rep with two leads, a colleague's lead and another organization's lead
    rep = UserFactory(organization=user.organization, role="sales_rep")
    mine = LeadFactory(organization=user.organization, assigned_to=rep, email="mine@example.com")
    LeadFactory(organization=user.organization, assigned_to=rep, email="unselected@example.com")
    colleagues = LeadFactory(organization=user.organization, assigned_to=user, email="colleague@example.com")
    theirs = LeadFactory(organization=other_org_user.organization, email="theirs@example.com")

    # when the rep exports a selection naming all but one of them
    response = _bulk(bearer_client(rep), ids=[mine.pk, colleagues.pk, theirs.pk], action="export", value="csv")

    # then the CSV holds only the selected lead the rep may see
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    email = rows[0].index("email")
    assert [row[email] for row in rows[1:]] == ["mine@example.com"]


def test_bulk_export_as_xlsx(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    response = _bulk(auth_client, ids=[lead.pk], action="export", value="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert b"".join(response.streaming_content)[:2] == b"PK"


def test_bulk_export_needs_can_export(user):
    lead = LeadFactory(organization=user.organization)
    client = bearer_client(SubUserFactory(parent=user, role="sales_manager", permissions={"can_export": False}))
    assert_error(_bulk(client, ids=[lead.pk], action="export"), 403, "permission_denied")


def test_bulk_export_from_the_list_page(user):
    from django.test import Client

    lead = LeadFactory(organization=user.organization, email="page@example.com")
    LeadFactory(organization=user.organization, email="other@example.com")
    client = Client()
    client.force_login(user)

    response = client.post("/leads/bulk/", {"ids": [lead.pk], "action": "export"})

    rows = _csv_rows(response)
    assert [row[rows[0].index("email")] for row in rows[1:]] == ["page@example.com"]
