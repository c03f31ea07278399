"""The listing services: a vendor lists a lead (typed in, or copied from a CRM lead), edits
it while unsold, withdraws it; staff approve or reject it once; some listings are approved
automatically. Rules, events and notifications are checked on the services themselves."""

from decimal import Decimal

import pytest

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, SubUserFactory, UserFactory
from leadnexus.core.exceptions import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leads.models import Lead
from leads.selectors import lead_list
from leads.tests.factories import LeadFactory
from marketplace.models import Listing
from marketplace.services import listings as services
from marketplace.services.review import listings_review
from marketplace.tests.factories import ListingFactory, PendingListingFactory, VendorFactory, VendorUserFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

PERSON = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@engines.com",
    "phone": "+1 415 555 0100",
    "company": "Analytical Engines Inc.",
    "job_title": "VP of Sales",
    "industry": "SaaS",
    "location": "Austin, TX",
    "employee_count": 120,
}
TERMS = {"title": "VP of Sales, SaaS, Austin", "description": "Decision maker.", "price": "120", "exclusive": True}


@pytest.fixture
def vendor():
    return VendorUserFactory()


@pytest.fixture
def staff():
    return StaffUserFactory()


def _events(name: str, listing: Listing) -> list[Event]:
    return list(Event.objects.filter(name=name, subject_type="marketplace.listing", subject_id=str(listing.pk)))


# --- Create --------------------------------------------------------------------------------------


def test_a_vendor_lists_a_lead_which_waits_for_review(vendor):
    listing = services.listing_create(actor=vendor, data={**PERSON, **TERMS})

    assert listing.approval_status == "pending" and listing.status == "available"
    assert (listing.title, listing.price, listing.exclusive, listing.max_sales) == (
        TERMS["title"],
        Decimal("120.00"),
        True,
        1,
    )
    lead = listing.lead
    assert lead.is_inventory and lead.source == Lead.Source.LISTING and lead.organization_id == vendor.organization_id
    assert (listing.industry, listing.location, listing.employee_count) == ("SaaS", "Austin, TX", 120)
    assert listing.lead_score == lead.score > 0 and listing.validation_status == lead.validation_status == "valid"
    assert listing.vendor_quality is None
    assert _events("marketplace.listing.created", listing)[0].actor == vendor
    # inventory stays out of the vendor's CRM list
    assert not lead_list(user=vendor).exists()


def test_an_invalid_listing_names_each_problem(vendor):
    with pytest.raises(ValidationFailed) as error:
        services.listing_create(
            actor=vendor, data={**PERSON, "title": "", "price": "cheap", "exclusive": "maybe", "max_sales": 3}
        )

    assert set(error.value.details) == {"title", "price", "exclusive"}
    assert not Listing.objects.exists() and not Lead.objects.exists()


def test_an_exclusive_listing_sells_once(vendor):
    with pytest.raises(ValidationFailed) as error:
        services.listing_create(actor=vendor, data={**PERSON, **TERMS, "exclusive": True, "max_sales": 3})

    assert error.value.details == {"max_sales": ["An exclusive listing sells once."]}


def test_a_shared_listing_sells_up_to_max_sales_and_prices_read_like_people_type_them(vendor):
    listing = services.listing_create(
        actor=vendor, data={**PERSON, **TERMS, "exclusive": "no", "max_sales": "5", "price": "$1,250.50"}
    )

    assert (listing.exclusive, listing.max_sales, listing.price) == (False, 5, Decimal("1250.50"))


def test_an_unreachable_person_cannot_be_listed(vendor):
    with pytest.raises(ValidationFailed) as error:
        services.listing_create(actor=vendor, data={**PERSON, **TERMS, "email": "not-an-email", "phone": "12"})

    assert "email" in error.value.details
    assert not Listing.objects.exists()


def test_the_same_person_in_a_live_listing_is_a_conflict(vendor):
    first = services.listing_create(actor=vendor, data={**PERSON, **TERMS})

    with pytest.raises(Conflict) as error:
        services.listing_create(actor=vendor, data={**PERSON, **TERMS, "email": "ADA@engines.com", "phone": ""})

    assert error.value.status == 409 and error.value.details == {"duplicate_of": first.pk}
    assert Listing.objects.count() == 1


def test_a_withdrawn_listing_does_not_stop_listing_the_person_again(vendor):
    first = services.listing_create(actor=vendor, data={**PERSON, **TERMS})
    services.listing_withdraw(actor=vendor, listing_id=first.pk)

    again = services.listing_create(actor=vendor, data={**PERSON, **TERMS})

    assert again.pk != first.pk and again.lead_id != first.lead_id


def test_another_vendor_may_list_the_same_person(vendor):
    services.listing_create(actor=vendor, data={**PERSON, **TERMS})

    other = services.listing_create(actor=VendorUserFactory(), data={**PERSON, **TERMS})

    assert other.vendor_id != vendor.organization_id


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: UserFactory(),  # a buyer-only organization
        lambda: SubUserFactory(parent=VendorUserFactory(), permissions={"can_sell": False}),
    ],
    ids=["buyer-org", "vendor-sub-user-without-can-sell"],
)
def test_only_members_allowed_to_sell_may_list(make_user):
    with pytest.raises(PermissionDenied):
        services.listing_create(actor=make_user(), data={**PERSON, **TERMS})


