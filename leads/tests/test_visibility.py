"""Who sees which lead, from the outside: the list, the detail, the timeline, edits, bulk
actions and restore through the API, for every role and permission flag.

- management and sales managers: every lead of their organization;
- a sales rep: the leads assigned to or created by them; with `can_view_all_org_leads`, all;
- a sub-user without `can_view_leads`: 403 permission_denied everywhere;
- another organization: its leads are 404 not_found, its lists never show ours.
"""

import pytest
from django.utils import timezone

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/leads/"


@pytest.fixture
def org(user):
    """An organization with a rep, the rep's leads (assigned, and created for someone else)
    and a lead of the manager's that the rep must not see."""
    manager = UserFactory(organization=user.organization, role="sales_manager")
    rep = UserFactory(organization=user.organization, role="sales_rep")
    assigned = LeadFactory(organization=user.organization, assigned_to=rep, email="assigned@example.com")
    created = LeadFactory(
        organization=user.organization, created_by=rep, assigned_to=manager, email="created@example.com"
    )
    others = LeadFactory(organization=user.organization, assigned_to=manager, email="others@example.com")
    return {
        "management": user,
        "manager": manager,
        "rep": rep,
        "leads": {"assigned": assigned, "created": created, "others": others},
    }


def _viewer(org, who, other_org_user):
    management = org["management"]
    return {
        "management": lambda: management,
        "sales_manager": lambda: org["manager"],
        "sales_rep": lambda: org["rep"],
        "sub_rep": lambda: SubUserFactory(parent=management, role="sales_rep"),
        "sub_rep_all": lambda: SubUserFactory(
            parent=management, role="sales_rep", permissions={"can_view_all_org_leads": True}
        ),
        "sub_manager": lambda: SubUserFactory(parent=management, role="sales_manager"),
        "other_org": lambda: other_org_user,
    }[who]()


# Which of the org's leads each viewer sees.
SEES = {
    "management": {"assigned", "created", "others"},
    "sales_manager": {"assigned", "created", "others"},
    "sales_rep": {"assigned", "created"},
    "sub_rep": set(),  # a rep sub-user with nothing assigned to or created by them
    "sub_rep_all": {"assigned", "created", "others"},
    "sub_manager": {"assigned", "created", "others"},
    "other_org": set(),
}
VIEWERS = list(SEES)


@pytest.mark.parametrize("who", VIEWERS)
def test_list_shows_exactly_the_leads_the_viewer_may_see(org, other_org_user, who):
    client = bearer_client(_viewer(org, who, other_org_user))

    emails = {row["email"] for row in client.get(LEADS).json()["results"]}

    assert emails == {f"{name}@example.com" for name in SEES[who]}


@pytest.mark.parametrize("who", VIEWERS)
def test_detail_and_timeline_answer_404_for_a_lead_out_of_sight(org, other_org_user, who):
    client = bearer_client(_viewer(org, who, other_org_user))

    for name, lead in org["leads"].items():
        detail = client.get(f"{LEADS}{lead.pk}/")
        timeline = client.get(f"{LEADS}{lead.pk}/timeline/")
        if name in SEES[who]:
            assert detail.status_code == 200 and detail.json()["id"] == lead.pk
            assert timeline.status_code == 200
        else:
            assert_error(detail, 404, "not_found")
            assert_error(timeline, 404, "not_found")


@pytest.mark.parametrize("who", VIEWERS)
def test_edits_reach_only_the_leads_in_sight(org, other_org_user, who):
    client = bearer_client(_viewer(org, who, other_org_user))

    for name, lead in org["leads"].items():
        response = client.patch(f"{LEADS}{lead.pk}/", {"industry": "Retail"}, format="json")
        if name in SEES[who]:
            assert response.status_code == 200
        else:
            assert_error(response, 404, "not_found")
            assert_error(client.delete(f"{LEADS}{lead.pk}/"), 404, "not_found")
    changed = set(Lead.objects.filter(industry="Retail").values_list("email", flat=True))
    assert changed == {f"{name}@example.com" for name in SEES[who]}


