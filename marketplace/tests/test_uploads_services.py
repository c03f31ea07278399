"""Uploads of listings through the import engine: a messy file gives exact counts (listed,
already listed, rejected), the rows become inventory leads and pending listings written in
bulk, duplicates of live listings are skipped or update them, `create` is refused, and
automatic approval applies per row."""

from decimal import Decimal

import pytest
from django.db import connection

from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leads.imports.services import import_process
from leads.models import ImportJob, ImportRow, Lead
from leads.selectors import lead_list
from leads.tests.factories import LeadFactory, spreadsheet_upload
from marketplace.models import Listing
from marketplace.selectors import upload_preview
from marketplace.services import uploads as services
from marketplace.tests.factories import ListingFactory, VendorFactory, VendorUserFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

HEADER = (
    "Title;Description;Industry;Price (USD);Exclusive?;Max sales;First name;Last name;E-mail;Phone;"
    "Company;Role;Location;Website;Employees\n"
)
MESSY = HEADER + (
    # 1 listed
    "VP Sales, SaaS;Decision maker;SaaS;$120.00;yes;;Ada;Lovelace;ada@engines.com;;Analytical Engines;"
    "VP of Sales;Austin, TX;engines.com;120\n"
    # 2 listed: shared, five buyers
    "CTO, Finance;;Finance;1,250;no;5;Grace;Hopper;grace@navy.com;+1 415 555 0100;US Navy;CTO;Boston, MA;;5000\n"
    # 3 already in a live listing of the vendor (same email, another spelling)
    "Alan again;;;40;;;Alan;Turing;ALAN@bletchley.com;;;;;;\n"
    # 4 the same person as row 1
    "Ada twice;;;50;;;Ada;L.;ada@engines.com;;;;;;\n"
    # 5 no usable email or phone
    "Nobody;;;30;;;Bad;Row;not-an-email;12;;;;;\n"
    # 6 no title
    ";;;30;;;No;Title;no.title@corp.com;;;;;;\n"
    # 7 not a price
    "Priceless;;;lots;;;No;Price;no.price@corp.com;;;;;;\n"
    # 8 exclusive, yet sold five times
    "Greedy;;;30;yes;5;Too;Many;too.many@corp.com;;;;;;\n"
    # 9 listed: their earlier listing was withdrawn
    "Back again;;;60;;;Wanda;Drawn;wanda@corp.com;;;;;;\n"
    # 10 listed, flagged: same name and company as a live listing, other contacts
    "Namesake;;;70;;;Alan;Turing;aturing@other.com;;Bletchley Park;;;;\n"
)


@pytest.fixture
def vendor():
    return VendorUserFactory()


def _live(vendor, email: str, *, name: str = "Alan Turing", company: str = "", **listing) -> Listing:
    first, last = name.split()
    lead = LeadFactory(
        organization=vendor.organization,
        is_inventory=True,
        source=Lead.Source.LISTING,
        first_name=first,
        last_name=last,
        email=email,
        company=company,
    )
    return ListingFactory(vendor=vendor.organization, lead=lead, **listing)


def _upload(vendor, content=MESSY, name="stock.csv", **defaults):
    return services.upload_create(actor=vendor, file=spreadsheet_upload(name, content), **defaults)


def _run(vendor, content=MESSY, policy=None, **defaults) -> ImportJob:
    upload = _upload(vendor, content, **defaults)
    services.upload_confirm(actor=vendor, upload_id=upload.job.pk, duplicate_policy=policy)
    upload.job.refresh_from_db()
    return upload.job


def _outcomes(job) -> dict[int, tuple[str, str]]:
    return {row.row_no: (row.outcome, row.message) for row in ImportRow.objects.filter(job=job)}


# --- A messy file ---------------------------------------------------------------------------------


