"""The lead list's filters, search and ordering, through the API list (the page list, bulk
selection and export share the same filter set)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from leadnexus.core.testing import assert_error
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

LEADS = "/api/leads/"


def _ids(client, **params) -> list[int]:
    response = client.get(LEADS, {"page_size": 200, **params})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _lead(user, **fields) -> Lead:
    return LeadFactory(organization=user.organization, **fields)


@pytest.mark.parametrize(
    ("field", "match", "miss"),
    [
        ("status", "contacted", "new"),
        ("source", "import", "manual"),
        ("validation_status", "risky", "valid"),
        ("customer_category", "enterprise", "startup"),
    ],
)
def test_choice_filters_take_one_or_several_values(auth_client, user, field, match, miss):
    # given a lead with the value, one without
    wanted = _lead(user)
    other = _lead(user)
    Lead.objects.filter(pk=wanted.pk).update(**{field: match})
    Lead.objects.filter(pk=other.pk).update(**{field: miss})

    # then one value picks the one lead; both values pick both
    assert _ids(auth_client, **{field: match}) == [wanted.pk]
    assert set(_ids(auth_client, **{field: [match, miss]})) == {wanted.pk, other.pk}


def test_an_unknown_choice_is_a_validation_error(auth_client):
    error = assert_error(auth_client.get(LEADS, {"status": "sleeping"}), 400, "validation_error")
    assert "status" in error["details"]


def test_assigned_to_and_unassigned(auth_client, user):
    rep = UserFactory(organization=user.organization, role="sales_rep")
    theirs = _lead(user, assigned_to=rep)
    mine = _lead(user, assigned_to=user)
    nobodys = _lead(user)

    assert _ids(auth_client, assigned_to=rep.pk) == [theirs.pk]
    assert _ids(auth_client, assigned_to=user.pk) == [mine.pk]
    assert _ids(auth_client, unassigned="true") == [nobodys.pk]
    assert set(_ids(auth_client, unassigned="false")) == {theirs.pk, mine.pk}


def test_score_range(auth_client, user):
    low, middle, high = _lead(user, score=10), _lead(user, score=50), _lead(user, score=90)

    assert set(_ids(auth_client, score_min=50)) == {middle.pk, high.pk}
    assert set(_ids(auth_client, score_max=50)) == {low.pk, middle.pk}
    assert _ids(auth_client, score_min=20, score_max=60) == [middle.pk]


@pytest.mark.parametrize("field", ["industry", "location"])
def test_text_filters_match_part_of_the_value_in_any_case(auth_client, user, field):
    wanted = _lead(user, **{field: "Software Services"})
    _lead(user, **{field: "Mining"})

    assert _ids(auth_client, **{field: "software"}) == [wanted.pk]


def test_created_range_by_date(auth_client, user):
    old, recent = _lead(user), _lead(user)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date()

    assert _ids(auth_client, created_after=(today - timedelta(days=1)).isoformat()) == [recent.pk]
    assert _ids(auth_client, created_before=(today - timedelta(days=5)).isoformat()) == [old.pk]
    assert_error(auth_client.get(LEADS, {"created_after": "yesterday"}), 400, "validation_error")


@pytest.mark.parametrize(
    "term",
    ["ada", "LOVELACE", "ada.l@engines", "analytical", "4155552671", "ada analytical"],
    ids=["first name", "last name", "email", "company", "phone", "two terms"],
)
def test_search_across_name_email_company_and_phone(auth_client, user, term):
    wanted = _lead(
        user,
        first_name="Ada",
        last_name="Lovelace",
        email="ada.l@engines.example.com",
        company="Analytical Engines",
        phone="+1 415 555 2671",
    )
    _lead(user, first_name="Grace", last_name="Hopper", email="grace@navy.example.com", company="Navy", phone="")

    assert _ids(auth_client, search=term) == [wanted.pk]


def test_search_terms_must_all_match(auth_client, user):
    _lead(user, first_name="Ada", company="Navy")
    assert _ids(auth_client, search="ada engines") == []


def test_filters_combine(auth_client, user):
    wanted = _lead(user, status="contacted", industry="Retail", score=70)
    _lead(user, status="contacted", industry="Retail", score=20)
    _lead(user, status="new", industry="Retail", score=70)

    assert _ids(auth_client, status="contacted", industry="retail", score_min=50) == [wanted.pk]


@pytest.mark.parametrize("field", ["created_at", "updated_at", "score", "last_name", "company", "status"])
def test_ordering_by_each_whitelisted_field_both_ways(auth_client, user, field):
    values = {
        "created_at": [timezone.now() - timedelta(days=n) for n in (3, 2, 1)],
        "updated_at": [timezone.now() - timedelta(days=n) for n in (3, 2, 1)],
        "score": [10, 20, 30],
        "last_name": ["Adams", "Baker", "Clark"],
        "company": ["Acme", "Bolt", "Crane"],
        "status": ["contacted", "lost", "new"],
    }[field]
    leads = [_lead(user) for _ in values]
    for lead, value in zip(leads, values, strict=True):
        Lead.objects.filter(pk=lead.pk).update(**{field: value})
    ascending = [lead.pk for lead in leads]

    assert _ids(auth_client, ordering=field) == ascending
    assert _ids(auth_client, ordering=f"-{field}") == ascending[::-1]


def test_ordering_outside_the_whitelist_is_refused(auth_client, user):
    _lead(user)
    for ordering in ("email", "organization", "assigned_to__password", "-phone_key"):
        error = assert_error(auth_client.get(LEADS, {"ordering": ordering}), 400, "validation_error")
        assert "ordering" in error["details"]


def test_ties_keep_a_stable_order_across_pages(auth_client, user):
    leads = [_lead(user, score=50) for _ in range(7)]

    pages = [
        [
            row["id"]
            for row in auth_client.get(LEADS, {"ordering": "score", "page_size": 3, "page": n}).json()["results"]
        ]
        for n in (1, 2, 3)
    ]

    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(lead.pk for lead in leads) and len(set(seen)) == 7


def test_money_and_numbers_render_as_documented(auth_client, user):
    _lead(user, annual_revenue=Decimal("1234.50"), employee_count=12)
    row = auth_client.get(LEADS).json()["results"][0]
    assert row["annual_revenue"] == "1234.50" and row["employee_count"] == 12


def test_filters_apply_on_the_page_list_too(user):
    from django.test import Client

    wanted = _lead(user, status="qualified", first_name="Zed")
    _lead(user, status="new", first_name="Amyas-unwanted")
    client = Client()
    client.force_login(user)

    page = client.get("/leads/", {"status": "qualified", "search": "zed"}).content.decode()

    assert f'value="{wanted.pk}"' in page and "Amyas-unwanted" not in page


@pytest.mark.parametrize(
    ("field", "value"),
    [("assigned_to", 10**20), ("assigned_to", -(10**83)), ("score_min", 10**30), ("score_max", -1)],
)
def test_numbers_no_lead_can_match_are_validation_errors(auth_client, field, value):
    error = assert_error(auth_client.get(LEADS, {field: value}), 400, "validation_error")
    assert field in error["details"], error
