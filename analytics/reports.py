"""The kinds of report, one small spec each: its title, who may run it, its columns, and its
records for (user, start, end) read through the owning app's selectors, so a report shows a
user exactly what their lists show (a sales rep their own records; never another
organization's). `start` and `end` bound the organization's local dates (`local_bounds`):
`start` inclusive, `end` exclusive.

Running any report needs the export permission (`can_export`), like every download."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Organization, User
from accounts.policy import permissions_of
from crm.models import CampaignRecipient
from crm.selectors import opportunity_list
from crm.selectors_campaigns import campaign_list
from leads.imports.export import cell_safe
from leads.selectors import lead_list
from marketplace.models import Dispute, Purchase
from marketplace.policy import can_buy, can_sell
from marketplace.selectors_buying import purchase_list, sale_list


@dataclass(frozen=True)
class ReportKind:
    slug: str
    title: str
    description: str
    columns: tuple[str, ...]
    allowed: Callable[[User], bool]
    records: Callable[[User, datetime, datetime], QuerySet]
    row: Callable[[object, ZoneInfo], list]


# --- Dates -------------------------------------------------------------------------------------


def _local(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def _email(user) -> str:
    return user.email if user else ""


def _dispute_status(purchase: Purchase) -> str:
    try:
        return purchase.dispute.status
    except ObjectDoesNotExist:
        return ""


# --- Leads and the CRM ------------------------------------------------------------------------


def _viewer(user: User) -> bool:
    return permissions_of(user)["can_view_leads"]


def _leads(user: User, start: datetime, end: datetime) -> QuerySet:
    # The CRM's leads (vendor inventory stays out, as in the lead list).
    return lead_list(user=user).filter(created_at__gte=start, created_at__lt=end).order_by("created_at", "pk")


def _lead_row(lead, zone: ZoneInfo) -> list:
    return [
        lead.pk,
        _local(lead.created_at, zone),
        lead.first_name,
        lead.last_name,
        lead.email,
        lead.company,
        lead.source,
        lead.status,
        lead.score,
        _email(lead.assigned_to),
    ]


def _opportunities(user: User, start: datetime, end: datetime) -> QuerySet:
    return opportunity_list(user=user).filter(created_at__gte=start, created_at__lt=end).order_by("created_at", "pk")


def _opportunity_row(opportunity, zone: ZoneInfo) -> list:
    return [
        opportunity.pk,
        _local(opportunity.created_at, zone),
        opportunity.title,
        opportunity.stage,
        opportunity.amount,
        opportunity.currency,
        opportunity.probability,
        opportunity.expected_close_date,
        _local(opportunity.closed_at, zone),
        _email(opportunity.assigned_to),
    ]


def _recipients(**conditions) -> Count:
    return Count("recipients", filter=Q(**{f"recipients__{name}": value for name, value in conditions.items()}))


def _campaigns(user: User, start: datetime, end: datetime) -> QuerySet:
    """Campaigns created in the range, with their figures (rates over delivered emails, as the
    campaign's own stats count them)."""
    delivered = Q(recipients__sent_at__isnull=False, recipients__bounced_at__isnull=True) & ~Q(
        recipients__status=CampaignRecipient.Status.FAILED
    )
    return (
        campaign_list(user=user)
        .filter(created_at__gte=start, created_at__lt=end)
        .prefetch_related(None)
        .annotate(
            delivered=Count("recipients", filter=delivered),
            opened=_recipients(opened_at__isnull=False),
            clicked=_recipients(clicked_at__isnull=False),
            bounced=_recipients(bounced_at__isnull=False),
            unsubscribed=_recipients(unsubscribed_at__isnull=False),
        )
        .order_by("created_at", "pk")
    )


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _campaign_row(campaign, zone: ZoneInfo) -> list:
    return [
        campaign.pk,
        _local(campaign.created_at, zone),
        campaign.name,
        campaign.status,
        campaign.recipient_count,
        campaign.sent_count,
        campaign.delivered,
        campaign.opened,
        campaign.clicked,
        campaign.bounced,
        campaign.unsubscribed,
        _rate(campaign.opened, campaign.delivered),
        _rate(campaign.clicked, campaign.delivered),
    ]


# --- The marketplace ---------------------------------------------------------------------------


def _purchases(user: User, start: datetime, end: datetime) -> QuerySet:
    return purchase_list(user=user).filter(purchased_at__gte=start, purchased_at__lt=end).order_by("purchased_at", "pk")


def _purchase_row(purchase, zone: ZoneInfo) -> list:
    return [
        purchase.pk,
        _local(purchase.purchased_at, zone),
        purchase.listing.title,
        purchase.listing.vendor.name,
        purchase.price,
        purchase.currency,
        purchase.status,
        _dispute_status(purchase),
    ]


def _sales(user: User, start: datetime, end: datetime) -> QuerySet:
    return sale_list(user=user).filter(purchased_at__gte=start, purchased_at__lt=end).order_by("purchased_at", "pk")


def _sale_row(sale, zone: ZoneInfo) -> list:
    return [
        sale.pk,
        _local(sale.purchased_at, zone),
        sale.listing.title,
        sale.buyer.name,
        sale.price,
        sale.platform_fee,
        sale.vendor_earning,
        sale.currency,
        sale.status,
        _local(sale.earning_released_at, zone),
        _dispute_status(sale),
    ]


def _quality_reader(user: User) -> bool:
    return user.is_staff or can_sell(user)


def _count_of(rows: QuerySet) -> Coalesce:
    # A grouped count has no row, rather than 0, for a vendor with none.
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def _vendors(user: User, start: datetime, end: datetime) -> QuerySet:
    """Each vendor the user may see (staff: every one; a vendor: itself) with its sales and the
    disputes raised against it in the range, and its quality as buyers see it now
    (`analytics.quality`, over all its sold leads)."""
    vendors = Organization.objects.filter(is_vendor=True)
    if not user.is_staff:
        vendors = vendors.filter(pk=user.organization_id)
    sales = Purchase.objects.filter(listing__vendor=OuterRef("pk"), purchased_at__gte=start, purchased_at__lt=end)
    disputes = Dispute.objects.filter(vendor=OuterRef("pk"), created_at__gte=start, created_at__lt=end)
    return vendors.annotate(
        sales=_count_of(sales.order_by().values("listing__vendor")),
        disputes=_count_of(disputes.order_by().values("vendor")),
        quality_score=F("quality__score"),
        quality_sold=F("quality__sold"),
        contact_rate=F("quality__contact_rate"),
        win_rate=F("quality__win_rate"),
        dispute_rate=F("quality__dispute_rate"),
    ).order_by("name", "pk")


def _vendor_row(vendor, zone: ZoneInfo) -> list:
    figures = (vendor.quality_score, vendor.contact_rate, vendor.win_rate, vendor.dispute_rate)
    return [vendor.pk, vendor.name, vendor.sales, vendor.disputes, vendor.quality_sold or 0] + [
        "" if value is None else value for value in figures
    ]


# --- The registry -------------------------------------------------------------------------------

KINDS: dict[str, ReportKind] = {
    kind.slug: kind
    for kind in [
        ReportKind(
            slug="sales",
            title="Sales",
            description="Your listings sold, with the price, the platform's fee and your earning.",
            columns=(
                "id", "sold_at", "listing", "buyer", "price", "platform_fee", "earning", "currency", "status",
                "earning_released_at", "dispute",
            ),
            allowed=can_sell,
            records=_sales,
            row=_sale_row,
        ),
        ReportKind(
            slug="purchases",
            title="Purchases",
            description="The listings your organization bought, with their price and any dispute.",
            columns=("id", "purchased_at", "listing", "vendor", "price", "currency", "status", "dispute"),
            allowed=can_buy,
            records=_purchases,
            row=_purchase_row,
        ),
        ReportKind(
            slug="pipeline",
            title="Pipeline",
            description="Opportunities created in the range, with their stage, amount and owner.",
            columns=(
                "id", "created_at", "title", "stage", "amount", "currency", "probability", "expected_close_date",
                "closed_at", "assigned_to",
            ),
            allowed=_viewer,
            records=_opportunities,
            row=_opportunity_row,
        ),
        ReportKind(
            slug="campaigns",
            title="Campaigns",
            description="Email campaigns created in the range, with their sending and engagement figures.",
            columns=(
                "id", "created_at", "name", "status", "recipients", "sent", "delivered", "opened", "clicked",
                "bounced", "unsubscribed", "open_rate", "click_rate",
            ),
            allowed=_viewer,
            records=_campaigns,
            row=_campaign_row,
        ),
        ReportKind(
            slug="vendor_quality",
            title="Vendor quality",
            description="Each vendor's sales and disputes in the range, and its quality now: the score (0 to 5, "
            "blank until rated) and the rates over all its sold leads.",
            columns=(
                "vendor_id", "vendor", "sales", "disputes", "sold_leads", "quality", "contact_rate", "win_rate",
                "dispute_rate",
            ),
            allowed=_quality_reader,
            records=_vendors,
            row=_vendor_row,
        ),
        ReportKind(
            slug="leads",
            title="Leads",
            description="Leads created in the range (not vendor inventory), with their source, status and owner.",
            columns=(
                "id", "created_at", "first_name", "last_name", "email", "company", "source", "status", "score",
                "assigned_to",
            ),
            allowed=_viewer,
            records=_leads,
            row=_lead_row,
        ),
    ]
}  # fmt: skip
KIND_CHOICES = [(kind.slug, kind.title) for kind in KINDS.values()]


def may_run(user: User, kind: ReportKind) -> bool:
    return permissions_of(user)["can_export"] and kind.allowed(user)


def report_rows(kind: ReportKind, records: QuerySet, zone: ZoneInfo, *, chunk_size: int = 2000):
    """The header, then one safe row per record (formula-like text neutralised)."""
    yield list(kind.columns)
    for record in records.iterator(chunk_size=chunk_size):
        yield [cell_safe(value) for value in kind.row(record, zone)]
