"""Subscribers of analytics to the events that change an outcome of a sold lead: each finds
the vendor(s) concerned and recomputes their quality (`analytics.quality`). They run as
tasks after the change commits (`run_async`), so no request waits on a vendor's figures.

- a sale or its dispute: `marketplace.purchase.completed`, `marketplace.dispute.opened`,
  `marketplace.dispute.resolved` (a refund or a rejection; refunds happen only there);
- the buyer reaching the delivered lead: `leads.lead.status_changed` (moving on from `new`,
  converting) and `crm.activity.created` / `crm.activity.completed` (a call, email or meeting
  records the first contact);
- the deal: `crm.opportunity.won`, `crm.opportunity.reopened` (a won deal undone) and
  `crm.opportunity.deleted` (a won deal gone). A loss changes no figure.
"""

from analytics.quality import vendor_quality_refresh, vendors_of_leads
from crm.models import Activity, Opportunity
from leadnexus.core.events import subscribe
from leads.events import LEAD_STATUS_CHANGED
from marketplace.models import Dispute


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