def test_a_messy_file_lists_the_good_rows_and_reports_the_others(vendor):
    alan = _live(vendor, "alan@bletchley.com", company="Bletchley Park")
    withdrawn = _live(vendor, "wanda@corp.com", name="Wanda Drawn", status="withdrawn")

    job = _run(vendor)

    assert (job.status, job.total, job.processed) == ("done", 10, 10)
    assert (job.created, job.updated, job.duplicates, job.invalid) == (4, 0, 2, 4)
    outcomes = _outcomes(job)
    assert {n for n, (outcome, _) in outcomes.items() if outcome == "created"} == {1, 2, 9, 10}
    assert outcomes[3] == ("duplicate", f"Already listed in listing {alan.pk} (same email).")
    assert outcomes[4] == ("duplicate", "Same person as row 1 (same email).")
    assert outcomes[5][0] == "invalid" and outcomes[5][1].startswith("A listing needs a valid email address or phone")
    assert outcomes[6] == ("invalid", "Listing title: Give the listing a title.")
    assert outcomes[7] == ("invalid", "Price: Not an amount.")
    assert outcomes[8] == ("invalid", "Max sales: An exclusive listing sells once.")
    assert outcomes[10][1] == f"Possibly already listed in listing {alan.pk} (same name and company)."
    assert ImportRow.objects.get(job=job, row_no=3).object_id == alan.pk
    new = Listing.objects.filter(upload=job).exclude(pk__in=[alan.pk, withdrawn.pk])
    assert new.count() == 4


def test_each_listed_row_is_an_inventory_lead_and_a_pending_listing(vendor):
    job = _run(vendor)

    ada = Listing.objects.select_related("lead").get(upload=job, lead__email="ada@engines.com")
    assert (ada.title, ada.description, ada.price, ada.exclusive, ada.max_sales) == (
        "VP Sales, SaaS",
        "Decision maker",
        Decimal("120.00"),
        True,
        1,
    )
    assert (ada.industry, ada.location, ada.employee_count) == ("SaaS", "Austin, TX", 120)
    assert ada.approval_status == "pending" and ada.created_by == vendor and ada.vendor_id == vendor.organization_id
    lead = ada.lead
    assert (
        lead.is_inventory and lead.source == "listing" and lead.created_by == vendor and lead.job_title == "VP of Sales"
    )
    assert lead.score > 0 and ada.lead_score == lead.score and ada.validation_status == lead.validation_status
    assert lead.score_breakdown
    grace = Listing.objects.get(upload=job, lead__email="grace@navy.com")
    assert (grace.price, grace.exclusive, grace.max_sales) == (Decimal("1250.00"), False, 5)
    # the vendor's CRM does not show its stock
    assert not lead_list(user=vendor).exists()


def test_one_event_per_listing_and_one_notification_per_file(vendor):
    _live(vendor, "alan@bletchley.com", company="Bletchley Park")

    job = _run(vendor)

    created = Event.objects.filter(name="marketplace.listing.created", org_id=vendor.organization_id)
    assert created.count() == 4 and {event.data["upload"] for event in created} == {job.pk}
    assert Event.objects.filter(name="marketplace.upload.completed", subject_id=str(job.pk)).exists()
    note = Notification.objects.get(user=vendor)
    assert note.title == "Upload of stock.csv finished"
    assert note.message == (
        "4 new listings; 0 approved automatically, 4 waiting for review; 2 already listed; 4 rejected."
    )
    assert note.link == f"/marketplace/uploads/{job.pk}/"


def test_the_preview_shows_each_rows_problems(vendor):
    alan = _live(vendor, "alan@bletchley.com", company="Bletchley Park")

    upload = _upload(vendor)

    assert upload.job.mapping == {
        "Title": "title",
        "Description": "description",
        "Industry": "industry",
        "Price (USD)": "price",
        "Exclusive?": "exclusive",
        "Max sales": "max_sales",
        "First name": "first_name",
        "Last name": "last_name",
        "E-mail": "email",
        "Phone": "phone",
        "Company": "company",
        "Role": "job_title",
        "Location": "location",
        "Website": "website",
        "Employees": "employee_count",
    }
    rows = {row["row"]: row for row in upload.preview}
    assert rows[1]["problems"] == {} and not rows[1]["rejected"]
    assert rows[3]["problems"] == {"duplicate": [f"Already listed in listing {alan.pk} (same email)."]}
    assert rows[4]["problems"] == {"duplicate": ["Same person as row 1 (same email)."]}
    assert [n for n, row in rows.items() if row["rejected"]] == [5, 6, 7, 8]
    assert rows[7]["problems"] == {"price": ["Not an amount."]}
    assert not Listing.objects.filter(upload=upload.job).exists()
    # the same preview is served later, with the job
    assert upload_preview(user=vendor, upload_id=upload.job.pk).rows == upload.preview


