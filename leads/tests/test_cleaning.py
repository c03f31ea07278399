from decimal import Decimal

import pytest

from leads.cleaning import apply_clean, lead_clean
from leads.dedupe import email_key
from leads.models import Lead
from leads.tests.factories import LeadFactory

V = Lead.ValidationStatus


def test_only_the_fields_given_are_cleaned():
    clean = lead_clean({"first_name": "Ada", "email": "ada@example.com"})

    assert set(clean.values) == {"first_name", "email"}


def test_text_is_trimmed_collapsed_and_stripped_of_nul_bytes():
    clean = lead_clean({"first_name": "  Ada \x00 ", "company": "Acme \n  Widgets\t Ltd", "job_title": None})

    assert clean.values == {"first_name": "Ada", "company": "Acme Widgets Ltd", "job_title": ""}


def test_text_longer_than_its_column_is_cut_with_a_problem():
    clean = lead_clean({"first_name": "x" * 150})

    assert clean.values["first_name"] == "x" * 100
    assert clean.problems["first_name"] == ["Longer than 100 characters; cut to fit."]


@pytest.mark.parametrize(
    ("given", "count"), [("1,200", 1200), (" 250 ", 250), ("12.7", 12), (42, 42), ("", None), (None, None)]
)
def test_employee_counts_are_read_from_spreadsheet_text(given, count):
    clean = lead_clean({"employee_count": given})

    assert clean.values["employee_count"] == count
    assert "employee_count" not in clean.problems


@pytest.mark.parametrize("given", ["about fifty", "-5", "20000000", "Infinity", "-Infinity", "NaN", "sNaN", "1e400"])
def test_an_unusable_employee_count_is_a_problem_not_a_crash(given):
    clean = lead_clean({"employee_count": given})

    assert clean.values["employee_count"] is None
    assert clean.problems["employee_count"]


@pytest.mark.parametrize(
    ("given", "amount"),
    [("$1,250,000.50", Decimal("1250000.50")), ("€ 900", Decimal("900.00")), ("2.005", Decimal("2.00")), ("", None)],
)
def test_revenue_is_money_with_two_places(given, amount):
    clean = lead_clean({"annual_revenue": given})

    assert clean.values["annual_revenue"] == amount
    assert "annual_revenue" not in clean.problems


@pytest.mark.parametrize("given", ["lots", "-10", "NaN", "Infinity", "sNaN", "1e30", "100000000000000"])
def test_an_unusable_revenue_is_a_problem_not_a_crash(given):
    clean = lead_clean({"annual_revenue": given})

    assert clean.values["annual_revenue"] is None
    assert clean.problems["annual_revenue"]


@pytest.mark.parametrize(
    ("given", "category"),
    [("Mid-market", "mid_market"), ("mid market", "mid_market"), ("ENTERPRISE", "enterprise"), ("", "")],
)
def test_customer_categories_are_matched_by_value_or_label(given, category):
    clean = lead_clean({"customer_category": given})

    assert clean.values["customer_category"] == category
    assert "customer_category" not in clean.problems


def test_an_unknown_customer_category_is_a_problem():
    clean = lead_clean({"customer_category": "whale"})

    assert clean.values["customer_category"] == ""
    assert "Not a known category" in clean.problems["customer_category"][0]


def test_contact_fields_are_normalised_and_checked():
    clean = lead_clean({"email": "Ada@Example.com", "phone": "(415) 555-0123", "website": "Example.com/"})

    assert clean.values == {"email": "Ada@example.com", "phone": "+14155550123", "website": "https://example.com"}
    assert clean.check.status == V.VALID
    assert clean.keys.email == "ada@example.com"
    assert clean.keys.phone == "+14155550123"


def test_an_unusable_email_or_phone_is_kept_as_given_but_fits_its_column():
    # given values far longer than their columns
    clean = lead_clean({"email": "x" * 400, "phone": "call the switchboard and ask for the sales office " * 2})

    # then they are kept (the user sees what came in), cut to the column, and flagged
    assert clean.values["email"] == "x" * 254
    assert len(clean.values["phone"]) == 32
    assert set(clean.problems) == {"email", "phone"}
    assert not clean.check.reachable


def test_an_invalid_website_is_dropped_so_it_is_never_rendered_as_a_link():
    clean = lead_clean({"email": "ada@example.com", "website": "javascript:alert(document.cookie)"})

    assert clean.values["website"] == ""
    assert clean.problems == {"website": ["The website is not a valid address."]}


def test_invalid_contacts_give_no_dedupe_keys():
    clean = lead_clean({"email": "nope", "phone": "123", "first_name": "Ada", "last_name": "Lovelace"})

    assert clean.keys.email == ""
    assert clean.keys.phone == ""
    assert clean.keys.name_company == ""  # no company


@pytest.mark.django_db
def test_an_edit_of_one_field_checks_and_keys_with_the_current_values():
    # given a lead with an email and a company
    lead = LeadFactory(first_name="Ada", last_name="Lovelace", company="Analytical Engines Ltd", email="ada@ae.com")

    # when only the first name is cleaned against it
    clean = lead_clean({"first_name": "Augusta"}, current=lead)

    # then only that value is returned, but the check and keys see the whole lead
    assert clean.values == {"first_name": "Augusta"}
    assert clean.check.email == "ada@ae.com"
    assert clean.keys.email == email_key("ada@ae.com")
    assert clean.keys.name_company == "augusta lovelace|analytical engines"


@pytest.mark.django_db
def test_apply_clean_writes_values_validation_and_keys_and_names_what_changed():
    lead = LeadFactory(first_name="Ada", email="ada@ae.com", phone="")

    changed = apply_clean(lead, lead_clean({"first_name": "Ada", "phone": "+1 415 555 0123"}, current=lead))

    assert changed == ["phone"]
    assert lead.phone == "+14155550123"
    assert lead.phone_key == "+14155550123"
    assert lead.validation_status == V.VALID
    assert lead.validation_reasons == []
