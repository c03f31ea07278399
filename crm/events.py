"""Subscribers of the CRM to other apps' domain events."""

from crm.models import Activity, Contact, Opportunity
from leadnexus.core.events import subscribe
from leads.events import LEAD_MERGED


@subscribe(LEAD_MERGED)
def crm_records_follow_merge(event) -> None:
    """A lead was merged into another: its activities, opportunities and contacts now belong
    to the survivor (the event's subject)."""
    other, survivor = event.data["other_id"], int(event.subject_id)
    for model in (Activity, Opportunity, Contact):
        model.objects.filter(lead_id=other).update(lead_id=survivor)
