"""The campaigns API: who may do what on each endpoint (managers and management write and send,
everyone who may view leads reads, another organization's campaign is 404, anonymous 401),
the payloads of stats, preview and test, the recipients a rep sees, and list query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from crm.models import Campaign
from crm.services.campaigns import campaign_pause, campaign_schedule
from crm.tests.campaign_support import STEP, campaign_make, leads_make
from leadnexus.core.testing import assert_error
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

BODY = {"name": "Launch", "audience_kind": "leads", "audience_filter": {}, "steps": [STEP]}
READ, WRITE = "read", "write"
# (method, path, body, the campaign's state first, success status, who may)
ENDPOINTS = [
    ("get", "/api/campaigns/", None, "draft", 200, READ),
    ("get", "/api/campaigns/{id}/", None, "draft", 200, READ),
    ("post", "/api/campaigns/", BODY, None, 201, WRITE),
    ("patch", "/api/campaigns/{id}/", {"name": "Renamed"}, "draft", 200, WRITE),
    ("delete", "/api/campaigns/{id}/", None, "draft", 204, WRITE),
    ("post", "/api/campaigns/{id}/schedule/", {"send_at": None}, "draft", 200, WRITE),
    ("post", "/api/campaigns/{id}/pause/", None, "sending", 200, WRITE),
    ("post", "/api/campaigns/{id}/resume/", None, "paused", 200, WRITE),
    ("post", "/api/campaigns/{id}/cancel/", None, "draft", 200, WRITE),
    ("post", "/api/campaigns/{id}/test/", {}, "draft", 202, WRITE),
    ("get", "/api/campaigns/{id}/preview/", None, "draft", 200, READ),
    ("get", "/api/campaigns/{id}/stats/", None, "sending", 200, READ),
    ("get", "/api/campaigns/{id}/recipients/", None, "sending", 200, READ),
]


@pytest.fixture
def people(manager, rep):
    """Everyone of the matrix, by the name its expectations use."""
    return {
        "management": manager,
        "sales_manager": UserFactory(organization=manager.organization, role="sales_manager"),
        "rep": rep,
        "read_only_manager": SubUserFactory(
            parent=manager, role="sales_manager", permissions={"can_edit_leads": False}
        ),
        "without_can_view_leads": SubUserFactory(parent=manager, permissions={"can_view_leads": False}),
        "other_organization": UserFactory(),
    }


def _campaign(manager, state: str | None, settings) -> Campaign | None:
    """A campaign of the manager's organization in `state` (sending: held by the daily cap)."""
    if state is None:
        return None
    campaign = campaign_make(manager)
    if state in ("sending", "paused"):
        settings.CAMPAIGN_DAILY_CAP = 1
        campaign = campaign_schedule(actor=manager, campaign_id=campaign.pk)
    if state == "paused":
        campaign = campaign_pause(actor=manager, campaign_id=campaign.pk)
    return campaign


def _expected(who: str, path: str, success: int, may: str) -> int:
    if who == "other_organization" and "{id}" in path:
        return 404
    if who == "without_can_view_leads":
        return 403
    if may == WRITE and who in ("rep", "read_only_manager"):
        return 403
    return success


@pytest.mark.parametrize(("method", "path", "body", "state", "success", "may"), ENDPOINTS)
def test_who_may_use_each_endpoint(method, path, body, state, success, may, manager, people, settings):
    leads_make(manager.organization, 2)
    for who, user in people.items():
        campaign = _campaign(manager, state, settings)
        url = path.format(id=campaign.pk if campaign else 0)
        response = getattr(bearer_client(user), method)(url, body, format="json")
        expected = _expected(who, path, success, may)
        if expected >= 400:
            assert_error(response, expected, {403: "permission_denied", 404: "not_found"}[expected])
        else:
            assert response.status_code == expected, (who, response.content[:300])
    assert_error(getattr(APIClient(), method)(path.format(id=1), body, format="json"), 401, "not_authenticated")


def test_another_organizations_campaigns_are_not_listed(manager, other_org_user):
    mine = campaign_make(manager)
    campaign_make(other_org_user)

    rows = bearer_client(manager).get("/api/campaigns/").json()["results"]

    assert [row["id"] for row in rows] == [mine.pk]


