"""The lead status workflow through `PATCH /api/leads/{id}/ {status}` and the detail page's
buttons: new → contacted → qualified; unqualified and lost from an open state; a closed
lead reopens as new; converted only through the CRM's conversion."""

import itertools

import pytest
from django.test import Client

from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

S = Lead.Status
ALLOWED = {
    (S.NEW, S.CONTACTED),
    (S.NEW, S.UNQUALIFIED),
    (S.NEW, S.LOST),
    (S.CONTACTED, S.QUALIFIED),
    (S.CONTACTED, S.UNQUALIFIED),
    (S.CONTACTED, S.LOST),
    (S.QUALIFIED, S.UNQUALIFIED),
    (S.QUALIFIED, S.LOST),
    (S.UNQUALIFIED, S.NEW),
    (S.LOST, S.NEW),
}
PAIRS = [(a, b) for a, b in itertools.product(S.values, S.values) if a != b]
DISALLOWED = [pair for pair in PAIRS if pair not in ALLOWED]


def _patch(client, lead, status):
    return client.patch(f"/api/leads/{lead.pk}/", {"status": status}, format="json")


def _status_events(lead):
    return Event.objects.filter(name="leads.lead.status_changed", subject_type="leads.lead", subject_id=str(lead.pk))


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED), ids=lambda value: str(value))
def test_each_allowed_move_is_made_and_recorded(auth_client, user, current, target):
    lead = LeadFactory(organization=user.organization, status=current)

    response = _patch(auth_client, lead, target)

    assert response.status_code == 200 and response.json()["status"] == target
    event = _status_events(lead).get()
    assert event.data == {"from": current, "to": target} and event.actor == user


@pytest.mark.parametrize(("current", "target"), DISALLOWED, ids=lambda value: str(value))
def test_each_disallowed_move_is_409_illegal_transition(auth_client, user, current, target):
    lead = LeadFactory(organization=user.organization, status=current)

    assert_error(_patch(auth_client, lead, target), 409, "illegal_transition")

    lead.refresh_from_db()
    assert lead.status == current and not _status_events(lead).exists()


@pytest.mark.parametrize("current", [S.NEW, S.CONTACTED, S.QUALIFIED, S.UNQUALIFIED, S.LOST])
def test_converted_is_never_reached_by_a_patch(auth_client, user, current):
    lead = LeadFactory(organization=user.organization, status=current)
    error = assert_error(_patch(auth_client, lead, "converted"), 409, "illegal_transition")
    assert "convert" in error["message"]


def test_the_same_status_again_changes_nothing(auth_client, user):
    lead = LeadFactory(organization=user.organization, status=S.CONTACTED)
    assert _patch(auth_client, lead, "contacted").status_code == 200
    assert not _status_events(lead).exists()


def test_an_unknown_status_is_a_validation_error(auth_client, user):
    lead = LeadFactory(organization=user.organization)
    error = assert_error(_patch(auth_client, lead, "asleep"), 400, "validation_error")
    assert "status" in error["details"]


def test_bulk_set_status_reports_illegal_moves_per_lead(auth_client, user):
    movable = LeadFactory(organization=user.organization, status=S.NEW)
    stuck = LeadFactory(organization=user.organization, status=S.LOST)

    body = auth_client.post(
        "/api/leads/bulk/",
        {"ids": [movable.pk, stuck.pk], "action": "set_status", "value": "contacted"},
        format="json",
    ).json()

    assert body["done"] == [movable.pk]
    assert body["skipped"] == {str(stuck.pk): "A lost lead cannot move to contacted."}


def test_the_detail_page_offers_exactly_the_allowed_moves(user):
    client = Client()
    client.force_login(user)
    labels = {
        S.NEW: "Reopen",
        S.CONTACTED: "Mark contacted",
        S.QUALIFIED: "Mark qualified",
        S.UNQUALIFIED: "Mark unqualified",
        S.LOST: "Mark lost",
    }
    for status in S.values:
        lead = LeadFactory(organization=user.organization, status=status)
        page = client.get(f"/leads/{lead.pk}/").content.decode()
        offered = {target for target, label in labels.items() if f">{label}</button>" in page}
        assert offered == {target for current, target in ALLOWED if current == status}, status


def test_a_page_move_that_became_illegal_answers_409_with_the_reason(user):
    client = Client()
    client.force_login(user)
    lead = LeadFactory(organization=user.organization, status=S.QUALIFIED)

    response = client.post(f"/leads/{lead.pk}/status/", {"status": "contacted"})

    assert response.status_code == 409
    assert "A qualified lead cannot move to contacted." in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).status == S.QUALIFIED
