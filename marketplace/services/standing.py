"""A vendor's standing (`VendorStanding`): sales, disputes and refunds of its listings, and
the dispute rate buyers see. Recounted from the purchases and disputes themselves after each
sale and dispute commits (`marketplace.events`), so it never drifts."""

from decimal import Decimal

from django.db.models import Count, Q

from marketplace.models import Dispute, Purchase, VendorStanding


def vendor_standing_refresh(*, vendor_id: int) -> VendorStanding:
    sales = Purchase.objects.filter(listing__vendor_id=vendor_id).aggregate(
        sold=Count("pk"), refunded=Count("pk", filter=Q(status=Purchase.Status.REFUNDED))
    )
    disputes = Dispute.objects.filter(vendor_id=vendor_id).count()
    rate = (Decimal(disputes * 100) / sales["sold"]).quantize(Decimal("0.1")) if sales["sold"] else None
    standing, _ = VendorStanding.objects.update_or_create(
        vendor_id=vendor_id,
        defaults={"sales": sales["sold"], "disputes": disputes, "refunded": sales["refunded"], "dispute_rate": rate},
    )
    return standing
