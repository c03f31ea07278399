"""A bought lead's timeline shows its purchase (`leadnexus.core.timeline`)."""

from django.urls import reverse

from leadnexus.core.timeline import TimelineEntry, timeline_source
from marketplace.models import Purchase
from marketplace.policy import can_buy


@timeline_source("leads.lead")
def lead_purchase(lead, *, viewer) -> list[TimelineEntry]:
    purchases = Purchase.objects.filter(delivered_lead=lead, buyer_id=viewer.organization_id).select_related(
        "listing", "purchased_by"
    )
    shows_money = can_buy(viewer)
    return [
        TimelineEntry(
            at=purchase.purchased_at,
            kind="purchase",
            title="Bought on the marketplace" + (f" for {purchase.price} {purchase.currency}" if shows_money else ""),
            detail=f"Listing: {purchase.listing.title}",
            actor=purchase.purchased_by.get_full_name() if purchase.purchased_by else "",
            badge=purchase.get_status_display().lower() if purchase.status != Purchase.Status.ACTIVE else "",
            link=reverse("marketplace:purchases") if shows_money else "",
        )
        for purchase in purchases
    ]