@pytest.mark.parametrize("who", VIEWERS)
def test_bulk_acts_on_the_leads_in_sight_and_reports_the_rest_not_found(org, other_org_user, who):
    client = bearer_client(_viewer(org, who, other_org_user))
    ids = {name: lead.pk for name, lead in org["leads"].items()}

    response = client.post(
        f"{LEADS}bulk/", {"ids": list(ids.values()), "action": "set_status", "value": "contacted"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body["done"]) == {ids[name] for name in SEES[who]}
    assert body["skipped"] == {str(ids[name]): "Not found." for name in ids if name not in SEES[who]}
    contacted = set(Lead.objects.filter(status="contacted").values_list("pk", flat=True))
    assert contacted == {ids[name] for name in SEES[who]}


@pytest.mark.parametrize("who", VIEWERS)
def test_recently_deleted_and_restore_follow_the_same_rules(org, other_org_user, who):
    Lead.objects.update(deleted_at=timezone.now())
    client = bearer_client(_viewer(org, who, other_org_user))

    listed = {row["email"] for row in client.get(LEADS, {"deleted": "true"}).json()["results"]}
    assert listed == {f"{name}@example.com" for name in SEES[who]}
    for name, lead in org["leads"].items():
        response = client.post(f"{LEADS}{lead.pk}/restore/")
        if name in SEES[who]:
            assert response.status_code == 200
        else:
            assert_error(response, 404, "not_found")


def test_a_sub_user_without_can_view_leads_is_refused_everywhere(org):
    client = bearer_client(
        SubUserFactory(parent=org["management"], role="sales_manager", permissions={"can_view_leads": False})
    )
    lead = org["leads"]["others"]
    url = f"{LEADS}{lead.pk}/"

    assert_error(client.get(LEADS), 403, "permission_denied")
    assert_error(client.get(LEADS, {"deleted": "true"}), 403, "permission_denied")
    assert_error(client.get(url), 403, "permission_denied")
    assert_error(client.get(f"{url}timeline/"), 403, "permission_denied")
    assert_error(client.patch(url, {"industry": "Retail"}, format="json"), 403, "permission_denied")
    assert_error(client.delete(url), 403, "permission_denied")
    assert_error(client.post(f"{url}restore/"), 403, "permission_denied")
    assert_error(
        client.post(f"{LEADS}bulk/", {"ids": [lead.pk], "action": "delete"}, format="json"), 403, "permission_denied"
    )
    assert Lead.objects.get(pk=lead.pk).deleted_at is None


def test_a_rep_who_creates_a_lead_sees_it_whoever_owns_it(org):
    rep, manager = org["rep"], org["manager"]
    client = bearer_client(rep)

    created = client.post(LEADS, {"email": "fresh@example.com", "assigned_to": manager.pk}, format="json").json()

    assert client.get(f"{LEADS}{created['id']}/").status_code == 200


def test_a_rep_loses_sight_of_a_lead_handed_to_someone_else(org):
    rep, manager = org["rep"], org["manager"]
    lead = org["leads"]["assigned"]
    client = bearer_client(rep)

    assert client.patch(f"{LEADS}{lead.pk}/", {"assigned_to": manager.pk}, format="json").status_code == 200

    assert_error(client.get(f"{LEADS}{lead.pk}/"), 404, "not_found")


def test_vendor_inventory_is_out_of_the_crm_everywhere(org):
    client = bearer_client(org["management"])
    stock = LeadFactory(organization=org["management"].organization, is_inventory=True, source="listing")

    assert stock.pk not in {row["id"] for row in client.get(LEADS).json()["results"]}
    assert_error(client.get(f"{LEADS}{stock.pk}/"), 404, "not_found")
    bulk = client.post(f"{LEADS}bulk/", {"ids": [stock.pk], "action": "delete"}, format="json").json()
    assert bulk == {"done": [], "skipped": {str(stock.pk): "Not found."}}
