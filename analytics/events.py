"""What events change in analytics: the rollups' days they mark stale (`analytics.rollups`
says which records each family counts, and by which day), and the quality of the vendors
whose sold leads they concern (`analytics.quality`)."""

from datetime import datetime

from accounts.models import Organization
from analytics.dashboard_cache import dashboards_changed
from analytics.quality import vendor_quality_refresh, vendors_of_leads
from analytics.rollups import rollups_rebuild, rollups_recompute
from analytics.services.rollups import rollup_day_mark
from crm.models import Activity, Opportunity
from leadnexus.core.events import subscribe
from leadnexus.core.models import Event
from leads.events import LEAD_STATUS_CHANGED
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
# A contact or opportunity deleted past retention; its activities with it.
PURGE_EVENTS = ("crm.contact.purged", "crm.opportunity.purged")


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


def dashboards_follow(event: Event) -> None:
    """What a dashboard shows of now (the open pipeline, tasks) changed: its answers go."""
    if event.org_id:
        dashboards_changed(event.org_id)


@subscribe("accounts.organization.updated", run_async=True)
def rollups_follow_time_zone(event: Event) -> None:
    """Days are the organization's local days: a new time zone moves every one of them."""
    if "time_zone" in event.data.get("changes", {}):
        organization = Organization.objects.filter(pk=event.org_id).first()
        if organization is not None:
            rollups_rebuild(organization=organization)


def activities_purged_mark(event: Event) -> None:
    """A purged contact or opportunity took its activities with it: the days they were
    logged on (the organization's local days) count them no more."""
    organization = Organization.objects.filter(pk=event.org_id).only("time_zone").first()
    if organization is None:
        return
    logged = event.data.get("activities_logged", [])
    days = {datetime.fromisoformat(at).astimezone(organization.zone).date() for at in logged}
    for day in sorted(days):
        rollup_day_mark(organization_id=organization.pk, family="activities", when=day)


@subscribe("leads.lead.purged", run_async=True)
def rollups_follow_lead_purge(event: Event) -> None:
    """A purged lead took its activities with it, all logged while it lived, and a purchase
    that delivered it loses what became of it: those days are recomputed."""
    organization = Organization.objects.filter(pk=event.org_id).first()
    if organization is None or "created_at" not in event.data:
        return
    created, deleted = (
        datetime.fromisoformat(event.data[name]).astimezone(organization.zone).date()
        for name in ("created_at", "deleted_at")
    )
    rollups_recompute(organization=organization, family="activities", first=created, last=deleted)
    rollup_day_mark(organization_id=organization.pk, family="purchases", when=created)


@subscribe("accounts.person.erased", run_async=True)
def rollups_follow_erasure(event: Event) -> None:
    """An erasure deletes leads and activities of the organizations it touched (a sold lead
    stays, anonymised): their rollups are rebuilt, as rare as erasures are."""
    if event.data.get("deleted"):
        for organization in Organization.objects.filter(pk__in=event.data.get("organization_ids", [])):
            rollups_rebuild(organization=organization)


for _names, _handler in (
    (LEAD_EVENTS, lead_days_mark),
    (OPPORTUNITY_EVENTS, opportunity_days_mark),
    ((*ACTIVITY_EVENTS, "crm.activity.deleted"), activity_day_mark),
    (PURGE_EVENTS, activities_purged_mark),
    ((*LEAD_EVENTS, *OPPORTUNITY_EVENTS, *ACTIVITY_EVENTS, "crm.activity.deleted"), dashboards_follow),
    (("marketplace.purchase.completed",), purchase_days_mark),
    (("marketplace.dispute.opened", "marketplace.dispute.resolved"), dispute_days_mark),
    (("marketplace.listing.approved", "marketplace.listing.rejected"), listing_day_mark),
):
    for _name in _names:
        subscribe(_name)(_handler)


# --- Vendor quality ---------------------------------------------------------------------------------
# Subscribers of analytics to the events that change an outcome of a sold lead: each finds
# the vendor(s) concerned and recomputes their quality (`analytics.quality`). They run as
# tasks after the change commits (`run_async`), so no request waits on a vendor's figures.
#
# - a sale or its dispute: `marketplace.purchase.completed`, `marketplace.dispute.opened`,
#   `marketplace.dispute.resolved` (a refund or a rejection; refunds happen only there);
# - the buyer reaching the delivered lead: `leads.lead.status_changed` (moving on from `new`,
#   converting) and `crm.activity.created` / `crm.activity.completed` (a call, email or meeting
#   records the first contact);
# - the deal: `crm.opportunity.won`, `crm.opportunity.reopened` (a won deal undone) and
#   `crm.opportunity.deleted` (a won deal gone). A loss changes no figure.


def _refresh(vendor_ids) -> None:
    for vendor_id in sorted(vendor_ids):
        vendor_quality_refresh(vendor_id=vendor_id)


@subscribe("marketplace.purchase.completed", run_async=True)
def quality_after_sale(event) -> None:
    _refresh([event.data["vendor"]])


@subscribe("marketplace.dispute.opened", run_async=True)
@subscribe("marketplace.dispute.resolved", run_async=True)
def quality_after_dispute(event) -> None:
    _refresh(Dispute.objects.filter(pk=event.subject_id).values_list("vendor_id", flat=True))


@subscribe(LEAD_STATUS_CHANGED, run_async=True)
def quality_after_lead_status(event) -> None:
    _refresh(vendors_of_leads([int(event.subject_id)]))


@subscribe("crm.activity.created", run_async=True)
@subscribe("crm.activity.completed", run_async=True)
def quality_after_contact(event) -> None:
    """An activity may be the first contact of the lead it is on, or of its contact's or its
    opportunity's lead."""
    leads = Activity.objects.filter(pk=event.subject_id).values_list(
        "lead_id", "contact__lead_id", "opportunity__lead_id"
    )
    _refresh(vendors_of_leads(lead_id for row in leads for lead_id in row))


@subscribe("crm.opportunity.won", run_async=True)
@subscribe("crm.opportunity.reopened", run_async=True)
@subscribe("crm.opportunity.deleted", run_async=True)
def quality_after_deal(event) -> None:
    deals = Opportunity.objects.filter(pk=event.subject_id).values_list("lead_id", "contact__lead_id")
    _refresh(vendors_of_leads(lead_id for row in deals for lead_id in row))
