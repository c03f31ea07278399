"""A small marketplace with a CRM in use, so that every role the fuzzer signs in as lists,
reads and changes real records rather than empty pages.

Three organizations: a buyer, a vendor, and one that does both with a sales rep under its
management user; plus a staff member. The buyer has bought from the vendor and from the
organization that does both (which has bought from the vendor too) and disputes a purchase;
every organization has leads, contacts, a deal with activities, a campaign, a webhook, an
assignment rule, a capture form with a submission, imports, report exports and subscriptions,
an API token and notifications, and the buying ones saved searches, goals and a cart.
"""

from decimal import Decimal

from accounts.models import User
from accounts.services.tokens import api_token_create
from accounts.tests.factories import OrganizationFactory, StaffUserFactory, SubUserFactory, UserFactory
from analytics.services.subscriptions import report_subscription_create
from analytics.tests.factories import ReportExportFactory
from crm.services.campaigns import campaign_create
from crm.tests.factories import ActivityFactory, ContactFactory, OpportunityFactory, WebhookEndpointFactory
from leads.imports.services import import_upload
from leads.models import ImportJob
from leads.tests.factories import AssignmentRuleFactory, CaptureFormFactory, LeadFactory, SubmissionFactory
from leads.tests.factories import spreadsheet_upload as upload
from marketplace.models import Dispute
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.services.disputes import dispute_open
from marketplace.services.listings import listings_search_index
from marketplace.services.saved_searches import saved_search_create
from marketplace.services.search import search_goal_create
from marketplace.tests.factories import ListingFactory, PendingListingFactory, VendorUserFactory
from notifications.models import Notification, NotificationType

ROLES = ("buyer", "vendor", "sales_rep", "management", "staff")
CARD = "4242424242424242"  # the mock provider's card that succeeds
LEADS_CSV = "Email,First name,Last name,Company\nana@example.com,Ana,Lopez,Acme\n"
LISTINGS_CSV = "title,price,email,first_name,company\nCTO at Acme,30,cto@acme.example,Dana,Acme\n"


def seed() -> dict[str, User]:
    """The users to sign in as, by role."""
    buyer = UserFactory(organization=OrganizationFactory(name="Buyer Co"))
    vendor = VendorUserFactory()
    management = UserFactory(organization=OrganizationFactory(name="Both Co", is_vendor=True))
    # A rep who sees and edits only their own records, and may not add, buy, sell or export.
    rep = SubUserFactory(
        parent=management,
        permissions={"can_add_leads": False, "can_buy": False, "can_sell": False, "can_export": False},
    )
    staff = StaffUserFactory()

    listings = [ListingFactory(vendor=vendor.organization, created_by=vendor) for _ in range(3)]
    listings += [ListingFactory(vendor=management.organization, created_by=management)]
    PendingListingFactory(vendor=vendor.organization, created_by=vendor)
    listings_search_index([listing.pk for listing in listings])
    _purchase(buyer, [listings[0], listings[3]])
    _purchase(management, [listings[1]])
    for user in (buyer, management):
        cart_add(actor=user, listing_id=listings[2].pk)
    import_upload(actor=vendor, kind=ImportJob.Kind.LISTINGS, file=upload("listings.csv", LISTINGS_CSV))

    for owner, assignee in ((buyer, buyer), (vendor, vendor), (management, rep)):
        _workspace(owner, assignee)
    for user in (rep, staff):
        _notifications(user)
    return {"buyer": buyer, "vendor": vendor, "sales_rep": rep, "management": management, "staff": staff}


def _purchase(buyer: User, listings: list) -> None:
    """Buy the listings and dispute the first."""
    for listing in listings:
        cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD)
    purchase = order.items.get(listing=listings[0]).purchase
    dispute_open(actor=buyer, purchase_id=purchase.pk, reason=Dispute.Reason.INVALID_EMAIL, details="It bounced.")


def _workspace(owner: User, assignee: User) -> None:
    """The CRM of `owner`'s organization, its records assigned to `assignee`."""
    org = owner.organization
    leads = [LeadFactory(organization=org, created_by=owner, assigned_to=assignee) for _ in range(2)]
    contact = ContactFactory(created_by=owner, assigned_to=assignee)
    deal = OpportunityFactory(created_by=owner, assigned_to=assignee, contact=contact, amount=Decimal("1200.00"))
    ActivityFactory(created_by=owner, assigned_to=assignee, opportunity=deal)
    ActivityFactory(created_by=owner, assigned_to=assignee, opportunity=None, lead=leads[0], kind="note")
    campaign_create(
        actor=owner, data={"name": "Spring offer", "steps": [{"subject": "Hello {{ first_name }}", "body": "Hi"}]}
    )
    WebhookEndpointFactory(created_by=owner)
    AssignmentRuleFactory(organization=org, members=[assignee])
    SubmissionFactory(form=CaptureFormFactory(organization=org, notify_users=[owner]))
    if org.is_buyer:
        saved_search_create(actor=owner, name="Software", filters={"industry": ["Software"]})
        search_goal_create(actor=owner, goal="CTOs of software companies in California")
    for kind in (ImportJob.Kind.LEADS, ImportJob.Kind.CONTACTS):
        import_upload(actor=owner, kind=kind, file=upload(f"{kind}.csv", LEADS_CSV))
    ReportExportFactory(user=owner)
    report_subscription_create(actor=owner, kind="leads", frequency="weekly")
    api_token_create(actor=owner, name="Integration")
    _notifications(owner)


def _notifications(user: User) -> None:
    for n in range(2):
        Notification.objects.create(user=user, type=NotificationType.ACCOUNT, title=f"Notice {n}")
