"""One organization's records, every kind a route can name, with the text a user typed into
them chosen by the caller (`text(field)`): distinctive markers for the authorization sweep,
HTML and script for the escaping checks."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.devices import Device
from accounts.models import ApiToken, User, UserSession
from accounts.services.sessions import session_start
from accounts.services.tokens import api_token_create
from accounts.tests.factories import OrganizationFactory, SubUserFactory, UserFactory
from analytics.tests.factories import ReportExportFactory, ReportSubscriptionFactory
from crm.models import Activity, Opportunity
from crm.services.opportunities import opportunity_move
from crm.tests.campaign_support import campaign_make
from crm.tests.factories import ActivityFactory, ContactFactory, OpportunityFactory, WebhookEndpointFactory
from leads.models import ImportJob
from leads.tests.factories import AssignmentRuleFactory, CaptureFormFactory, LeadFactory, SubmissionFactory
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_create_intent
from marketplace.services.search import search_goal_create
from marketplace.tests.factories import (
    DisputeFactory,
    ListingFactory,
    PendingListingFactory,
    SavedSearchFactory,
    SoldLeadFactory,
    VendorFactory,
)
from notifications.models import Notification, NotificationType
from notifications.services import notification_send

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
ALL_FLAGS = {
    "can_view_leads": True,
    "can_edit_leads": True,
    "can_add_leads": True,
    "can_view_all_org_leads": True,
    "can_buy": True,
    "can_sell": True,
    "can_export": True,
}


@dataclass
class World:
    owner: User
    objects: dict = field(default_factory=dict)
    # The strings a user typed, by field: none may reach anyone outside the organization.
    texts: dict = field(default_factory=dict)


def sub_user(owner: User, *, role: str, without: tuple[str, ...] = ()) -> User:
    """A sub-user of `owner` with every permission flag but those `without`."""
    return SubUserFactory(parent=owner, role=role, permissions={**ALL_FLAGS, **dict.fromkeys(without, False)})


def world_build(text) -> World:
    """A buyer-and-vendor organization whose management user made one of everything."""
    texts = {}

    def typed(name: str) -> str:
        texts[name] = text(name)
        return texts[name]

    organization = OrganizationFactory(name=typed("organization_name"), is_buyer=True, is_vendor=True)
    owner = UserFactory(organization=organization, full_name=typed("user_full_name"))
    by_owner = {"created_by": owner, "assigned_to": owner}

    def person(kind: str, *fields: str) -> dict:
        texts[f"{kind}_email"] = f"victim.{kind}@victim-secret.example.com"
        return {"email": texts[f"{kind}_email"], **{name: typed(f"{kind}_{name}") for name in fields}}

    lead = LeadFactory(
        organization=organization,
        **by_owner,
        **person("lead", "first_name", "last_name", "company", "job_title", "location"),
    )
    contact = ContactFactory(**by_owner, **person("contact", "first_name", "last_name", "company", "position", "notes"))
    opportunity = OpportunityFactory(
        **by_owner, title=typed("opportunity_title"), lead=lead, contact=contact, amount=Decimal("1200.00")
    )
    activity = ActivityFactory(
        **by_owner, subject=typed("activity_subject"), body=typed("activity_body"), opportunity=opportunity
    )
    campaign = campaign_make(
        owner,
        name=typed("campaign_name"),
        steps=[
            {
                "subject": typed("campaign_subject") + " {{ first_name }}",
                "body": typed("campaign_body") + " {{ first_name }}",
            }
        ],
    )
    webhook = WebhookEndpointFactory(created_by=owner, description=typed("webhook_description"))
    form = CaptureFormFactory(organization=organization, name=typed("form_name"))
    submission = SubmissionFactory(
        form=form,
        lead=lead,
        data={"email": lead.email, "notes": typed("form_notes")},
        attachment=SimpleUploadedFile("brief.pdf", PDF, content_type="application/pdf"),
        attachment_name="brief.pdf",
        attachment_content_type="application/pdf",
    )
    rule = AssignmentRuleFactory(organization=organization, name=typed("rule_name"), members=[owner])
    jobs = {
        kind: ImportJob.objects.create(
            organization=organization, created_by=owner, kind=kind, file_name=typed(f"{kind}_file_name") + ".csv"
        )
        for kind in ImportJob.Kind.values
    }
    # Selling: a live listing and one waiting for review; a sale of the live one.
    listing = ListingFactory(
        vendor=organization, created_by=owner, title=typed("listing_title"), description=typed("listing_description")
    )
    pending_listing = PendingListingFactory(vendor=organization, created_by=owner, title=typed("pending_title"))
    sale_dispute = DisputeFactory(
        purchase=SoldLeadFactory(listing=ListingFactory(vendor=organization, created_by=owner)),
        details=typed("sale_dispute_details"),
    )
    # Buying: a purchase from another vendor, disputed; an order and a cart item waiting.
    seller = VendorFactory()
    purchase = SoldLeadFactory(
        listing=ListingFactory(vendor=seller),
        buyer=organization,
        delivered_lead=LeadFactory(organization=organization, email="victim.bought@victim-secret.example.com"),
        purchased_by=owner,
    )
    dispute = DisputeFactory(purchase=purchase, details=typed("dispute_details"))
    cart_add(actor=owner, listing_id=ListingFactory(vendor=seller).pk)
    order = checkout_create_intent(actor=owner)
    cart_item = cart_add(actor=owner, listing_id=ListingFactory(vendor=seller).pk)
    seller_listing = ListingFactory(vendor=seller)
    saved_search = SavedSearchFactory(user=owner, name=typed("saved_search_name"))
    goal = search_goal_create(actor=owner, goal=typed("search_goal"))
    subscription = ReportSubscriptionFactory(user=owner)
    export = ReportExportFactory(user=owner, date_from=timezone.localdate() - timedelta(days=7))
    notification_send(user=owner, type=NotificationType.ASSIGNMENT, title=typed("notification_title"), message="")
    token = api_token_create(actor=owner, name=typed("api_token_name"))
    device = Device(ip="198.51.100.7", user_agent="victim-browser")
    session = session_start(user=owner, kind=UserSession.Kind.PAGE, device=device, notify=False)
    member = sub_user(owner, role=User.Role.SALES_REP)
    objects = {
        "lead": lead,
        "contact": contact,
        "opportunity": opportunity,
        "activity": activity,
        "campaign": campaign,
        "webhook": webhook,
        "form": form,
        "submission": submission,
        "rule": rule,
        "lead_import": jobs[ImportJob.Kind.LEADS],
        "contact_import": jobs[ImportJob.Kind.CONTACTS],
        "upload": jobs[ImportJob.Kind.LISTINGS],
        "listing": listing,
        "pending_listing": pending_listing,
        "sale_dispute": sale_dispute,
        "purchase": purchase,
        "bought_lead": purchase.delivered_lead,
        "seller_listing": seller_listing,
        "dispute": dispute,
        "order": order,
        "cart_item": cart_item,
        "saved_search": saved_search,
        "goal": goal,
        "subscription": subscription,
        "export": export,
        "notification": Notification.objects.get(user=owner),
        "token": ApiToken.objects.get(pk=token.token.pk),
        "session": session,
        "member": member,
        "closed_opportunity": opportunity_move(
            actor=owner,
            opportunity_id=OpportunityFactory(**by_owner, title=typed("lost_title")).pk,
            stage=Opportunity.Stage.CLOSED_LOST,
            lost_reason=typed("lost_reason"),
        ),
        "lead_activity": ActivityFactory(
            **by_owner, lead=lead, opportunity=None, subject=typed("lead_activity_subject"), kind=Activity.Kind.NOTE
        ),
    }
    return World(owner=owner, objects=objects, texts=texts)
