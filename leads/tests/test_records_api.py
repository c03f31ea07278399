"""Lead records through the API: create, read, edit, soft delete and restore, the timeline,
and the list's query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/leads/"

LEAD_KEYS = {
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "industry",
    "location",
    "website",
    "employee_count",
    "annual_revenue",
    "customer_category",
    "source",
    "status",
    "score",
    "score_breakdown",
    "validation_status",
    "validation_reasons",
    "assigned_to",
    "created_at",
    "updated_at",
}


def _lead_url(lead) -> str:
    return f"{LEADS}{lead.pk}/"


# --- Create ----------------------------------------------------------------------------------


def test_create_answers_the_lead_cleaned_with_source_api(auth_client, user):
    # given a lead typed with messy spacing, a local phone and a bare website
    body = {
        "first_name": "  Ada ",
        "last_name": "Lovelace",
        "email": "Ada.Lovelace@Example.COM",
        "phone": "(415) 555-2671",
        "company": "Analytical Engines",
        "website": "Example.com/",
        "employee_count": 120,
        "annual_revenue": "2500000.50",
        "customer_category": "mid_market",
    }

    # when it is posted
    response = auth_client.post(LEADS, body, format="json")

    # then the lead is created for the caller's organization, cleaned, from the API
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) >= LEAD_KEYS
    assert data["first_name"] == "Ada"
    assert data["email"] == "Ada.Lovelace@example.com"
    assert data["phone"] == "+14155552671"
    assert data["website"] == "https://example.com"
    assert data["annual_revenue"] == "2500000.50"
    assert data["source"] == "api" and data["status"] == "new"
    assert data["validation_status"] == "valid" and data["duplicate_of"] is None
    lead = Lead.objects.get(pk=data["id"])
    assert lead.organization_id == user.organization_id and lead.created_by == user
    assert Event.objects.filter(name="leads.lead.created", subject_type="leads.lead", subject_id=str(lead.pk)).exists()


def test_create_reports_a_duplicate_of_an_existing_lead(auth_client, user):
    # given a lead with a Gmail address
    existing = LeadFactory(organization=user.organization, email="jane.doe@gmail.com")

    # when the same mailbox is posted with dots and a +tag
    response = auth_client.post(LEADS, {"first_name": "Jane", "email": "janedoe+news@gmail.com"}, format="json")

    # then it is created, and the answer says which lead it duplicates
    assert response.status_code == 201
    assert response.json()["duplicate_of"] == {"id": existing.pk, "certain": True, "on": "email", "deleted": False}


def test_create_reports_a_deleted_duplicate_so_it_can_be_restored(auth_client, user):
    existing = LeadFactory(organization=user.organization, email="gone@example.com", deleted_at=timezone.now())

    duplicate_of = auth_client.post(LEADS, {"email": "gone@example.com"}, format="json").json()["duplicate_of"]

    assert duplicate_of == {"id": existing.pk, "certain": True, "on": "email", "deleted": True}


def test_create_refuses_an_unreachable_lead_with_details(auth_client):
    # given neither a valid email nor a valid phone
    response = auth_client.post(LEADS, {"first_name": "No", "email": "not-an-email", "phone": "12"}, format="json")

    # then nothing is created and the fields are named
    error = assert_error(response, 400, "validation_error")
    assert "email" in error["details"] and "phone" in error["details"]
    assert not Lead.objects.exists()


def test_create_refuses_an_empty_lead(auth_client):
    error = assert_error(auth_client.post(LEADS, {}, format="json"), 400, "validation_error")
    assert error["details"]["email"]


def test_create_checks_the_shape_of_fields(auth_client):
    response = auth_client.post(
        LEADS,
        {"email": "a@example.com", "employee_count": -1, "customer_category": "galactic", "first_name": "x" * 101},
        format="json",
    )
    error = assert_error(response, 400, "validation_error")
    assert {"employee_count", "customer_category", "first_name"} <= set(error["details"])


def test_create_assigns_to_a_member_named_and_refuses_another_orgs(auth_client, user, other_org_user):
    # given a colleague and someone from another organization
    rep = UserFactory(organization=user.organization, role="sales_rep")

    # when a lead is assigned to each
    mine = auth_client.post(LEADS, {"email": "a@example.com", "assigned_to": rep.pk}, format="json")
    theirs = auth_client.post(LEADS, {"email": "b@example.com", "assigned_to": other_org_user.pk}, format="json")

    # then the colleague gets it and the outsider is not found
    assert mine.status_code == 201 and mine.json()["assigned_to"] == rep.pk
    error = assert_error(theirs, 400, "validation_error")
    assert "assigned_to" in error["details"]


def test_create_needs_can_add_leads(user):
    sub = SubUserFactory(parent=user, role="sales_manager", permissions={"can_add_leads": False})
    assert_error(bearer_client(sub).post(LEADS, {"email": "a@example.com"}, format="json"), 403, "permission_denied")


def test_leads_need_authentication(api_client, user):
    lead = LeadFactory(organization=user.organization)
    assert_error(api_client.get(LEADS), 401, "not_authenticated")
    assert_error(api_client.post(LEADS, {"email": "a@example.com"}, format="json"), 401, "not_authenticated")
    assert_error(api_client.get(_lead_url(lead)), 401, "not_authenticated")
    assert_error(api_client.patch(_lead_url(lead), {}, format="json"), 401, "not_authenticated")
    assert_error(api_client.delete(_lead_url(lead)), 401, "not_authenticated")
    assert_error(api_client.get(f"{_lead_url(lead)}timeline/"), 401, "not_authenticated")
    assert_error(api_client.post(f"{_lead_url(lead)}restore/"), 401, "not_authenticated")


# --- Read and edit ----------------------------------------------------------------------------


def test_retrieve_answers_the_lead(auth_client, user):
    lead = LeadFactory(organization=user.organization, email="one@example.com")
    data = auth_client.get(_lead_url(lead)).json()
    assert data["id"] == lead.pk and data["email"] == "one@example.com"
    assert set(data) >= LEAD_KEYS


def test_an_id_past_the_database_range_is_not_found(auth_client):
    assert_error(auth_client.get(f"{LEADS}{2**70}/"), 404, "not_found")
    assert_error(auth_client.patch(f"{LEADS}{2**70}/", {"status": "lost"}, format="json"), 404, "not_found")
    assert_error(auth_client.get(f"{LEADS}0/"), 404, "not_found")


def test_patch_edits_fields_and_records_the_key_field_changes(auth_client, user):
    # given a lead
    lead = LeadFactory(organization=user.organization, company="Old Co", email="ann@example.com")

    # when its company and industry change
    response = auth_client.patch(_lead_url(lead), {"company": "New Co", "industry": "Retail"}, format="json")

    # then the lead changes and the event names who, what and from → to
    assert response.status_code == 200
    assert response.json()["company"] == "New Co" and response.json()["industry"] == "Retail"
    event = Event.objects.get(name="leads.lead.updated", subject_type="leads.lead", subject_id=str(lead.pk))
    assert event.actor == user
    assert event.data["changes"] == {"company": ["Old Co", "New Co"]}
    assert event.data["fields"] == ["company", "industry"]


def test_patch_that_makes_a_lead_unreachable_is_refused_with_details(auth_client, user):
    lead = LeadFactory(organization=user.organization, email="ann@example.com", phone="")

    error = assert_error(auth_client.patch(_lead_url(lead), {"email": ""}, format="json"), 400, "validation_error")

    assert error["details"]["email"]
    lead.refresh_from_db()
    assert lead.email == "ann@example.com"


def test_patch_status_moves_the_workflow(auth_client, user):
    lead = LeadFactory(organization=user.organization)

    response = auth_client.patch(_lead_url(lead), {"status": "contacted"}, format="json")

    assert response.status_code == 200 and response.json()["status"] == "contacted"
    event = Event.objects.get(name="leads.lead.status_changed", subject_type="leads.lead", subject_id=str(lead.pk))
    assert event.data == {"from": "new", "to": "contacted"} and event.actor == user


def test_patch_assigns_and_unassigns(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    rep = UserFactory(organization=user.organization, role="sales_rep")

    assert auth_client.patch(_lead_url(lead), {"assigned_to": rep.pk}, format="json").json()["assigned_to"] == rep.pk
    assert auth_client.patch(_lead_url(lead), {"assigned_to": None}, format="json").json()["assigned_to"] is None

    moves = Event.objects.filter(
        name="leads.lead.assigned", subject_type="leads.lead", subject_id=str(lead.pk)
    ).order_by("pk")
    assert [event.data for event in moves] == [{"from": None, "to": rep.pk}, {"from": rep.pk, "to": None}]


def test_patch_to_a_deactivated_member_is_refused(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    gone = UserFactory(organization=user.organization, is_active=False)
    error = assert_error(
        auth_client.patch(_lead_url(lead), {"assigned_to": gone.pk}, format="json"), 400, "validation_error"
    )
    assert "assigned_to" in error["details"]


def test_patch_is_all_or_nothing(auth_client, user):
    # given a lead that is lost (it can only be reopened as new)
    lead = LeadFactory(organization=user.organization, company="Before", status="lost")

    # when a field edit comes with an illegal move
    response = auth_client.patch(_lead_url(lead), {"company": "After", "status": "qualified"}, format="json")

    # then nothing changed
    assert_error(response, 409, "illegal_transition")
    lead.refresh_from_db()
    assert lead.company == "Before" and lead.status == "lost"
    assert not Event.objects.filter(subject_type="leads.lead", subject_id=str(lead.pk)).exists()


def test_patch_needs_can_edit_leads(user):
    lead = LeadFactory(organization=user.organization)
    sub = SubUserFactory(parent=user, role="sales_manager", permissions={"can_edit_leads": False})
    client = bearer_client(sub)
    assert client.get(_lead_url(lead)).status_code == 200
    assert_error(client.patch(_lead_url(lead), {"company": "X"}, format="json"), 403, "permission_denied")
    assert_error(client.patch(_lead_url(lead), {"status": "contacted"}, format="json"), 403, "permission_denied")
    assert_error(client.delete(_lead_url(lead)), 403, "permission_denied")


# --- Delete, restore, recently deleted ---------------------------------------------------------


def test_delete_is_soft_and_restore_brings_it_back(auth_client, user):
    # given a lead
    lead = LeadFactory(organization=user.organization)

    # when it is deleted
    assert auth_client.delete(_lead_url(lead)).status_code == 204

    # then it is gone from the list and detail, and listed as recently deleted
    assert auth_client.get(LEADS).json()["count"] == 0
    assert_error(auth_client.get(_lead_url(lead)), 404, "not_found")
    deleted = auth_client.get(LEADS, {"deleted": "true"}).json()["results"]
    assert [row["id"] for row in deleted] == [lead.pk] and deleted[0]["deleted_at"]
    assert Lead.objects.filter(pk=lead.pk).exists()

    # when it is restored
    response = auth_client.post(f"{_lead_url(lead)}restore/")

    # then it is back
    assert response.status_code == 200 and response.json()["deleted_at"] is None
    assert auth_client.get(LEADS).json()["count"] == 1
    assert auth_client.get(LEADS, {"deleted": "true"}).json()["count"] == 0
    names = list(
        Event.objects.filter(subject_type="leads.lead", subject_id=str(lead.pk))
        .order_by("pk")
        .values_list("name", flat=True)
    )
    assert names == ["leads.lead.deleted", "leads.lead.restored"]


def test_restore_after_the_window_is_not_found(auth_client, user):
    lead = LeadFactory(organization=user.organization, deleted_at=timezone.now() - timedelta(days=31))
    assert_error(auth_client.post(f"{_lead_url(lead)}restore/"), 404, "not_found")
    assert auth_client.get(LEADS, {"deleted": "true"}).json()["count"] == 0


def test_restore_of_a_live_lead_is_not_found(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    assert_error(auth_client.post(f"{_lead_url(lead)}restore/"), 404, "not_found")


def test_deleted_flag_must_be_a_boolean(auth_client):
    error = assert_error(auth_client.get(LEADS, {"deleted": "maybe"}), 400, "validation_error")
    assert "deleted" in error["details"]


# --- Timeline ---------------------------------------------------------------------------------


def test_timeline_lists_the_changes_newest_first_with_summaries(auth_client, user):
    # given a lead created, edited, moved and assigned through the API
    rep = UserFactory(organization=user.organization, role="sales_rep", full_name="Rita Rep")
    lead_id = auth_client.post(LEADS, {"email": "t@example.com", "company": "Acme"}, format="json").json()["id"]
    url = f"{LEADS}{lead_id}/"
    auth_client.patch(url, {"company": "Acme Two"}, format="json")
    auth_client.patch(url, {"status": "contacted"}, format="json")
    auth_client.patch(url, {"assigned_to": rep.pk}, format="json")

    # when its timeline is read
    response = auth_client.get(f"{url}timeline/")

    # then each change is there, newest first, with who did it and a readable line
    assert response.status_code == 200
    # (scoring after create and edit adds its own entries)
    entries = [entry for entry in response.json()["results"] if entry["name"] != "leads.lead.scored"]
    assert [entry["name"] for entry in entries] == [
        "leads.lead.assigned",
        "leads.lead.status_changed",
        "leads.lead.updated",
        "leads.lead.created",
    ]
    assert [entry["summary"] for entry in entries[:3]] == [
        "Owner: nobody → Rita Rep",
        "Status: New → Contacted",
        "Company: Acme → Acme Two",
    ]
    assert entries[3]["summary"] == "Created (source: API)"
    assert entries[0]["actor"] == {"id": user.pk, "full_name": user.full_name}
    assert entries[0]["data"] == {"from": None, "to": rep.pk} and entries[0]["lead_id"] == lead_id
    assert entries[0]["at"]


def test_timeline_query_count_does_not_grow_with_events(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    reps = [UserFactory(organization=user.organization, role="sales_rep") for _ in range(3)]
    url = f"{_lead_url(lead)}timeline/"
    auth_client.patch(_lead_url(lead), {"assigned_to": reps[0].pk}, format="json")
    with CaptureQueriesContext(connection) as few:
        assert auth_client.get(url).status_code == 200
    for rep in reps[1:]:
        auth_client.patch(_lead_url(lead), {"assigned_to": rep.pk}, format="json")
    auth_client.patch(_lead_url(lead), {"status": "contacted"}, format="json")
    with CaptureQueriesContext(connection) as many:
        assert auth_client.get(url).json()["count"] == 4
    assert len(many) == len(few)


# --- The list ---------------------------------------------------------------------------------


def test_list_answers_the_page_envelope_by_the_users_page_size(auth_client, user):
    from accounts.models import UserPreferences

    UserPreferences.objects.create(user=user, items_per_page=10)
    LeadFactory.create_batch(12, organization=user.organization, assigned_to=user)

    data = auth_client.get(LEADS).json()

    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 12 and len(data["results"]) == 10 and data["next"]
    assert len(auth_client.get(LEADS, {"page_size": 5}).json()["results"]) == 5


def test_list_query_count_does_not_grow_with_the_page_size(auth_client, user):
    # given 10 leads, each assigned to someone
    reps = [UserFactory(organization=user.organization, role="sales_rep") for _ in range(5)]
    for n in range(10):
        LeadFactory(organization=user.organization, assigned_to=reps[n % 5])
    with CaptureQueriesContext(connection) as few:
        assert len(auth_client.get(LEADS, {"page_size": 10}).json()["results"]) == 10

    # when there are 100 and a page shows all of them
    for n in range(90):
        LeadFactory(organization=user.organization, assigned_to=reps[n % 5])
    with CaptureQueriesContext(connection) as many:
        assert len(auth_client.get(LEADS, {"page_size": 100}).json()["results"]) == 100

    # then it costs the same queries
    assert len(many) == len(few)


def test_list_leaves_vendor_inventory_out(auth_client, user):
    LeadFactory(organization=user.organization, email="crm@example.com")
    LeadFactory(organization=user.organization, email="stock@example.com", is_inventory=True, source="listing")
    emails = [row["email"] for row in auth_client.get(LEADS).json()["results"]]
    assert emails == ["crm@example.com"]


# --- The documented contract --------------------------------------------------------------------


@pytest.fixture
def api_schema(settings):
    """The OpenAPI schema, called through the real WSGI handler (as the fuzz folder does)."""
    import schemathesis
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "testserver"]
    # The handler's request signals would close the connection holding the test transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def test_success_answers_conform_to_the_documented_schema(api_schema, user):
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    from accounts.tests.factories import bearer_token

    # given a lead with every kind of value, some history and a duplicate
    rep = UserFactory(organization=user.organization, role="sales_rep")
    lead = LeadFactory(
        organization=user.organization,
        assigned_to=rep,
        email="full@example.com",
        phone="+14155552671",
        employee_count=40,
        annual_revenue="1000.00",
        score=55,
        score_breakdown=[{"factor": "completeness", "points": 20, "max": 25, "why": "Most fields."}],
    )
    headers = {"Authorization": f"Bearer {bearer_token(user)}"}
    checks = [response_schema_conformance, content_type_conformance]

    def call(path, method, expected, **parts):
        if "body" in parts:
            parts["media_type"] = "application/json"
        case = api_schema[path][method].Case(**parts)
        response = case.call(headers=headers)
        case.validate_response(response, checks=checks, headers=headers)
        assert response.status_code == expected, response.content[:300]
        return response

    one = {"path_parameters": {"id": lead.pk}}
    created = call("/api/leads/", "POST", 201, body={"email": "FULL@example.com", "assigned_to": rep.pk}).json()
    assert created["duplicate_of"]["id"] == lead.pk
    call("/api/leads/", "GET", 200, query={"status": ["new"], "ordering": "-score"})
    call("/api/leads/{id}/", "GET", 200, **one)
    call("/api/leads/{id}/", "PATCH", 200, body={"status": "contacted", "assigned_to": None}, **one)
    call("/api/leads/{id}/timeline/", "GET", 200, **one)
    call("/api/leads/bulk/", "POST", 200, body={"ids": [lead.pk, 999], "action": "set_status", "value": "lost"})
    call("/api/leads/{id}/", "DELETE", 204, **one)
    call("/api/leads/", "GET", 200, query={"deleted": True})
    call("/api/leads/{id}/restore/", "POST", 200, **one)


def test_timeline_summarises_the_other_changes_of_a_lead(auth_client, user):
    from leadnexus.core.events import publish

    # given a lead scored, deleted, restored, and merged with another
    lead = LeadFactory(organization=user.organization)
    publish("leads.lead.scored", org=user.organization_id, subject=lead, data={"from": 0, "to": 64})
    auth_client.delete(_lead_url(lead))
    auth_client.post(f"{_lead_url(lead)}restore/")
    publish(
        "leads.lead.merged",
        actor=user,
        org=user.organization_id,
        subject=lead,
        data={"other_id": 77, "fields": {"company": "other"}, "changes": {"company": ["A", "B"]}},
    )

    # when the timeline is read
    summaries = [entry["summary"] for entry in auth_client.get(f"{_lead_url(lead)}timeline/").json()["results"]]

    # then each reads plainly
    assert summaries == [
        "Merged lead #77 into this one (kept its company)",
        "Restored",
        "Deleted",
        "Score: 0 → 64",
    ]
