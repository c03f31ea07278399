"""What each event changes in the rollups: the days it marks stale (`analytics.rollups` says
which records each family counts, and by which day)."""

from datetime import datetime

from analytics.services import rollup_day_mark
from crm.models import Activity, Opportunity
from leadnexus.core.events import subscribe
from leadnexus.core.models import Event
from leads.models import Lead
from marketplace.models import Dispute, Listing, Purchase

LEAD_EVENTS = (
    "leads.lead.created",
    "leads.lead.status_changed",
    "leads.lead.assigned",
    "leads.lead.converted",
    "leads.lead.deleted",
    "leads.lead.restored",
    "leads.lead.merged",
    "leads.lead.merged_into",
)
OPPORTUNITY_EVENTS = (
    "crm.opportunity.created",
    "crm.opportunity.updated",
    "crm.opportunity.stage_changed",
    "crm.opportunity.won",
    "crm.opportunity.lost",
    "crm.opportunity.reopened",
    "crm.opportunity.deleted",
)
ACTIVITY_EVENTS = ("crm.activity.created", "crm.activity.updated", "crm.activity.completed")
CLOSING_EVENTS = ("crm.opportunity.won", "crm.opportunity.lost")


def _subject(event: Event, model):
    return model.objects.filter(pk=event.subject_id).first() if event.subject_id.isdigit() else None


def _purchase_marked(purchase: Purchase) -> None:
    """A purchase counts for its buyer and its vendor, on the day it was made."""
    rollup_day_mark(organization_id=purchase.buyer_id, family="purchases", when=purchase.purchased_at)
    rollup_day_mark(organization_id=purchase.listing.vendor_id, family="sales", when=purchase.purchased_at)


def _bought_lead_marked(lead_id: int | None) -> None:
    """What became of a bought lead is a figure of the buyer's purchases."""
    if lead_id is None:
        return
    for purchase in Purchase.objects.filter(delivered_lead_id=lead_id).only("buyer_id", "purchased_at"):
        rollup_day_mark(organization_id=purchase.buyer_id, family="purchases", when=purchase.purchased_at)


def lead_days_mark(event: Event) -> None:
    lead = _subject(event, Lead)
    if lead is None or lead.is_inventory:
        return
    rollup_day_mark(organization_id=lead.organization_id, family="leads", when=lead.created_at)
    if lead.first_contacted_at:
        rollup_day_mark(organization_id=lead.organization_id, family="contact", when=lead.first_contacted_at)
    _bought_lead_marked(lead.pk)


def opportunity_days_mark(event: Event) -> None:
    opportunity = _subject(event, Opportunity)
    if opportunity is None:
        return
    closings = [opportunity.closed_at] if opportunity.closed_at else []
    if event.name == "crm.opportunity.reopened":  # the day it had closed no longer counts it
        closed = (
            Event.objects.filter(subject_type="crm.opportunity", subject_id=event.subject_id, name__in=CLOSING_EVENTS)
            .order_by("-pk")
            .first()
        )
        closings += [closed.created_at] if closed else []
    for when in closings:
        rollup_day_mark(organization_id=opportunity.organization_id, family="deals", when=when)
    _bought_lead_marked(opportunity.lead_id)


def activity_day_mark(event: Event) -> None:
    if event.name == "crm.activity.deleted":
        when = datetime.fromisoformat(event.data["created_at"]) if event.data.get("created_at") else None
    else:
        activity = _subject(event, Activity)
        when = activity.created_at if activity else None
    if when is not None:
        rollup_day_mark(organization_id=event.org_id, family="activities", when=when)


def purchase_days_mark(event: Event) -> None:
    purchase = _subject(event, Purchase)
    if purchase is not None:
        _purchase_marked(purchase)


def dispute_days_mark(event: Event) -> None:
    dispute = _subject(event, Dispute)
    if dispute is not None:
        _purchase_marked(dispute.purchase)


def listing_day_mark(event: Event) -> None:
    listing = _subject(event, Listing)
    if listing is not None and listing.reviewed_at:
        rollup_day_mark(organization_id=listing.vendor_id, family="listings", when=listing.reviewed_at)


for _names, _handler in (
    (LEAD_EVENTS, lead_days_mark),
    (OPPORTUNITY_EVENTS, opportunity_days_mark),
    ((*ACTIVITY_EVENTS, "crm.activity.deleted"), activity_day_mark),
    (("marketplace.purchase.completed",), purchase_days_mark),
    (("marketplace.dispute.opened", "marketplace.dispute.resolved"), dispute_days_mark),
    (("marketplace.listing.approved", "marketplace.listing.rejected"), listing_day_mark),
):
    for _name in _names:
        subscribe(_name)(_handler)