# --- From a CRM lead -----------------------------------------------------------------------------


def test_listing_a_crm_lead_copies_it_and_leaves_the_crm_lead_alone(vendor):
    crm = LeadFactory(organization=vendor.organization, email="grace@navy.com", company="US Navy", job_title="CTO")
    crm.industry, crm.location, crm.notes = "Defense", "Arlington, VA", "met at a fair"
    crm.save()
    before = {name: getattr(crm, name) for name in ("email", "company", "status", "is_inventory", "source")}

    listing = services.listing_create_from_lead(actor=vendor, lead_id=crm.pk, data={"title": "CTO", "price": "80"})

    crm.refresh_from_db()
    assert {name: getattr(crm, name) for name in before} == before
    copy = listing.lead
    assert copy.pk != crm.pk and copy.is_inventory and copy.source == Lead.Source.LISTING
    assert (copy.email, copy.company, copy.job_title, copy.notes) == (
        "grace@navy.com",
        "US Navy",
        "CTO",
        "met at a fair",
    )
    assert (listing.industry, listing.location) == ("Defense", "Arlington, VA")
    assert list(lead_list(user=vendor)) == [crm]


def test_only_ones_own_crm_leads_can_be_listed(vendor):
    theirs = LeadFactory()
    inventory = ListingFactory(vendor=vendor.organization).lead

    for lead_id in (theirs.pk, inventory.pk):
        with pytest.raises(NotFound):
            services.listing_create_from_lead(actor=vendor, lead_id=lead_id, data=TERMS)


# --- Edit and withdraw ---------------------------------------------------------------------------


def test_the_vendor_edits_an_unsold_listing_and_the_change_is_recorded(vendor):
    listing = ListingFactory(vendor=vendor.organization, price=Decimal("25.00"))

    services.listing_update(actor=vendor, listing_id=listing.pk, changes={"price": "30", "description": "Better."})

    listing.refresh_from_db()
    assert (listing.price, listing.description) == (Decimal("30.00"), "Better.")
    event = _events("marketplace.listing.updated", listing)[0]
    assert event.actor == vendor
    assert event.data == {"price": ["25.00", "30.00"], "description": ["A qualified contact.", "Better."]}


def test_a_sold_or_withdrawn_listing_can_no_longer_be_edited(vendor):
    sold = ListingFactory(vendor=vendor.organization, exclusive=False, max_sales=3, sold_count=1)
    withdrawn = ListingFactory(vendor=vendor.organization, status="withdrawn")

    for listing in (sold, withdrawn):
        with pytest.raises(Conflict):
            services.listing_update(actor=vendor, listing_id=listing.pk, changes={"price": "99"})
    sold.refresh_from_db()
    assert sold.price == Decimal("25.00")


def test_another_vendors_listing_is_not_found(vendor):
    listing = ListingFactory()

    with pytest.raises(NotFound):
        services.listing_update(actor=vendor, listing_id=listing.pk, changes={"price": "1"})
    with pytest.raises(NotFound):
        services.listing_withdraw(actor=vendor, listing_id=listing.pk)


def test_editing_a_rejected_listing_sends_it_back_to_review(vendor):
    listing = ListingFactory(vendor=vendor.organization, approval_status="rejected", rejection_reason="Too dear")

    services.listing_update(actor=vendor, listing_id=listing.pk, changes={"price": "10"})

    listing.refresh_from_db()
    assert listing.approval_status == "pending"
    assert _events("marketplace.listing.updated", listing)[0].data["approval_status"] == ["rejected", "pending"]


def test_withdrawing_takes_the_listing_off_sale_once(vendor):
    listing = ListingFactory(vendor=vendor.organization)

    services.listing_withdraw(actor=vendor, listing_id=listing.pk)
    services.listing_withdraw(actor=vendor, listing_id=listing.pk)

    listing.refresh_from_db()
    assert listing.status == "withdrawn"
    events = _events("marketplace.listing.withdrawn", listing)
    assert len(events) == 1 and events[0].data == {"from": "available", "to": "withdrawn"}


def test_a_listing_being_paid_for_cannot_be_withdrawn(vendor):
    listing = ListingFactory(vendor=vendor.organization, reserved_count=1)

    with pytest.raises(Conflict):
        services.listing_withdraw(actor=vendor, listing_id=listing.pk)


# --- Review ---------------------------------------------------------------------------------------