def test_a_campaign_is_written_and_read_back(manager):
    client = bearer_client(manager)
    body = {
        **BODY,
        "audience_filter": {"status": ["new", "contacted"], "industry": "soft"},
        "ab_test": True,
        "ab_metric": "click",
        "steps": [
            {**STEP, "subject_b": "Other"},
            {"subject": "Again", "body": "Nudge", "delay_days": 2, "condition": "not_clicked"},
        ],
    }

    made = client.post("/api/campaigns/", body, format="json")

    assert made.status_code == 201, made.content
    data = made.json()
    assert (data["status"], data["ab_winner"], data["audience_filter"]) == ("draft", "", body["audience_filter"])
    assert [(s["position"], s["delay_days"], s["condition"]) for s in data["steps"]] == [
        (1, 0, "all"),
        (2, 2, "not_clicked"),
    ]
    assert data["excluded"] == {"unsubscribed": 0, "bounced": 0, "erased": 0, "invalid": 0, "duplicate": 0}
    assert (data["recipient_count"], data["sent_count"]) == (0, 0)
    error = assert_error(
        client.patch(
            f"/api/campaigns/{data['id']}/", {"steps": [{"subject": "{{ nope }}", "body": "x"}]}, format="json"
        ),
        400,
        "validation_error",
    )
    assert "is not a merge field" in error["details"]["steps"][0]["subject"][0]
    error = assert_error(
        client.patch(f"/api/campaigns/{data['id']}/", {"audience_filter": {"colour": "red"}}, format="json"),
        400,
        "validation_error",
    )
    assert "Use:" in error["details"]["audience_filter"][0]


def test_schedule_later_then_edit_then_send_now_and_read_the_stats(manager):
    leads_make(manager.organization, 3)
    client = bearer_client(manager)
    campaign = campaign_make(manager)
    send_at = (timezone.now() + timedelta(days=1)).isoformat()

    scheduled = client.post(f"/api/campaigns/{campaign.pk}/schedule/", {"send_at": send_at}, format="json").json()
    assert scheduled["status"] == "scheduled"
    assert client.patch(f"/api/campaigns/{campaign.pk}/", {"name": "Moved"}, format="json").status_code == 200
    sent = client.post(f"/api/campaigns/{campaign.pk}/schedule/", {}, format="json").json()
    assert (sent["status"], sent["recipient_count"], sent["sent_count"]) == ("sent", 3, 3)
    assert_error(
        client.patch(f"/api/campaigns/{campaign.pk}/", {"name": "Late"}, format="json"), 409, "illegal_transition"
    )

    stats = client.get(f"/api/campaigns/{campaign.pk}/stats/").json()

    assert (stats["sent"], stats["delivered"], stats["open_rate"], stats["ab"]) == (3, 3, 0.0, None)
    assert stats["steps"] == [
        {"position": 1, "status": "sent", "messages": 3, "pending": 0, "sent": 3, "failed": 0, "skipped": 0,
         "opened": 0, "clicked": 0, "percent": 100}
    ]  # fmt: skip
    assert stats["timeline"] == [
        {
            "date": timezone.localdate().isoformat(),
            "sent": 3,
            "opened": 0,
            "clicked": 0,
            "bounced": 0,
            "unsubscribed": 0,
        }
    ]


def test_preview_and_test_send(manager, rep):
    lead = LeadFactory(organization=manager.organization, first_name="Zoë", company="<Acme>")
    campaign = campaign_make(manager, steps=[{"subject": "Hi {{ first_name }}", "body": "At {{ company }}"}])
    client = bearer_client(manager)

    preview = client.get(f"/api/campaigns/{campaign.pk}/preview/", {"recipient": lead.pk}).json()
    sent = client.post(f"/api/campaigns/{campaign.pk}/test/", {"recipient": lead.pk}, format="json")

    assert preview["recipient"]["id"] == lead.pk and preview["subject"] == "Hi Zoë"
    assert "At &lt;Acme&gt;" in preview["html"] and "At <Acme>" in preview["text"]
    assert sent.json() == {"sent_to": manager.email, "subjects": ["[Test] Hi Zoë"]}
    # a rep previews only people they may see
    assert_error(
        bearer_client(rep).get(f"/api/campaigns/{campaign.pk}/preview/", {"recipient": lead.pk}), 404, "not_found"
    )
    assert_error(client.get(f"/api/campaigns/{campaign.pk}/preview/", {"step": 9}), 400, "validation_error")


def test_a_rep_sees_only_the_recipients_they_may_see(manager, rep):
    theirs = LeadFactory(organization=manager.organization, assigned_to=rep)
    leads_make(manager.organization, 2)
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)

    def emails(user, **query):
        return [
            row["email"]
            for row in bearer_client(user).get(f"/api/campaigns/{campaign.pk}/recipients/", query).json()["results"]
        ]

    assert len(emails(manager)) == 3
    assert emails(rep) == [theirs.email]
    assert emails(manager, status="opened") == []
    assert_error(
        bearer_client(manager).get(f"/api/campaigns/{campaign.pk}/recipients/", {"status": "x"}),
        400,
        "validation_error",
    )


@pytest.mark.parametrize("path", ["/api/campaigns/", "/api/campaigns/{id}/recipients/"])
def test_lists_cost_the_same_queries_for_one_or_many(path, manager, settings):
    leads_make(manager.organization, 1)
    client = bearer_client(manager)
    first = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    url = path.format(id=first.pk)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url).json()["results"]) == 1
    leads_make(manager.organization, 5)
    for _ in range(5):
        campaign_make(manager)
    second = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    url = path.format(id=second.pk)

    with CaptureQueriesContext(connection) as many:
        assert len(client.get(url).json()["results"]) == 6 + ("recipients" not in path)

    assert len(many) == len(one)
