"""Demo marketplace for `manage.py seed_demo`: a few thousand approved listings across
industries and US states from two vendors (Northwind Data and a second one made here), some
waiting for review, written in bulk with their inventory leads; search vectors are filled in
one statement at the end; a saved search of the demo buyer; and the buyer's first purchases,
made through the checkout itself (one refunded to the wallet after a dispute, one vendor
earning already released). Safe to run again."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from faker import Faker

from accounts.models import Organization, User
from accounts.services.users import organization_create, user_create
from leads.cleaning import apply_clean, lead_clean
from leads.models import Lead
from leads.scoring import score_lead
from marketplace.catalog_cache import catalog_changed
from marketplace.models import CATALOG, Dispute, Listing, Order, Purchase, SavedSearch
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.services.disputes import dispute_open, dispute_resolve, dispute_respond, earnings_release
from marketplace.services.listings import listings_search_index
from marketplace.services.saved_searches import saved_search_create

DEMO_PASSWORD = "leadnexus-demo-2026"
DEMO_CARD = "4242424242424242"  # the mock provider's card that succeeds
SECOND_VENDOR = "Contoso Leads"
SECOND_VENDOR_EMAIL = "vendor2@leadnexus.example"
SAVED_SEARCH_NAME = "Software companies in California"
# (vendor state key, approved listings, pending listings, random seed)
PLAN = (("vendor", 1800, 25, 41), ("vendor2", 1200, 15, 42))
INDUSTRIES = [
    "SaaS", "Software", "Healthcare", "Manufacturing", "Finance", "Retail", "Logistics", "Education",
    "Energy", "Real Estate", "Marketing", "Construction", "Insurance", "Legal", "Hospitality",
    "Telecommunications", "Biotech", "Cybersecurity",
]  # fmt: skip
PLACES = [
    ("San Francisco", "CA"), ("Los Angeles", "CA"), ("San Diego", "CA"), ("Austin", "TX"), ("Dallas", "TX"),
    ("Houston", "TX"), ("New York", "NY"), ("Buffalo", "NY"), ("Boston", "MA"), ("Seattle", "WA"),
    ("Portland", "OR"), ("Denver", "CO"), ("Chicago", "IL"), ("Miami", "FL"), ("Orlando", "FL"),
    ("Atlanta", "GA"), ("Phoenix", "AZ"), ("Salt Lake City", "UT"), ("Minneapolis", "MN"), ("Detroit", "MI"),
    ("Columbus", "OH"), ("Pittsburgh", "PA"), ("Philadelphia", "PA"), ("Raleigh", "NC"), ("Charlotte", "NC"),
    ("Nashville", "TN"), ("Newark", "NJ"), ("Baltimore", "MD"), ("Richmond", "VA"), ("Las Vegas", "NV"),
    ("Kansas City", "MO"), ("Milwaukee", "WI"), ("Indianapolis", "IN"), ("New Orleans", "LA"), ("Boise", "ID"),
]  # fmt: skip
TITLES = [
    "CEO", "CTO", "CFO", "VP of Sales", "VP of Marketing", "Head of Operations", "IT Director",
    "Procurement Manager", "Sales Director", "Founder", "Head of Growth", "Operations Manager",
]  # fmt: skip
SIZES = [8, 15, 30, 55, 80, 120, 250, 400, 800, 1500, 4000, 12000]
PRICES = [15, 20, 25, 35, 45, 60, 75, 90, 110, 120, 150, 180, 220, 250]


def seed(state: dict) -> None:
    _second_vendor(state)
    in_catalog = []
    for key, approved, pending, seed_value in PLAN:
        in_catalog += _listings(state[key], approved=approved, pending=pending, seed_value=seed_value)
    listings_search_index(in_catalog)
    catalog_changed()
    _saved_search(state["buyer"])
    _sales(state)


def _sales(state: dict) -> None:
    """Three listings bought by card, one of them disputed and refunded to the buyer's wallet,
    one whose dispute window has closed (its earning is available to the vendor)."""
    buyer, vendor, staff = state["buyer"], state["vendor"], state["staff"]
    if Order.objects.filter(buyer_id=buyer.organization_id).exists():
        return
    bought = Listing.objects.filter(CATALOG, vendor_id=vendor.organization_id, exclusive=True).order_by("-lead_score")
    for listing in bought[:3]:
        cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=DEMO_CARD)
    refunded, released, _pending = Purchase.objects.filter(order_item__order=order).order_by("id")
    dispute = dispute_open(
        actor=buyer, purchase_id=refunded.pk, reason=Dispute.Reason.INVALID_EMAIL, details="The address bounced."
    )
    dispute_respond(actor=vendor, dispute_id=dispute.pk, response="We checked it last month; sorry it bounced.")
    dispute_resolve(actor=staff, dispute_id=dispute.pk, decision=Dispute.Decision.REFUND, note="Bounce confirmed.")
    # As if two weeks had passed for this one: its window closes and its earning is released.
    Purchase.objects.filter(pk=released.pk).update(dispute_deadline=timezone.now())
    earnings_release()


def _saved_search(buyer: User) -> None:
    if not SavedSearch.objects.filter(user=buyer, name=SAVED_SEARCH_NAME).exists():
        saved_search_create(
            actor=buyer, name=SAVED_SEARCH_NAME, filters={"industry": ["SaaS", "Software"], "location": ["CA"]}
        )


def _second_vendor(state: dict) -> None:
    organization = Organization.objects.filter(name=SECOND_VENDOR, is_platform=False).first()
    if organization is None:
        organization = organization_create(name=SECOND_VENDOR, is_buyer=False, is_vendor=True)
    if not organization.verified:
        organization.verified = True
        organization.save(update_fields=["verified"])
    user = User.objects.filter(email=SECOND_VENDOR_EMAIL).first() or user_create(
        email=SECOND_VENDOR_EMAIL,
        password=DEMO_PASSWORD,
        organization=organization,
        full_name="Victor Vendor",
        role=User.Role.MANAGEMENT,
        email_verified=True,
    )
    state.update(vendor2_org=organization, vendor2=user)
    state["logins"].append(("Second vendor (management)", user.email, DEMO_PASSWORD))


def _raw(fake: Faker, rng: random.Random, city: str, region: str, industry: str) -> dict:
    first, last = fake.first_name(), fake.last_name()
    company = fake.company()
    domain = "".join(ch for ch in company.lower() if ch.isalnum())[:20] + ".example.com"
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}@{domain}".lower(),
        "phone": f"+1 {rng.randint(201, 989)} 555 {rng.randint(1000, 9999)}" if rng.random() < 0.75 else "",
        "company": company,
        "job_title": rng.choice(TITLES),
        "industry": industry,
        "location": f"{city}, {region}",
        "website": f"https://www.{domain}",
        "employee_count": rng.choice(SIZES),
        "annual_revenue": rng.choice(["500000", "2500000", "12000000", "80000000"]),
    }


def _listings(vendor: User, *, approved: int, pending: int, seed_value: int) -> list[int]:
    """The vendor's demo listings, once; the ids of the approved ones written now."""
    organization = vendor.organization
    if Lead.objects.filter(organization=organization, is_inventory=True, extra__demo_listing=True).exists():
        return []
    fake = Faker()
    fake.seed_instance(seed_value)
    rng = random.Random(seed_value)  # noqa: S311 - repeatable demo data, not a secret
    now = timezone.now()
    leads, listings = [], []
    for index in range(approved + pending):
        city, region = rng.choice(PLACES)
        industry = rng.choice(INDUSTRIES)
        raw = _raw(fake, rng, city, region, industry)
        lead = Lead(
            organization=organization,
            created_by=vendor,
            source=Lead.Source.LISTING,
            is_inventory=True,
            extra={"demo_listing": True},
        )
        apply_clean(lead, lead_clean(raw))
        lead.score, lead.score_breakdown = score_lead(lead, now=now)
        exclusive = rng.random() < 0.7
        is_pending = index >= approved
        listing = Listing(
            vendor=organization,
            created_by=vendor,
            title=f"{lead.job_title} · {lead.employee_count:,}-employee {industry} company · {city}, {region}",
            description=f"{lead.job_title} at a {industry.lower()} company in {city}. Verified contact, "
            f"{'sold to one buyer only' if exclusive else 'shared with a few buyers'}.",
            industry=industry,
            location=lead.location,
            employee_count=lead.employee_count,
            price=Decimal(rng.choice(PRICES)),
            exclusive=exclusive,
            max_sales=1 if exclusive else rng.choice([3, 5, 10]),
            approval_status=Listing.ApprovalStatus.PENDING if is_pending else Listing.ApprovalStatus.APPROVED,
            reviewed_at=None if is_pending else now,
            lead_score=lead.score,
            validation_status=lead.validation_status,
        )
        # Spread over three months, the pending ones the most recent.
        age = timedelta(hours=rng.randint(1, 48)) if is_pending else timedelta(minutes=rng.randint(60, 90 * 1440))
        listing.created_at = lead.created_at = now - age
        leads.append(lead)
        listings.append(listing)
    dates = [lead.created_at for lead in leads]
    Lead.objects.bulk_create(leads, batch_size=1000)
    for lead, listing in zip(leads, listings, strict=True):
        listing.lead = lead
    Listing.objects.bulk_create(listings, batch_size=1000)
    # auto_now_add overwrites the spread-out dates on insert; put them back in bulk.
    for lead, listing, created_at in zip(leads, listings, dates, strict=True):
        lead.created_at = listing.created_at = created_at
    Lead.objects.bulk_update(leads, ["created_at"], batch_size=1000)
    Listing.objects.bulk_update(listings, ["created_at"], batch_size=1000)
    return [listing.pk for listing in listings if listing.approval_status == Listing.ApprovalStatus.APPROVED]
