"""The CRM API: who sees which contacts, opportunities and activities (the visibility matrix),
who may change them, the conversion payload of DESIGN §5, the board and the forecast, my
tasks, the error codes, and list query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from crm.models import Opportunity
from crm.tests.factories import ActivityFactory, ContactFactory, OpportunityFactory
from leadnexus.core.testing import assert_error
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

FACTORIES = {
    "contacts": ContactFactory,
    "opportunities": OpportunityFactory,
    "activities": ActivityFactory,
}


def _ids(client, resource) -> set[int]:
    response = client.get(f"/api/{resource}/")
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("resource", list(FACTORIES))
def test_the_visibility_matrix(resource, manager, rep):
    factory = FACTORIES[resource]
    managers = factory(created_by=manager)
    reps = factory(created_by=rep)
    assigned_to_rep = factory(created_by=manager, assigned_to=rep)
    stranger = factory(created_by=UserFactory())
    widened = SubUserFactory(parent=manager, role="sales_rep", permissions={"can_view_all_org_leads": True})
    blind = SubUserFactory(parent=manager, permissions={"can_view_leads": False})

    assert _ids(bearer_client(manager), resource) == {managers.pk, reps.pk, assigned_to_rep.pk}
    assert _ids(bearer_client(rep), resource) == {reps.pk, assigned_to_rep.pk}
    assert _ids(bearer_client(widened), resource) == {managers.pk, reps.pk, assigned_to_rep.pk}
    assert_error(bearer_client(blind).get(f"/api/{resource}/"), 403, "permission_denied")
    assert_error(bearer_client(rep).get(f"/api/{resource}/{managers.pk}/"), 404, "not_found")
    assert_error(bearer_client(manager).get(f"/api/{resource}/{stranger.pk}/"), 404, "not_found")
    assert_error(APIClient().get(f"/api/{resource}/"), 401, "not_authenticated")


@pytest.mark.parametrize("resource", list(FACTORIES))
def test_lists_cost_the_same_queries_for_one_or_many(resource, manager):
    client = bearer_client(manager)
    FACTORIES[resource](created_by=manager)
    with CaptureQueriesContext(connection) as one:
        client.get(f"/api/{resource}/")
    for _ in range(5):
        FACTORIES[resource](created_by=manager)

    with CaptureQueriesContext(connection) as many:
        assert len(client.get(f"/api/{resource}/").json()["results"]) == 6

    assert len(many) == len(one)


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ("opportunities", "assigned_to"),
        ("opportunities", "contact"),
        ("opportunities", "lead"),
        ("activities", "lead"),
        ("activities", "contact"),
        ("activities", "opportunity"),
    ],
)
def test_ids_out_of_the_database_range_are_validation_errors(resource, field, manager):
    error = assert_error(bearer_client(manager).get(f"/api/{resource}/", {field: 10**20}), 400, "validation_error")
    assert field in error["details"], error


def test_contacts_are_created_edited_deleted_and_restored(manager):
    client = bearer_client(manager)

    made = client.post("/api/contacts/", {"first_name": "Ada", "email": "ada@engines.example"}, format="json")
    again = client.post("/api/contacts/", {"first_name": "Ada", "email": "ada@engines.example"}, format="json")

    assert made.status_code == 201 and made.json()["duplicate_of"] is None
    assert again.json()["duplicate_of"] == made.json()["id"]
    url = f"/api/contacts/{made.json()['id']}/"
    assert client.patch(url, {"position": "CTO"}, format="json").json()["position"] == "CTO"
    assert_error(client.post("/api/contacts/", {"email": "bad"}, format="json"), 400, "validation_error")
    assert client.delete(url).status_code == 204
    assert_error(client.get(url), 404, "not_found")
    assert client.post(f"{url}restore/").status_code == 200
    stranger = UserFactory()
    assert_error(
        client.patch(url, {"assigned_to": stranger.pk}, format="json"), 400, "validation_error"
    )  # another organization's member


def test_converting_through_the_api(manager):
    lead = LeadFactory(organization=manager.organization, first_name="Ada", email="ada@engines.example")
    client = bearer_client(manager)

    response = client.post(
        f"/api/leads/{lead.pk}/convert/",
        {"opportunity": {"title": "Engines rollout", "amount": "5000.00", "expected_close_date": "2027-01-31"}},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"lead", "contact", "contact_created", "opportunity"}
    assert body["lead"]["status"] == "converted" and body["contact"]["email"] == "ada@engines.example"
    assert body["opportunity"]["amount"] == "5000.00" and body["opportunity"]["stage"] == "prospecting"
    assert_error(client.post(f"/api/leads/{lead.pk}/convert/", {}, format="json"), 409, "illegal_transition")
    assert_error(bearer_client(UserFactory()).post(f"/api/leads/{lead.pk}/convert/", {}), 404, "not_found")


def test_moving_and_reopening_through_the_api(manager, rep):
    deal = OpportunityFactory(created_by=rep)
    rep_client, manager_client = bearer_client(rep), bearer_client(manager)
    move = f"/api/opportunities/{deal.pk}/move/"

    assert_error(rep_client.post(move, {"stage": "closed_won"}, format="json"), 400, "validation_error")
    won = rep_client.post(move, {"stage": "closed_won", "amount": "900.00"}, format="json")
    assert won.status_code == 200 and won.json()["stage"] == "closed_won" and won.json()["probability"] == 100
    assert_error(rep_client.post(move, {"stage": "proposal"}, format="json"), 409, "illegal_transition")
    assert_error(rep_client.post(f"/api/opportunities/{deal.pk}/reopen/"), 403, "permission_denied")
    reopened = manager_client.post(f"/api/opportunities/{deal.pk}/reopen/", {"stage": "proposal"}, format="json")
    assert reopened.json()["stage"] == "proposal"


def test_the_board_and_the_forecast_through_the_api(manager):
    OpportunityFactory(created_by=manager, stage="proposal", amount="1000", probability=50)
    OpportunityFactory(
        created_by=manager, amount="400", probability=10, expected_close_date=timezone.localdate() + timedelta(days=1)
    )
    client = bearer_client(manager)

    board = client.get("/api/opportunities/board/").json()
    forecast = client.get("/api/opportunities/forecast/", {"months": 2}).json()

    proposal = next(column for column in board if column["stage"] == "proposal")
    assert (proposal["count"], proposal["total"], proposal["weighted"]) == (1, "1000.00", "500.00")
    assert [column["stage"] for column in board] == list(Opportunity.Stage.values)
    assert len(forecast) == 5 and forecast[-1]["month"] == "undated" and forecast[-1]["count"] == 1
    assert_error(client.get("/api/opportunities/forecast/", {"months": "x"}), 400, "validation_error")


def test_my_tasks_by_due(manager, rep):
    now = timezone.now()
    overdue = ActivityFactory(created_by=rep, due_at=now - timedelta(hours=2))
    upcoming = ActivityFactory(created_by=rep, due_at=now + timedelta(days=3))
    ActivityFactory(created_by=rep, due_at=now - timedelta(hours=1), done_at=now)  # done
    ActivityFactory(created_by=manager, assigned_to=manager, due_at=now - timedelta(hours=1))  # not mine
    client = bearer_client(rep)

    def due(when):
        return [row["id"] for row in client.get("/api/activities/", {"mine": "true", "due": when}).json()["results"]]

    assert due("overdue") == [overdue.pk]
    assert due("upcoming") == [upcoming.pk]
    done = client.patch(f"/api/activities/{overdue.pk}/", {"done": True}, format="json").json()
    assert done["done"] is True and due("overdue") == []
    snoozed = client.patch(
        f"/api/activities/{upcoming.pk}/", {"due_at": (now + timedelta(days=7)).isoformat()}, format="json"
    )
    assert snoozed.status_code == 200


def test_an_activity_on_a_lead_through_the_api(manager):
    lead = LeadFactory(organization=manager.organization)
    client = bearer_client(manager)

    made = client.post("/api/activities/", {"kind": "call", "subject": "Intro", "lead_id": lead.pk}, format="json")

    assert made.status_code == 201 and made.json()["lead"] == lead.pk
    assert_error(
        client.post("/api/activities/", {"kind": "call", "subject": "Intro"}, format="json"), 400, "validation_error"
    )
