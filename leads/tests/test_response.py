"""Speed-to-lead: the response target, the flag on lists, first contacts and the alerts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from leads.models import Lead
from leads.services.records import lead_status_change
from leads.services.response import leads_response_alert
from leads.tests.factories import LeadFactory
from notifications.models import Notification, NotificationType

pytestmark = pytest.mark.django_db


def _lead(owner, *, minutes_old: int, **fields) -> Lead:
    lead = LeadFactory(organization=owner.organization, assigned_to=owner, created_by=owner, **fields)
    Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_old))
    lead.refresh_from_db()
    return lead


def _alerts(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, type=NotificationType.RESPONSE_OVERDUE))


@pytest.fixture
def manager():
    return UserFactory()  # management; the default target is two hours


@pytest.fixture
def rep(manager):
    return SubUserFactory(parent=manager, role="sales_rep")


def test_a_new_lead_past_the_target_is_flagged_and_only_it(manager):
    late = _lead(manager, minutes_old=121)
    recent = _lead(manager, minutes_old=119)
    contacted = _lead(manager, minutes_old=300, status=Lead.Status.CONTACTED)

    assert late.awaiting_first_contact
    assert not recent.awaiting_first_contact
    assert not contacted.awaiting_first_contact
    manager.organization.response_target_minutes = None
    manager.organization.save()
    late.refresh_from_db()
    assert not late.awaiting_first_contact


def test_the_lead_list_flags_and_filters_waiting_leads(manager, client):
    late = _lead(manager, minutes_old=180)
    recent = _lead(manager, minutes_old=10)
    api = bearer_client(manager)

    listed = {row["id"]: row for row in api.get("/api/leads/").json()["results"]}
    waiting = api.get("/api/leads/", {"awaiting_first_contact": "true"}).json()["results"]
    others = api.get("/api/leads/", {"awaiting_first_contact": "false"}).json()["results"]

    assert listed[late.pk]["awaiting_first_contact"] is True
    assert listed[recent.pk]["awaiting_first_contact"] is False
    assert [row["id"] for row in waiting] == [late.pk]
    assert [row["id"] for row in others] == [recent.pk]
    client.login(email=manager.email, password=PASSWORD)
    page = client.get("/leads/").content.decode()
    assert page.count('data-testid="awaiting-first-contact"') == 1
    assert 'data-testid="awaiting-first-contact"' in client.get(f"/leads/{late.pk}/").content.decode()


def test_moving_on_from_new_is_a_first_contact(manager):
    lead = _lead(manager, minutes_old=500)

    lead = lead_status_change(actor=manager, lead_id=lead.pk, status=Lead.Status.CONTACTED)

    assert lead.first_contacted_at is not None
    first = lead.first_contacted_at
    lead = lead_status_change(actor=manager, lead_id=lead.pk, status=Lead.Status.QUALIFIED)
    assert lead.first_contacted_at == first  # the first one is kept


def test_owner_and_their_manager_are_alerted_once(manager, rep):
    waiting = [_lead(rep, minutes_old=200), _lead(rep, minutes_old=150)]
    _lead(rep, minutes_old=30)  # within the target

    assert leads_response_alert() == 2
    assert leads_response_alert() == 0  # a later run alerts nobody again

    (to_rep,) = _alerts(rep)
    assert to_rep.title == "2 new leads are waiting for a first contact"
    assert to_rep.link == "/leads/?awaiting_first_contact=true"
    assert all(str(lead) in to_rep.message for lead in waiting)
    (to_manager,) = _alerts(manager)
    assert to_manager.title == f"2 of {rep.get_full_name()}'s new leads are waiting for a first contact"
    assert Lead.objects.filter(response_alerted_at__isnull=False).count() == 2


def test_unassigned_leads_alert_management_and_other_orgs_follow_their_own_target(manager):
    lead = _lead(manager, minutes_old=200)
    Lead.objects.filter(pk=lead.pk).update(assigned_to=None)
    other = UserFactory()
    other.organization.response_target_minutes = 600
    other.organization.save()
    _lead(other, minutes_old=200)
    off = UserFactory()
    off.organization.response_target_minutes = None
    off.organization.save()
    _lead(off, minutes_old=10_000)

    assert leads_response_alert() == 1

    (alert,) = _alerts(manager)
    assert alert.title == "1 unassigned new lead is waiting for a first contact"
    assert alert.link == f"/leads/{lead.pk}/"
    assert _alerts(other) == [] and _alerts(off) == []


@pytest.mark.parametrize(
    ("value", "status", "stored"),
    [(30, 200, 30), (None, 200, None), (4, 400, 120), (10081, 400, 120), ("soon", 400, 120)],
)
def test_management_sets_the_response_target(manager, value, status, stored):
    response = bearer_client(manager).patch("/api/organization/", {"response_target_minutes": value}, format="json")

    assert response.status_code == status, response.content
    manager.organization.refresh_from_db()
    assert manager.organization.response_target_minutes == stored
    if status == 400:
        assert "response_target_minutes" in response.json()["error"]["details"]


def test_a_rep_cannot_change_the_response_target(rep):
    response = bearer_client(rep).patch("/api/organization/", {"response_target_minutes": 5}, format="json")

    assert response.status_code == 403
    rep.organization.refresh_from_db()
    assert rep.organization.response_target_minutes == 120


def test_the_target_is_set_on_the_organization_page(manager, client):
    client.login(email=manager.email, password=PASSWORD)
    org = manager.organization

    response = client.post(
        "/settings/organization/", {"name": org.name, "time_zone": org.time_zone, "response_target_minutes": "45"}
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.response_target_minutes == 45
