import pytest
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory
from leads.cleaning import lead_clean
from leads.dedupe import (
    DedupeKeys,
    duplicate_candidates,
    duplicate_find,
    duplicates_find_many,
    email_key,
    keys_of,
    name_company_key,
)
from leads.models import Lead
from leads.tests.factories import LeadFactory

# --- Keys ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    [
        "john.smith@gmail.com",
        "JohnSmith@gmail.com",
        "john.smith+newsletter@gmail.com",
        "j.o.h.n.s.m.i.t.h@googlemail.com",
        "  John.Smith@GMail.com ",
    ],
)
def test_gmail_variants_share_one_key(email):
    assert email_key(email) == "johnsmith@gmail.com"


def test_elsewhere_dots_matter_but_plus_tags_do_not():
    assert email_key("John.Smith+crm@Acme.com") == "john.smith@acme.com"
    assert email_key("john.smith@acme.com") != email_key("johnsmith@acme.com")


@pytest.mark.parametrize("email", ["", "no-at-sign", "@acme.com", "+tag@acme.com"])
def test_an_email_without_a_mailbox_has_no_key(email):
    assert email_key(email) == ""


@pytest.mark.parametrize(
    ("first", "last", "company"),
    [
        ("José", "Müller", "Müller GmbH"),
        ("jose", "MULLER", "Muller"),
        (" José ", "Müller", "MÜLLER gmbh."),
        ("José", "Müller", "Müller, Inc."),
        ("José", "Müller", "Muller Corporation"),
    ],
)
def test_person_and_company_ignore_accents_case_spaces_punctuation_and_legal_form(first, last, company):
    assert name_company_key(first, last, company) == "jose muller|muller"


def test_a_person_without_a_company_or_a_company_without_a_person_has_no_key():
    assert name_company_key("Ada", "Lovelace", "") == ""
    assert name_company_key("", "", "Acme") == ""


@pytest.mark.parametrize("phone", ["(415) 555-0123", "+1 415 555 0123", "415.555.0123", "1-415-555-0123"])
def test_phone_formats_share_the_e164_key(phone):
    assert lead_clean({"phone": phone}).keys.phone == "+14155550123"


def test_an_unparsable_phone_has_no_key():
    assert lead_clean({"phone": "ask reception"}).keys.phone == ""


# --- Finding duplicates -----------------------------------------------------------------------------


@pytest.fixture
def org(db):
    return OrganizationFactory()


def keys(**raw) -> DedupeKeys:
    return lead_clean(raw).keys


def test_the_same_email_in_another_spelling_is_a_duplicate(org):
    existing = LeadFactory(organization=org, email="john.smith@gmail.com")

    match = duplicate_find(organization_id=org.pk, keys=keys(email="JohnSmith+crm@googlemail.com"))

    assert (match.lead_id, match.certain, match.on, match.deleted) == (existing.pk, True, "email", False)


def test_the_same_phone_in_another_format_is_a_duplicate(org):
    existing = LeadFactory(organization=org, phone="(415) 555-0123")

    match = duplicate_find(organization_id=org.pk, keys=keys(email="other@acme.com", phone="+1 415 555 0123"))

    assert (match.lead_id, match.certain, match.on) == (existing.pk, True, "phone")


def test_the_same_person_and_company_with_other_contacts_is_only_a_possible_duplicate(org):
    # given a lead with an email, and a new one with another email, same person and company
    existing = LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="AE Ltd", email="a@ae.com")

    match = duplicate_find(
        organization_id=org.pk,
        keys=keys(first_name="ADA", last_name="lovelace", company="AE", email="ada.l@other.com"),
    )

    assert (match.lead_id, match.certain, match.on) == (existing.pk, False, "name_company")


def test_the_same_person_and_company_is_a_duplicate_when_the_new_one_has_no_contact(org):
    existing = LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="AE Ltd", email="a@ae.com")

    match = duplicate_find(organization_id=org.pk, keys=keys(first_name="Ada", last_name="Lovelace", company="AE"))

    assert (match.lead_id, match.certain) == (existing.pk, True)