def test_rows_split_across_batches_count_the_same(vendor, settings):
    settings.IMPORT_BATCH_SIZE = 2
    _live(vendor, "alan@bletchley.com", company="Bletchley Park")
    _live(vendor, "wanda@corp.com", name="Wanda Drawn", status="withdrawn")

    job = _run(vendor)

    assert (job.created, job.updated, job.duplicates, job.invalid) == (4, 0, 2, 4)
    assert _outcomes(job)[4][1].startswith("Already listed in listing")  # row 1 was written by an earlier batch


def test_an_xlsx_file_with_other_headers_is_read_too(vendor):
    rows = [
        ["Listing title", "Price", "Exclusive", "Max. sales", "Full name", "Work email", "Job title", "Company"],
        ["Head of IT", 45, "No", 3, "Linus Torvalds", "linus@kernel.com", "Head of IT", "Kernel Corp"],
    ]

    job = _run(vendor, rows, name="stock.xlsx")

    listing = Listing.objects.select_related("lead").get(upload=job)
    assert (listing.title, listing.price, listing.exclusive, listing.max_sales) == ("Head of IT", 45, False, 3)
    assert (listing.lead.first_name, listing.lead.last_name, listing.lead.job_title) == (
        "Linus",
        "Torvalds",
        "Head of IT",
    )


def test_upload_wide_defaults_fill_empty_cells(vendor):
    content = "Title,Email,Exclusive,Price\nOne,one@corp.com,,\nTwo,two@corp.com,yes,99\n"

    job = _run(vendor, content, default_price="25", default_exclusive=False, default_max_sales=4)

    by_title = {listing.title: listing for listing in Listing.objects.filter(upload=job)}
    assert (by_title["One"].price, by_title["One"].exclusive, by_title["One"].max_sales) == (Decimal("25.00"), False, 4)
    assert (by_title["Two"].price, by_title["Two"].exclusive, by_title["Two"].max_sales) == (Decimal("99.00"), True, 1)
    assert job.options == {"defaults": {"price": "25.00", "exclusive": "no", "max_sales": "4"}}


def test_wrong_defaults_are_refused_before_anything_is_staged(vendor):
    with pytest.raises(ValidationFailed) as error:
        _upload(vendor, default_price="-3", default_max_sales=5000)

    assert set(error.value.details) == {"default_price", "default_max_sales"}
    assert not ImportJob.objects.exists()


# --- Duplicate policies --------------------------------------------------------------------------


def test_update_rewrites_an_unsold_live_listing_and_its_lead(vendor):
    alan = _live(vendor, "alan@bletchley.com", price="40.00", title="Old title")
    content = 'Title,Price,Email,Role,Location\nAlan at Bletchley,55,alan@bletchley.com,Cryptanalyst,"Bletchley, UK"\n'

    job = _run(vendor, content, policy="update")

    assert (job.created, job.updated, job.duplicates, job.invalid) == (0, 1, 0, 0)
    alan.refresh_from_db()
    alan.lead.refresh_from_db()
    assert (alan.title, alan.price, alan.location) == ("Alan at Bletchley", Decimal("55.00"), "Bletchley, UK")
    assert (alan.lead.job_title, alan.lead.location) == ("Cryptanalyst", "Bletchley, UK")
    assert alan.lead_score == alan.lead.score
    assert _outcomes(job)[1] == ("updated", f"Updated listing {alan.pk} (same email).")
    event = Event.objects.get(name="marketplace.listing.updated", subject_id=str(alan.pk))
    assert event.data["price"] == ["40.00", "55.00"] and event.data["title"] == ["Old title", "Alan at Bletchley"]


