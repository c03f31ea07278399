"""Daily rollups: each family of metrics is one grouped query over a source table, by the
organization's local date, key and owner. The same query fills one stale day (an event
changed it) and rebuilds an organization's whole history, so what events keep equals what a
rebuild makes.

Families and their metrics (`count` | `amount`):

- `leads`, by the day a lead was added (live CRM leads, never vendor inventory), owned by
  its assignee: `leads.new` keyed by source, `leads.status` keyed by its status now.
- `contact`, by the day of a lead's first contact: `leads.contacted` | seconds from added
  to first contact.
- `deals`, by the day an opportunity closed: `deals.won` | won amount, `deals.lost`.
- `activities`, by the day logged, owned by the assignee: `activities.logged` keyed by kind.
- `purchases` (the buyer), by purchase day, owned by who bought: `purchases.made` keyed by
  vendor | price, `purchases.refunded` keyed by vendor | price, `purchases.industry` keyed
  by industry | price, `purchases.outcome` keyed by what became of the delivered lead,
  `purchases.won` keyed by vendor | the won amount of its opportunities.
- `sales` (the vendor), by sale day: `sales.made` keyed by listing | price, `sales.earned` |
  the vendor's earning, `sales.fees` | the platform fee, `sales.refunded` | price,
  `sales.disputed`.
- `listings` (the vendor), by review day: `listings.reviewed` keyed approved or rejected.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncDate

from accounts.models import Organization
from analytics.dashboard_cache import dashboards_changed
from analytics.dates import local_bounds
from analytics.models import DailyRollup
from crm.models import Activity, Opportunity
from leads.models import Lead
from marketplace.models import Dispute, Listing, Purchase

Stage = Opportunity.Stage
ZERO = Decimal("0")


@dataclass(frozen=True)
class Row:
    date: date
    metric: str
    key: str
    owner_id: int | None
    count: int
    amount: Decimal


Rows = Callable[[int, ZoneInfo, datetime | None, datetime | None], Iterable[Row]]


@dataclass(frozen=True)
class Family:
    name: str
    metrics: tuple[str, ...]
    rows: Rows


def _grouped(records: QuerySet, field: str, zone: ZoneInfo, start, end, *, key=None, owner=None, **sums) -> QuerySet:
    """`records` with `field` in [start, end), grouped by local day, key and owner, counted
    and summed (`sums`: name → expression)."""
    if start is not None:
        records = records.filter(**{f"{field}__gte": start})
    if end is not None:
        records = records.filter(**{f"{field}__lt": end})
    return (
        records.filter(**{f"{field}__isnull": False})
        .annotate(
            day=TruncDate(field, tzinfo=zone),
            group_key=Cast(key, CharField()) if key is not None else Value("", output_field=CharField()),
            group_owner=F(owner) if owner else Value(None, output_field=IntegerField()),
        )
        .order_by()
        .values("day", "group_key", "group_owner")
        .annotate(n=Count("pk"), **{name: Sum(expression) for name, expression in sums.items()})
    )


def _rows(metric: str, grouped: QuerySet, amount: str | None = None) -> list[Row]:
    return [
        Row(
            row["day"],
            metric,
            (row["group_key"] or "")[:64],
            row["group_owner"],
            row["n"],
            _decimal(row[amount]) if amount else ZERO,
        )
        for row in grouped
    ]


def _decimal(value) -> Decimal:
    if isinstance(value, timedelta):
        return Decimal(round(value.total_seconds()))
    return Decimal(value or 0).quantize(Decimal("0.01"))


# --- The families -------------------------------------------------------------------------------


def _crm_leads(org_id: int) -> QuerySet:
    return Lead.objects.filter(organization_id=org_id, is_inventory=False, deleted_at__isnull=True)


def _leads(org_id, zone, start, end) -> list[Row]:
    leads = _crm_leads(org_id)
    return [
        *_rows("leads.new", _grouped(leads, "created_at", zone, start, end, key="source", owner="assigned_to_id")),
        *_rows("leads.status", _grouped(leads, "created_at", zone, start, end, key="status", owner="assigned_to_id")),
    ]


def _contact(org_id, zone, start, end) -> list[Row]:
    waited = ExpressionWrapper(F("first_contacted_at") - F("created_at"), output_field=DurationField())
    grouped = _grouped(
        _crm_leads(org_id), "first_contacted_at", zone, start, end, owner="assigned_to_id", seconds=waited
    )
    return _rows("leads.contacted", grouped, "seconds")


def _deals(org_id, zone, start, end) -> list[Row]:
    deals = Opportunity.objects.filter(organization_id=org_id, deleted_at__isnull=True)
    rows = []
    for metric, stage in (("deals.won", Stage.CLOSED_WON), ("deals.lost", Stage.CLOSED_LOST)):
        grouped = _grouped(
            deals.filter(stage=stage), "closed_at", zone, start, end, owner="assigned_to_id", total="amount"
        )
        rows += _rows(metric, grouped, "total")
    return rows


def _activities(org_id, zone, start, end) -> list[Row]:
    activities = Activity.objects.filter(organization_id=org_id)
    return _rows(
        "activities.logged", _grouped(activities, "created_at", zone, start, end, key="kind", owner="assigned_to_id")
    )


def _won_deals(lead) -> QuerySet:
    return Opportunity.objects.filter(lead=lead, stage=Stage.CLOSED_WON, deleted_at__isnull=True)


# What became of a bought lead, the furthest it went first.
OUTCOMES = ("disputed", "won", "lost", "qualified", "contacted", "new")


def _outcome():
    lead = OuterRef("delivered_lead")
    return Case(
        When(Exists(Dispute.objects.filter(purchase=OuterRef("pk"))), then=Value("disputed")),
        When(Exists(_won_deals(lead)), then=Value("won")),
        When(
            Q(delivered_lead__status=Lead.Status.LOST)
            | Exists(Opportunity.objects.filter(lead=lead, stage=Stage.CLOSED_LOST, deleted_at__isnull=True)),
            then=Value("lost"),
        ),
        When(delivered_lead__status__in=[Lead.Status.QUALIFIED, Lead.Status.CONVERTED], then=Value("qualified")),
        When(
            Q(delivered_lead__first_contacted_at__isnull=False) | ~Q(delivered_lead__status=Lead.Status.NEW),
            then=Value("contacted"),
        ),
        default=Value("new"),
        output_field=CharField(),
    )


def _purchases(org_id, zone, start, end) -> list[Row]:
    bought = Purchase.objects.filter(buyer_id=org_id)
    won_amount = Subquery(
        _won_deals(OuterRef("delivered_lead")).order_by().values("lead").annotate(total=Sum("amount")).values("total")
    )
    by_vendor = {"key": "listing__vendor_id", "owner": "purchased_by_id"}
    return [
        *_rows(
            "purchases.made", _grouped(bought, "purchased_at", zone, start, end, **by_vendor, spent="price"), "spent"
        ),
        *_rows(
            "purchases.refunded",
            _grouped(
                bought.filter(refunded_at__isnull=False), "purchased_at", zone, start, end, **by_vendor, spent="price"
            ),
            "spent",
        ),
        *_rows(
            "purchases.industry",
            _grouped(bought, "purchased_at", zone, start, end, key="listing__industry", spent="price"),
            "spent",
        ),
        *_rows(
            "purchases.outcome",
            _grouped(bought.annotate(outcome=_outcome()), "purchased_at", zone, start, end, key="outcome"),
        ),
        *_rows(
            "purchases.won",
            _grouped(
                bought.annotate(won_amount=won_amount).filter(won_amount__isnull=False),
                "purchased_at",
                zone,
                start,
                end,
                **by_vendor,
                won="won_amount",
            ),
            "won",
        ),
    ]


def _sales(org_id, zone, start, end) -> list[Row]:
    sold = Purchase.objects.filter(listing__vendor_id=org_id)
    totals = _grouped(
        sold, "purchased_at", zone, start, end, gross="price", earned="vendor_earning", fees="platform_fee"
    )
    return [
        *_rows(
            "sales.made", _grouped(sold, "purchased_at", zone, start, end, key="listing_id", gross="price"), "gross"
        ),
        *_rows("sales.earned", totals, "earned"),
        *_rows("sales.fees", totals, "fees"),
        *_rows(
            "sales.refunded",
            _grouped(sold.filter(refunded_at__isnull=False), "purchased_at", zone, start, end, gross="price"),
            "gross",
        ),
        *_rows("sales.disputed", _grouped(sold.filter(dispute__isnull=False), "purchased_at", zone, start, end)),
    ]


def _listings(org_id, zone, start, end) -> list[Row]:
    reviewed = Listing.objects.filter(vendor_id=org_id, approval_status__in=["approved", "rejected"])
    return _rows("listings.reviewed", _grouped(reviewed, "reviewed_at", zone, start, end, key="approval_status"))


FAMILIES = {
    family.name: family
    for family in (
        Family("leads", ("leads.new", "leads.status"), _leads),
        Family("contact", ("leads.contacted",), _contact),
        Family("deals", ("deals.won", "deals.lost"), _deals),
        Family("activities", ("activities.logged",), _activities),
        Family(
            "purchases",
            ("purchases.made", "purchases.refunded", "purchases.industry", "purchases.outcome", "purchases.won"),
            _purchases,
        ),
        Family("sales", ("sales.made", "sales.earned", "sales.fees", "sales.refunded", "sales.disputed"), _sales),
        Family("listings", ("listings.reviewed",), _listings),
    )
}


# --- Writing ------------------------------------------------------------------------------------


def rollups_recompute(*, organization: Organization, family: str, first: date | None, last: date | None) -> int:
    """Replace the family's rollups of the organization from `first` to `last` (local dates,
    inclusive; None: its whole history) with what the source tables say now. How many rows."""
    zone = organization.zone
    start = local_bounds(organization, first, first)[0] if first else None
    end = local_bounds(organization, last, last)[1] if last else None
    spec = FAMILIES[family]
    rows = [row for row in spec.rows(organization.pk, zone, start, end) if row.count or row.amount]
    kept = DailyRollup.objects.filter(organization=organization, metric__in=spec.metrics)
    if first:
        kept = kept.filter(date__gte=first)
    if last:
        kept = kept.filter(date__lte=last)
    with transaction.atomic():
        dashboards_changed(organization.pk)
        kept.delete()
        DailyRollup.objects.bulk_create(
            [
                DailyRollup(
                    organization=organization,
                    date=row.date,
                    metric=row.metric,
                    key=row.key,
                    owner_id=row.owner_id,
                    count=row.count,
                    amount=row.amount,
                )
                for row in rows
            ],
            batch_size=1000,
        )
    return len(rows)


def rollups_rebuild(*, organization: Organization) -> int:
    """Every family of the organization, rebuilt from the source tables."""
    return sum(
        rollups_recompute(organization=organization, family=family, first=None, last=None) for family in FAMILIES
    )