def test_the_same_person_and_company_is_a_duplicate_when_the_existing_one_has_no_contact(org):
    # given a stored lead without email or phone (e.g. from an older import)
    existing = LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="AE Ltd", email="")

    match = duplicate_find(
        organization_id=org.pk, keys=keys(first_name="Ada", last_name="Lovelace", company="AE", email="a@ae.com")
    )

    assert (match.lead_id, match.certain) == (existing.pk, True)


def test_deleted_leads_are_matched_and_reported_as_deleted(org):
    existing = LeadFactory(organization=org, email="ada@ae.com", deleted_at=timezone.now())

    match = duplicate_find(organization_id=org.pk, keys=keys(email="ada@ae.com"))

    assert (match.lead_id, match.deleted) == (existing.pk, True)


def test_a_live_duplicate_is_preferred_to_a_deleted_one(org):
    LeadFactory(organization=org, email="ada@ae.com", deleted_at=timezone.now())
    live = LeadFactory(organization=org, email="ada@ae.com")

    match = duplicate_find(organization_id=org.pk, keys=keys(email="ada@ae.com"))

    assert (match.lead_id, match.deleted) == (live.pk, False)


def test_a_certain_duplicate_is_preferred_to_a_possible_one(org):
    LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="AE", email="x@ae.com")
    by_phone = LeadFactory(organization=org, email="", phone="+14155550123")

    match = duplicate_find(
        organization_id=org.pk,
        keys=keys(first_name="Ada", last_name="Lovelace", company="AE", email="y@ae.com", phone="415 555 0123"),
    )

    assert (match.lead_id, match.on) == (by_phone.pk, "phone")


def test_other_organizations_and_vendor_inventory_are_not_matched(org):
    LeadFactory(email="ada@ae.com")  # another organization
    LeadFactory(organization=org, email="ada@ae.com", is_inventory=True)

    assert duplicate_find(organization_id=org.pk, keys=keys(email="ada@ae.com")) is None


def test_inventory_is_checked_against_inventory(org):
    stock = LeadFactory(organization=org, email="ada@ae.com", is_inventory=True)

    match = duplicate_find(organization_id=org.pk, keys=keys(email="ada@ae.com"), is_inventory=True)

    assert match.lead_id == stock.pk


def test_a_lead_is_not_its_own_duplicate(org):
    lead = LeadFactory(organization=org, email="ada@ae.com")

    assert duplicate_find(organization_id=org.pk, keys=keys_of(lead), exclude_id=lead.pk) is None


def test_no_keys_no_query(org, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert duplicates_find_many(organization_id=org.pk, keys=[DedupeKeys(), DedupeKeys()]) == [None, None]


def test_many_rows_are_checked_in_one_query(org, django_assert_num_queries):
    # given 30 leads and 60 rows to check, half of them duplicates
    leads = [LeadFactory(organization=org, email=f"person{n}@acme.com") for n in range(30)]
    rows = [keys(email=f"Person{n}+x@acme.com") for n in range(30)] + [
        keys(email=f"new{n}@acme.com") for n in range(30)
    ]

    with django_assert_num_queries(1):
        matches = duplicates_find_many(organization_id=org.pk, keys=rows)

    assert [m.lead_id for m in matches[:30]] == [lead.pk for lead in leads]
    assert matches[30:] == [None] * 30


def test_candidates_are_the_visible_leads_sharing_a_key_certain_first(org):
    lead = LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="AE", email="ada@ae.com")
    possible = LeadFactory(organization=org, first_name="Ada", last_name="Lovelace", company="AE Ltd", email="o@x.com")
    certain = LeadFactory(organization=org, email="ada+work@ae.com")
    LeadFactory(organization=org, email="someone.else@ae.com")

    found = duplicate_candidates(leads=Lead.objects.filter(organization=org), keys=keys_of(lead), exclude_id=lead.pk)

    assert [(other.pk, match.certain) for other, match in found] == [(certain.pk, True), (possible.pk, False)]


def test_candidates_only_come_from_the_queryset_given(org):
    lead = LeadFactory(organization=org, email="ada@ae.com")
    hidden = LeadFactory(organization=org, email="ada@ae.com")

    found = duplicate_candidates(
        leads=Lead.objects.filter(organization=org).exclude(pk=hidden.pk), keys=keys_of(lead), exclude_id=lead.pk
    )

    assert found == []
