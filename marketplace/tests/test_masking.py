"""Masked contacts: the masking functions' exact shapes, and every masked field for every
kind of viewer (anonymous, another buyer, a buyer who bought it, the vendor, staff) in the
API list and detail, the catalog and listing pages, and the CSV export."""

import csv
import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads.imports.export import cell_safe
from marketplace.masking import mask_company, mask_email, mask_name, mask_phone, mask_website
from marketplace.tests.factories import ContactListingFactory, PurchaseFactory, VendorFactory

pytestmark = pytest.mark.django_db

FULL = {
    "company_name": "Acme Inc.",
    "website": "https://www.acme.com",
    "contact_name": "Jane Smith",
    "contact_email": "jane@acme.com",
    "contact_phone": "+14155554567",
}
MASKED = {
    "company_name": "A*** Inc.",
    "website": "a***.com",
    "contact_name": "J*** S***",
    "contact_email": "j***@a***.com",
    "contact_phone": "+1 ***-***-4567",
}
# Viewer kind → sees the contacts in full.
VIEWERS = {"anonymous": False, "other_buyer": False, "buyer_who_bought": True, "vendor": True, "staff": True}


# --- The masking functions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "value", "masked"),
    [
        (mask_name, "Jane Smith", "J*** S***"),
        (mask_name, "  jean-luc   picard ", "j*** p***"),
        (mask_name, "", ""),
        (mask_email, "jane@acme.com", "j***@a***.com"),
        (mask_email, "j.doe@mail.example.co.uk", "j***@m***.uk"),
        (mask_email, "not-an-email", "n***"),
        (mask_phone, "+14155554567", "+1 ***-***-4567"),
        (mask_phone, "+442071234567", "+44 ***-4567"),
        (mask_phone, "555-4567", "***-4567"),
        (mask_phone, "", ""),
        (mask_company, "Acme Inc.", "A*** Inc."),
        (mask_company, "Blue Sky Software, LLC", "B*** S*** S***, LLC"),
        (mask_company, "Globex", "G***"),
        (mask_company, "", ""),
        (mask_website, "https://www.acme.com/about", "a***.com"),
        (mask_website, "acme.io", "a***.io"),
        (mask_website, "", ""),
    ],
)
def test_each_masking_function_keeps_only_a_hint(function, value, masked):
    assert function(value) == masked


# --- Viewers ------------------------------------------------------------------------------------


@pytest.fixture
def listing():
    return ContactListingFactory(vendor=VendorFactory(name="Northwind Data"))


def _viewer(kind: str, listing):
    if kind == "anonymous":
        return None
    if kind == "other_buyer":
        return UserFactory()
    if kind == "buyer_who_bought":
        buyer = UserFactory()
        PurchaseFactory(listing=listing, buyer=buyer.organization)
        return buyer
    if kind == "vendor":
        return UserFactory(organization=listing.vendor)
    return StaffUserFactory()


def _api(user) -> APIClient:
    return bearer_client(user) if user is not None else APIClient()


def _page(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _expected(kind: str) -> dict:
    return FULL if VIEWERS[kind] else MASKED


@pytest.mark.parametrize("kind", VIEWERS)
def test_the_api_list_masks_every_contact_field_unless_the_viewer_may_see_it(kind, listing):
    # given a catalog listing with every contact field and a viewer of this kind
    viewer = _viewer(kind, listing)

    # when the viewer lists the catalog
    response = _api(viewer).get("/api/marketplace/listings/")

    # then each of the five fields is in full or masked, and is_masked says which
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert {name: row[name] for name in FULL} == _expected(kind)
    assert row["is_masked"] is not VIEWERS[kind]
    assert row["is_purchased"] is (kind == "buyer_who_bought")


@pytest.mark.parametrize("kind", VIEWERS)
def test_the_api_detail_masks_every_contact_field_unless_the_viewer_may_see_it(kind, listing):
    viewer = _viewer(kind, listing)

    response = _api(viewer).get(f"/api/marketplace/listings/{listing.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert {name: body[name] for name in FULL} == _expected(kind)
    assert body["is_masked"] is not VIEWERS[kind]


@pytest.mark.parametrize("kind", VIEWERS)
@pytest.mark.parametrize("page", ["catalog", "detail"])
def test_the_pages_mask_every_contact_field_unless_the_viewer_may_see_it(kind, page, listing):
    # given a viewer of this kind
    viewer = _viewer(kind, listing)
    url = "/marketplace/" if page == "catalog" else f"/marketplace/listings/{listing.pk}/"

    # when they open the catalog or the listing page
    response = _page(viewer).get(url)

    # then the page shows what they may see of each field (cards leave the website out),
    # and never the other form of any field
    assert response.status_code == 200
    html = response.content.decode()
    shown, hidden = (FULL, MASKED) if VIEWERS[kind] else (MASKED, FULL)
    for name, value in shown.items():
        if page == "detail" or name != "website":
            assert value in html, (name, value)
    for name, value in hidden.items():
        assert value not in html, (name, value)
    assert ("Masked: shown in full once you buy." in html) is (page == "detail" and not VIEWERS[kind])


@pytest.mark.parametrize("kind", [kind for kind in VIEWERS if kind != "anonymous"])
def test_the_csv_export_masks_every_contact_field_unless_the_viewer_may_see_it(kind, listing):
    viewer = _viewer(kind, listing)

    response = _api(viewer).get("/api/marketplace/listings/export/", {"format": "csv"})

    # (a phone starts with "+", which a spreadsheet would read as a formula: it is quoted)
    assert response.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {name: row[name] for name in FULL} == {name: cell_safe(value) for name, value in _expected(kind).items()}
    assert row["is_masked"] == ("false" if VIEWERS[kind] else "true")


def test_the_page_export_masks_like_the_api(listing):
    viewer = UserFactory()

    response = _page(viewer).get("/marketplace/export/", {"format": "csv"})

    (row,) = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {name: row[name] for name in FULL} == {name: cell_safe(value) for name, value in MASKED.items()}


def test_anonymous_visitors_cannot_export(listing):
    assert_error(APIClient().get("/api/marketplace/listings/export/", {"format": "csv"}), 401, "not_authenticated")
    response = Client().get("/marketplace/export/")
    assert response.status_code == 302 and "/login" in response["Location"]
