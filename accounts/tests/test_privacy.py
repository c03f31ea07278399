"""One person's data: exported as one bundle with every record holding it, erased across
every table of the organization (or of all, by staff), sold leads kept anonymised with their
amounts and the ledger unchanged; both audited without the raw email."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services.privacy import person_erase, person_export
from accounts.tests.factories import StaffUserFactory, UserFactory
from crm.models import (
    Activity,
    Campaign,
    CampaignMessage,
    CampaignRecipient,
    CampaignStep,
    Contact,
    EmailSuppression,
    Opportunity,
    WebhookDelivery,
)
from crm.selectors_campaigns import audience_of
from crm.services.campaign_tracking import suppression_add
from crm.tests.factories import ActivityFactory, ContactFactory, OpportunityFactory, WebhookDeliveryFactory
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, NotFound, PermissionDenied
from leadnexus.core.models import Event
from leadnexus.core.privacy import Person
from leads.models import Lead, Submission
from leads.tests.factories import CaptureFormFactory, LeadFactory, SubmissionFactory
from marketplace.models import Listing, Purchase
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.tests.factories import ContactListingFactory, DisputeFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK, assert_ledger_balanced, balances_of
from notifications.models import EmailMessage, Notification

pytestmark = pytest.mark.django_db

EMAIL = "jane@acme.com"
PHONE = "+14155554567"


@pytest.fixture
def world(private_files):
    """Jane (jane@acme.com) sold by a vendor to a buyer, who also has her as a contact, a
    campaign recipient, a form submitter, in a webhook payload, an event and a notification;
    another organization has its own lead of her."""
    vendor = VendorUserFactory()
    buyer = UserFactory()
    listing = ContactListingFactory(vendor=vendor.organization, price=Decimal("40.00"))
    unsold = ContactListingFactory(vendor=vendor.organization)
    cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
    purchase = Purchase.objects.get(listing=listing)
    org = buyer.organization

    contact = ContactFactory(
        created_by=buyer, first_name="Jane", email=EMAIL, phone=PHONE, lead=purchase.delivered_lead
    )
    ActivityFactory(
        created_by=buyer, opportunity=None, contact=contact, subject="Call Jane", body=f"Reach her at {EMAIL}"
    )
    ActivityFactory(created_by=buyer, opportunity=None, lead=purchase.delivered_lead, subject="Intro")
    deal = OpportunityFactory(created_by=buyer, contact=contact, title=f"Deal ({EMAIL})", amount=Decimal("900"))
    campaign = Campaign.objects.create(organization=org, name="Spring", status=Campaign.Status.SENT)
    step = CampaignStep.objects.create(campaign=campaign, position=1, subject="Hi", body="Hello {{ first_name }}")
    recipient = CampaignRecipient.objects.create(
        campaign=campaign, email=EMAIL, contact=contact, merge_fields={"first_name": "Jane", "email": EMAIL}
    )
    sent = EmailMessage.objects.create(to=EMAIL, template="crm/campaign", subject="Hi Jane", text=f"To {EMAIL}")
    CampaignMessage.objects.create(step=step, recipient=recipient, email=sent, status=CampaignMessage.Status.SENT)
    suppression_add(organization_id=org.pk, email=EMAIL, reason="unsubscribed", campaign=campaign)
    submission = SubmissionFactory(
        form=CaptureFormFactory(organization=org),
        lead=LeadFactory(organization=org, email=EMAIL.upper(), source="form"),
        data={"email": EMAIL, "first_name": "Jane"},
        attachment=SimpleUploadedFile("cv.pdf", b"%PDF-1.4 Jane"),
        attachment_name="cv.pdf",
    )
    WebhookDeliveryFactory(endpoint__created_by=buyer, payload={"data": {"email": EMAIL}})
    publish("test.person.noted", org=org.pk, data={"email": EMAIL})
    publish("test.contact.renamed", org=org.pk, subject=contact, data={"changes": {"first_name": ["Jane", "Janet"]}})
    Notification.objects.create(user=buyer, type="new_lead", title=f"New lead {EMAIL}")
    EmailMessage.objects.create(to=buyer.email, template="t", subject="New lead", text=f"Call {EMAIL} today")
    dispute = DisputeFactory(purchase=purchase, details=f"{EMAIL} bounces")
    other = LeadFactory(email=EMAIL)  # another organization's own lead of her
    return {
        "vendor": vendor, "buyer": buyer, "listing": listing, "unsold": unsold, "purchase": purchase,
        "contact": contact, "deal": deal, "recipient": recipient, "submission": submission, "other": other,
        "dispute": dispute,
    }  # fmt: skip


def test_the_export_holds_every_record_of_the_person_in_the_organization(world):
    buyer = world["buyer"]

    bundle = person_export(actor=buyer, email="Jane@Acme.com")

    found = bundle.document["records"]
    for table in (
        "leads.lead", "leads.submission", "crm.contact", "crm.activity", "crm.opportunity", "crm.campaignrecipient",
        "crm.campaignmessage", "notifications.emailmessage", "crm.emailsuppression", "crm.webhookdelivery",
        "core.event", "marketplace.purchase", "marketplace.dispute", "notifications.notification",
    ):  # fmt: skip
        assert found[table], table
    lead_ids = {row["id"] for row in found["leads.lead"]}
    assert lead_ids == {world["purchase"].delivered_lead_id, world["submission"].lead_id}
    assert all(row["organization_id"] == buyer.organization_id for row in found["leads.lead"])
    name, content_type, content = bundle.file()
    assert content_type == "application/zip" and name.endswith(".zip")
    archive = zipfile.ZipFile(io.BytesIO(content))
    document = json.loads(archive.read("personal-data.json"))
    assert {row["id"] for row in document["records"]["crm.contact"]} == {world["contact"].pk}
    assert archive.read(f"attachments/submission-{world['submission'].pk}-cv.pdf") == b"%PDF-1.4 Jane"


def test_the_export_by_phone_finds_the_contact(world):
    bundle = person_export(actor=world["buyer"], phone="+1 415-555-4567")

    assert [row["id"] for row in bundle.document["records"]["crm.contact"]] == [world["contact"].pk]


def _mentions(organization_id: int | None = None) -> dict[str, int]:
    """Rows still holding the email, by table (within one organization, or anywhere)."""
    person = Person(email=EMAIL, phone=PHONE)
    by_org = {} if organization_id is None else {"organization_id": organization_id}
    counts = {
        "lead": Lead.objects.filter(person.matches(), **by_org).count(),
        "contact": Contact.objects.filter(person.matches(), **by_org).count(),
        "activity": Activity.objects.filter(person.mentioned_in("subject", "body"), **by_org).count(),
        "opportunity": Opportunity.objects.filter(person.mentioned_in("title"), **by_org).count(),
        "event": Event.objects.filter(
            person.mentioned_in("data"), **({} if organization_id is None else {"org_id": organization_id})
        ).count(),
    }
    campaigns = {} if organization_id is None else {"campaign__organization_id": organization_id}
    forms = {} if organization_id is None else {"form__organization_id": organization_id}
    endpoints = {} if organization_id is None else {"endpoint__organization_id": organization_id}
    users = {} if organization_id is None else {"user__organization_id": organization_id}
    counts |= {
        "recipient": CampaignRecipient.objects.filter(
            person.mentioned_in("email", "merge_fields"), **campaigns
        ).count(),
        "submission": Submission.objects.filter(person.mentioned_in("data"), **forms).count(),
        "webhook": WebhookDelivery.objects.filter(person.mentioned_in("payload"), **endpoints).count(),
        "suppression": EmailSuppression.objects.filter(email__iexact=EMAIL, **by_org).count(),
        "notification": Notification.objects.filter(person.mentioned_in("title", "message"), **users).count(),
    }
    return {table: count for table, count in counts.items() if count}


def test_erasing_removes_the_person_from_every_table_of_the_organization(world, private_files):
    buyer, purchase = world["buyer"], world["purchase"]
    balances = {org: balances_of(org) for org in (buyer.organization_id, world["vendor"].organization_id, None)}
    attachment = world["submission"].attachment.name

    erasure = person_erase(actor=buyer, email=EMAIL, phone=PHONE)

    assert _mentions(buyer.organization_id) == {}
    assert not Event.objects.filter(org_id=buyer.organization_id, data__icontains="jane").exists()
    assert not EmailMessage.objects.filter(Person.of(email=EMAIL).mentioned_in("to", "text")).exists()
    assert not private_files.exists(attachment)
    assert erasure.deleted["crm.contact"] == 1 and erasure.deleted["leads.submission"] == 1
    assert erasure.deleted["crm.activity"] == 2 and erasure.deleted["notifications.emailmessage"] == 1
    # The sale keeps its numbers: the delivered lead stays, anonymised; nothing of money moved.
    purchase.refresh_from_db()
    delivered = purchase.delivered_lead
    assert delivered.first_name == f"Erased person #{delivered.pk}" and delivered.email == delivered.phone == ""
    assert purchase.price == Decimal("40.00") and purchase.order_item.price == Decimal("40.00")
    assert {org: balances_of(org) for org in balances} == balances
    assert_ledger_balanced()
    world["dispute"].refresh_from_db()
    assert EMAIL not in world["dispute"].details
    world["deal"].refresh_from_db()
    assert world["deal"].amount == Decimal("900") and EMAIL not in world["deal"].title
    recipient = CampaignRecipient.objects.get(pk=world["recipient"].pk)
    assert recipient.email.endswith("@erased.invalid") and recipient.merge_fields == {}
    # The vendor's listing and the other organization's lead are theirs.
    assert Lead.objects.get(pk=world["listing"].lead_id).email == EMAIL
    assert Lead.objects.filter(pk=world["other"].pk).exists()
    assert _mentions() == {"lead": 3}


def test_an_erased_address_is_suppressed_by_its_digest_only(world):
    buyer = world["buyer"]

    person_erase(actor=buyer, email=EMAIL)
    LeadFactory(organization=buyer.organization, email=EMAIL)  # imported again later

    suppression = EmailSuppression.objects.get(organization=buyer.organization)
    assert suppression.email == "" and suppression.email_hash == Person.of(email=EMAIL).email_hash
    audience = audience_of(organization_id=buyer.organization_id, kind="leads", filters={}, user=buyer)
    assert EMAIL not in [person["email"] for person in audience.people]
    assert audience.excluded["unsubscribed"] == 1


def test_an_unsubscribed_address_still_matches_by_itself_under_a_new_secret_key(settings):
    manager = UserFactory()
    LeadFactory(organization=manager.organization, email=EMAIL)
    suppression_add(organization_id=manager.organization_id, email=EMAIL, reason="unsubscribed")
    settings.SECRET_KEY = "rotated-" + settings.SECRET_KEY

    audience = audience_of(organization_id=manager.organization_id, kind="leads", filters={}, user=manager)

    assert audience.people == [] and audience.excluded["unsubscribed"] == 1


def test_erasing_again_finds_nothing_left(world):
    person_erase(actor=world["buyer"], email=EMAIL, phone=PHONE)

    again = person_erase(actor=world["buyer"], email=EMAIL, phone=PHONE)

    assert again.nothing
    assert Event.objects.filter(name="accounts.person.erased").count() == 2


def test_staff_erase_every_organization_and_keep_the_vendors_sale_anonymised(world):
    vendor_balances = balances_of(world["vendor"].organization_id)

    erasure = person_erase(actor=StaffUserFactory(), email=EMAIL, phone=PHONE)

    assert _mentions() == {}
    assert not Lead.objects.filter(pk=world["other"].pk).exists()
    sold, unsold = (Listing.objects.select_related("lead").get(pk=world[name].pk) for name in ("listing", "unsold"))
    assert sold.status == Listing.Status.SOLD_OUT and sold.price == Decimal("40.00")
    assert unsold.status == Listing.Status.WITHDRAWN  # off the market
    for listing in (sold, unsold):
        assert listing.lead.first_name == f"Erased person #{listing.lead_id}" and listing.lead.email == ""
    assert balances_of(world["vendor"].organization_id) == vendor_balances
    assert erasure.anonymised["leads.lead"] == 3 and erasure.anonymised["marketplace.listing"] == 2
    assert world["other"].organization_id in erasure.organization_ids


def test_a_vendors_erasure_anonymises_its_listed_leads_and_leaves_the_buyers_copy(world):
    erasure = person_erase(actor=world["vendor"], email=EMAIL)

    for name in ("listing", "unsold"):
        assert Lead.objects.get(pk=world[name].lead_id).email == ""
    assert Listing.objects.get(pk=world["unsold"].pk).status == Listing.Status.WITHDRAWN
    assert Lead.objects.get(pk=world["purchase"].delivered_lead_id).email == EMAIL
    assert erasure.organization_ids == {world["vendor"].organization_id}
    assert_ledger_balanced()


def test_a_listing_being_paid_for_waits_and_nothing_is_erased(world):
    Listing.objects.filter(pk=world["unsold"].pk).update(reserved_count=1)

    with pytest.raises(Conflict):
        person_erase(actor=world["vendor"], email=EMAIL)

    assert Lead.objects.get(pk=world["unsold"].lead_id).email == EMAIL
    assert not Event.objects.filter(name="accounts.person.erased").exists()


def test_both_requests_are_audited_without_the_email(world):
    buyer = world["buyer"]

    person_export(actor=buyer, email=EMAIL)
    person_erase(actor=buyer, email=EMAIL)

    exported, erased = (Event.objects.get(name=name) for name in ("accounts.person.exported", "accounts.person.erased"))
    for event in (exported, erased):
        assert event.actor == buyer and event.org_id == buyer.organization_id
        assert event.data["email_hash"] == Person.of(email=EMAIL).email_hash
        assert "jane" not in json.dumps(event.data).lower()
    assert exported.data["records"]["crm.contact"] == 1
    assert erased.data["deleted"]["crm.contact"] == 1 and erased.data["anonymised"]["leads.lead"] == 1


def test_only_management_and_staff_may_and_only_within_their_scope(world):
    rep = UserFactory(organization=world["buyer"].organization, role="sales_rep")
    outsider = UserFactory()

    with pytest.raises(PermissionDenied):
        person_export(actor=rep, email=EMAIL)
    with pytest.raises(PermissionDenied):
        person_erase(actor=rep, email=EMAIL)
    with pytest.raises(NotFound):
        person_erase(actor=outsider, email=EMAIL, organization_id=world["buyer"].organization_id)
    assert person_export(actor=outsider, email=EMAIL).counts == {}
    assert person_erase(actor=outsider, email=EMAIL).nothing
    assert _mentions(world["buyer"].organization_id)