def test_update_leaves_a_listing_that_has_sold(vendor):
    sold = _live(vendor, "alan@bletchley.com", exclusive=False, max_sales=3, sold_count=1, price="40.00")
    content = "Title,Price,Email\nAlan,55,alan@bletchley.com\n"

    job = _run(vendor, content, policy="update")

    assert (job.updated, job.duplicates) == (0, 1)
    assert _outcomes(job)[1][1].endswith("It has sold, so it was not updated.")
    sold.refresh_from_db()
    assert sold.price == Decimal("40.00")


def test_update_applies_a_later_row_of_the_file_to_the_listing_an_earlier_row_made(vendor):
    content = "Title,Price,Email\nFirst,10,kim@corp.com\nSecond,20,KIM@corp.com\n"

    job = _run(vendor, content, policy="update")

    assert (job.created, job.updated) == (1, 1)
    listing = Listing.objects.get(upload=job)
    assert (listing.title, listing.price) == ("Second", Decimal("20.00"))
    assert _outcomes(job)[2] == ("updated", "Updated the listing of row 1 (same email).")


def test_skip_is_the_default_and_create_is_refused(vendor):
    upload = _upload(vendor, "Title,Price,Email\nOne,10,one@corp.com\n")

    with pytest.raises(ValidationFailed) as error:
        services.upload_confirm(actor=vendor, upload_id=upload.job.pk, duplicate_policy="create")

    assert error.value.details == {"duplicate_policy": ["Choose one of skip, update."]}
    upload.job.refresh_from_db()
    assert upload.job.status == "awaiting_confirm"
    services.upload_confirm(actor=vendor, upload_id=upload.job.pk)
    upload.job.refresh_from_db()
    assert (upload.job.duplicate_policy, upload.job.status) == ("skip", "done")


# --- Automatic approval and permissions ---------------------------------------------------------


def test_rows_that_qualify_are_approved_automatically(vendor, settings):
    settings.LISTING_AUTO_APPROVE_SCORE = 40
    content = (
        "Title,Price,Email,Phone,Role,Company\n"
        "Good,10,ceo@corp.com,+1 415 555 0199,CEO,Corp\n"
        "Weak,10,info@corp.com,,,\n"
    )

    job = _run(vendor, content)

    by_title = {listing.title: listing for listing in Listing.objects.filter(upload=job)}
    assert by_title["Good"].approval_status == "approved" and by_title["Weak"].approval_status == "pending"
    approved = Event.objects.get(name="marketplace.listing.approved")
    assert approved.subject_id == str(by_title["Good"].pk) and approved.data["automatic"] is True
    assert "1 approved automatically, 1 waiting for review" in Notification.objects.get(user=vendor).message


def test_nothing_is_approved_automatically_for_an_unverified_vendor(settings):
    settings.LISTING_AUTO_APPROVE_SCORE = 0
    vendor = VendorUserFactory(organization=VendorFactory(verified=False))

    job = _run(vendor, "Title,Price,Email\nGood,10,ceo@corp.com\n")

    assert Listing.objects.get(upload=job).approval_status == "pending"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search vectors exist on PostgreSQL only")
def test_listings_approved_during_an_upload_are_searchable_at_once(vendor, settings):
    settings.LISTING_AUTO_APPROVE_SCORE = 0

    job = _run(vendor, "Title,Price,Email,Company\nQuantum widgets buyer,10,ceo@corp.com,Qubit Labs\n")

    listing = Listing.objects.get(upload=job)
    assert Listing.objects.filter(pk=listing.pk, search_vector="qubit").exists()
    assert Listing.objects.filter(pk=listing.pk, search_vector="widgets").exists()


def test_only_members_allowed_to_sell_may_upload(user):
    with pytest.raises(PermissionDenied):
        _upload(user)
    assert not ImportJob.objects.exists()


def test_a_job_that_a_worker_picks_up_again_writes_nothing_twice(vendor):
    upload = _upload(vendor)
    services.upload_confirm(actor=vendor, upload_id=upload.job.pk)

    assert import_process(job_id=upload.job.pk) is None  # done already: nothing to claim

    assert Listing.objects.filter(upload=upload.job).count() == 5