def test_staff_approve_a_pending_listing_and_its_vendor_is_told(vendor, staff):
    listing = PendingListingFactory(vendor=vendor.organization, created_by=vendor)

    services.listing_approve(actor=staff, listing_id=listing.pk)

    listing.refresh_from_db()
    assert (listing.approval_status, listing.reviewed_by, listing.rejection_reason) == ("approved", staff, "")
    assert listing.reviewed_at is not None
    event = _events("marketplace.listing.approved", listing)[0]
    assert event.actor == staff and event.data == {"from": "pending", "to": "approved"}
    note = Notification.objects.get(user=vendor)
    assert note.title == f"Listing approved: {listing.title}" and note.link == f"/marketplace/listings/{listing.pk}/"


def test_staff_reject_with_a_reason_the_vendor_reads(vendor, staff):
    listing = PendingListingFactory(vendor=vendor.organization, created_by=vendor)

    services.listing_reject(actor=staff, listing_id=listing.pk, reason="  No consent to be contacted.  ")

    listing.refresh_from_db()
    assert (listing.approval_status, listing.rejection_reason) == ("rejected", "No consent to be contacted.")
    assert _events("marketplace.listing.rejected", listing)[0].data["reason"] == "No consent to be contacted."
    assert Notification.objects.get(user=vendor).message == "Reason: No consent to be contacted."


def test_a_rejection_needs_a_reason(staff):
    listing = PendingListingFactory()

    with pytest.raises(ValidationFailed) as error:
        services.listing_reject(actor=staff, listing_id=listing.pk, reason="   ")

    assert "reason" in error.value.details
    listing.refresh_from_db()
    assert listing.approval_status == "pending"


@pytest.mark.parametrize(
    ("start", "decide"),
    [
        ("approved", "approve"),
        ("approved", "reject"),
        ("rejected", "approve"),
        ("rejected", "reject"),
    ],
)
def test_a_listing_is_reviewed_once(staff, start, decide):
    listing = ListingFactory(approval_status=start)

    with pytest.raises(IllegalTransition) as error:
        if decide == "approve":
            services.listing_approve(actor=staff, listing_id=listing.pk)
        else:
            services.listing_reject(actor=staff, listing_id=listing.pk, reason="No.")

    assert error.value.status == 409 and error.value.code == "illegal_transition"


def test_a_vendor_cannot_approve_their_own_listing(vendor):
    listing = PendingListingFactory(vendor=vendor.organization)

    with pytest.raises(PermissionDenied):
        services.listing_approve(actor=vendor, listing_id=listing.pk)
    listing.refresh_from_db()
    assert listing.approval_status == "pending"


def test_not_even_a_staff_member_reviews_their_own_organizations_listing():
    staff = StaffUserFactory()
    staff.organization.is_vendor = True
    staff.organization.save()
    listing = PendingListingFactory(vendor=staff.organization)

    with pytest.raises(PermissionDenied):
        services.listing_approve(actor=staff, listing_id=listing.pk)
    with pytest.raises(PermissionDenied):
        services.listing_reject(actor=staff, listing_id=listing.pk, reason="Mine.")


def test_review_of_many_reports_what_it_left_alone(staff):
    pending = PendingListingFactory.create_batch(2)
    done_already = ListingFactory()

    result = listings_review(
        actor=staff, listing_ids=[pending[0].pk, done_already.pk, pending[1].pk, 10**12], decision="approve"
    )

    assert result.done == [pending[0].pk, pending[1].pk]
    assert set(result.skipped) == {done_already.pk, 10**12}
    assert Listing.objects.filter(approval_status="approved").count() == 3


def test_review_of_many_is_staff_only_and_a_rejection_needs_a_reason(vendor, staff):
    listing = PendingListingFactory()

    with pytest.raises(PermissionDenied):
        listings_review(actor=vendor, listing_ids=[listing.pk], decision="approve")
    with pytest.raises(ValidationFailed):
        listings_review(actor=staff, listing_ids=[listing.pk], decision="reject", reason="")


# --- Automatic approval --------------------------------------------------------------------------


def test_valid_leads_scoring_high_enough_from_verified_vendors_skip_the_queue(vendor, settings):
    settings.LISTING_AUTO_APPROVE_SCORE = 50

    listing = services.listing_create(actor=vendor, data={**PERSON, **TERMS})

    assert listing.lead_score >= 50 and listing.approval_status == "approved" and listing.reviewed_by is None
    event = _events("marketplace.listing.approved", listing)[0]
    assert event.actor is None and event.data["automatic"] is True


@pytest.mark.parametrize(
    ("threshold", "verified", "person"),
    [
        (None, True, PERSON),  # the setting is off
        (50, False, PERSON),  # an unverified vendor
        (100, True, PERSON),  # below the threshold
        (0, True, {**PERSON, "email": "info@engines.com"}),  # risky: a shared mailbox
    ],
    ids=["off", "unverified-vendor", "low-score", "risky-lead"],
)
def test_other_listings_wait_for_review(settings, threshold, verified, person):
    settings.LISTING_AUTO_APPROVE_SCORE = threshold
    vendor = UserFactory(organization=VendorFactory(verified=verified), role=User.Role.MANAGEMENT)

    listing = services.listing_create(actor=vendor, data={**person, **TERMS})

    assert listing.approval_status == "pending"
