from decimal import Decimal

import factory

from accounts.tests.factories import OrganizationFactory, UserFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from marketplace.models import Dispute, Listing, Purchase, SavedSearch

# The keys of the Listing payload of DESIGN §5 (catalog, detail, review queue).
LISTING_PAYLOAD = {
    "id",
    "title",
    "description",
    "industry",
    "location",
    "employee_count",
    "price",
    "currency",
    "exclusive",
    "max_sales",
    "remaining",
    "lead_score",
    "score",
    "validation_status",
    "approval_status",
    "status",
    "vendor",
    "company_name",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "is_masked",
    "is_purchased",
    "created_at",
}


class VendorFactory(OrganizationFactory):
    is_buyer = False
    is_vendor = True


class ListingFactory(factory.django.DjangoModelFactory):
    """An approved, available listing of a vendor, with its inventory lead."""

    class Meta:
        model = Listing

    vendor = factory.SubFactory(VendorFactory)
    lead = factory.LazyAttribute(
        lambda o: LeadFactory(organization=o.vendor, is_inventory=True, source=Lead.Source.LISTING)
    )
    title = factory.Sequence(lambda n: f"Decision maker #{n}")
    description = "A qualified contact."
    industry = "Software"
    location = "San Francisco, CA"
    employee_count = 120
    price = Decimal("25.00")
    exclusive = True
    max_sales = 1
    approval_status = Listing.ApprovalStatus.APPROVED
    status = Listing.Status.AVAILABLE
    lead_score = 60
    validation_status = "valid"


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    listing = factory.SubFactory(ListingFactory)
    buyer = factory.SubFactory(OrganizationFactory)
    price = factory.SelfAttribute("listing.price")
    vendor_earning = factory.SelfAttribute("price")


class SoldLeadFactory(PurchaseFactory):
    """A purchase whose lead was delivered into the buyer organization (a new lead there)."""

    delivered_lead = factory.LazyAttribute(lambda o: LeadFactory(organization=o.buyer, source=Lead.Source.MARKETPLACE))


class DisputeFactory(factory.django.DjangoModelFactory):
    """An open dispute of a purchase."""

    class Meta:
        model = Dispute

    purchase = factory.SubFactory(SoldLeadFactory)
    buyer = factory.SelfAttribute("purchase.buyer")
    vendor = factory.SelfAttribute("purchase.listing.vendor")
    reason = Dispute.Reason.INVALID_EMAIL


class ContactListingFactory(ListingFactory):
    """An approved listing whose lead has every masked field filled in: Jane Smith of
    Acme Inc., jane@acme.com, +1 415 555 4567, www.acme.com."""

    lead = factory.LazyAttribute(
        lambda o: LeadFactory(
            organization=o.vendor,
            is_inventory=True,
            source=Lead.Source.LISTING,
            first_name="Jane",
            last_name="Smith",
            email="jane@acme.com",
            phone="+1 415 555 4567",
            company="Acme Inc.",
            website="www.acme.com",
        )
    )


class VendorUserFactory(UserFactory):
    """A management member of a verified vendor organization: allowed to sell."""

    organization = factory.SubFactory(VendorFactory)


class PendingListingFactory(ListingFactory):
    """A listing waiting for review."""

    approval_status = Listing.ApprovalStatus.PENDING


class SavedSearchFactory(factory.django.DjangoModelFactory):
    """A buyer's saved search: software listings, alerts on."""

    class Meta:
        model = SavedSearch

    user = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("user.organization")
    name = factory.Sequence(lambda n: f"Saved search {n}")
    filters = factory.LazyFunction(lambda: {"industry": ["Software"]})
    notify = True
