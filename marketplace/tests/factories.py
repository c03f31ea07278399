from decimal import Decimal

import factory

from accounts.tests.factories import OrganizationFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from marketplace.models import Listing, Purchase


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
