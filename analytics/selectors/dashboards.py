"""The dashboards' figures, read from the daily rollups (a few grouped queries whatever the
range) and, for what is true now rather than over days (the open pipeline, overdue tasks,
balances, queues), from the owning app's selectors.

Each dashboard answers `{range, kpis, series}`: `range` the organization's local dates,
`kpis` single figures, `series` lists of rows a chart and its table show. Money is Decimal,
rates are fractions from 0 to 1 (None when there is nothing to divide by).

Who sees what: the sales figures need `can_view_leads`; a sales rep who may not view the
whole organization's leads sees their own figures, everyone else the organization's. The
buyer figures need the right to buy, the vendor figures the right to sell, the overview is
for staff. Answers are shared through the cache until a change they show
(`analytics.dashboard_cache`)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import wraps
from zoneinfo import ZoneInfo

from django.db.models import BigIntegerField, CharField, Count, DateField, F, Min, QuerySet, Sum, Value
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Organization, User
from accounts.policy import permissions_of
from analytics.dashboard_cache import EVERYONE, dashboard_cached
from analytics.models import DailyRollup
from analytics.rollups import OUTCOMES
from crm.models import Opportunity
from crm.pipeline import OPEN_STAGES
from crm.selectors import activity_list, opportunity_list, pipeline_forecast, tasks_due
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leads.models import Lead
from marketplace.models import Dispute, Listing
from marketplace.policy import can_buy, can_sell
from marketplace.selectors_catalog import vendor_quality_own
from marketplace.services.ledger import Account, balances

DEFAULT_DAYS = 30
MAX_DAYS = 731
INTERVALS = ("day", "week", "month")
ZERO = Decimal("0")


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date
    zone: ZoneInfo

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def as_dict(self) -> dict:
        return {"from": self.first, "to": self.last, "days": self.days, "time_zone": self.zone.key}


def _date(params, name: str) -> date | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"{name} must be a date such as 2026-01-31.", details={name: ["A date such as 2026-01-31."]}
        ) from None


def date_range(*, user: User, params) -> DateRange:
    """The range a dashboard covers, in the user's organization's local dates: `from` and
    `to` (inclusive; either alone runs to today or from `days` before), or the last `days`
    days ending today (default 30). At most MAX_DAYS days."""
    zone = user.organization.zone
    today = timezone.now().astimezone(zone).date()
    days = params.get("days")
    if days not in (None, ""):
        if not str(days).isdigit() or not 1 <= int(days) <= MAX_DAYS:
            message = f"days must be a whole number from 1 to {MAX_DAYS}."
            raise ValidationFailed(message, details={"days": [message]})
        days = int(days)
    first, last = _date(params, "from"), _date(params, "to")
    last = last or today
    first = first or last - timedelta(days=(days or DEFAULT_DAYS) - 1)
    if first > last:
        raise ValidationFailed("from must not be after to.", details={"from": ["Not after to."]})
    if (last - first).days + 1 > MAX_DAYS:
        message = f"Choose at most {MAX_DAYS} days."
        raise ValidationFailed(message, details={"from": [message]})
    return DateRange(first=first, last=last, zone=zone)


def _rate(part, whole) -> float | None:
    return round(float(part) / float(whole), 4) if whole else None


def _rollups(rng: DateRange, metrics, *, organization_id: int | None = None, owner: User | None = None) -> QuerySet:
    rows = DailyRollup.objects.filter(metric__in=metrics, date__gte=rng.first, date__lte=rng.last)
    if organization_id is not None:
        rows = rows.filter(organization_id=organization_id)
    if owner is not None:
        rows = rows.filter(owner=owner)
    return rows.order_by()


class _Totals:
    """Rollup rows summed in SQL: by metric, and by day, key or owner for the metrics a
    dashboard shows that way (`by_date`, `by_key`, `by_owner`). One query (UNION ALL), which
    returns a row per metric and per day, key or owner asked for, never the rollup rows
    themselves (days x keys x owners), and reads each grouping's metrics only."""

    def __init__(self, rows: QuerySet, *, by_date=(), by_key=(), by_owner=()):
        wanted = {"date": by_date, "key": by_key, "owner_id": by_owner}
        # A metric broken down by key has its total in that grouping.
        groupings = [("metric", rows.exclude(metric__in=by_key) if by_key else rows)]
        groupings += [(field, rows.filter(metric__in=metrics)) for field, metrics in wanted.items() if metrics]
        queries = []
        for field, records in groupings:
            columns = {
                "grouping": Value(field),
                # Typed: PostgreSQL matches a UNION's columns by type, and a bare NULL has none.
                "day": F("date") if field == "date" else Cast(Value(None), DateField()),
                "group_key": F("key") if field == "key" else Value("", output_field=CharField()),
                "group_owner": F("owner_id") if field == "owner_id" else Cast(Value(None), BigIntegerField()),
            }
            queries.append(
                records.annotate(**columns)
                .values("metric", *columns)
                .annotate(n=Sum("count"), amount=Sum("amount"))
                .order_by()
            )
        self.by_key = set(by_key)
        self.totals: dict = {}
        self.grouped: dict = {field: {metric: {} for metric in metrics} for field, metrics in wanted.items()}
        column = {"date": "day", "key": "group_key", "owner_id": "group_owner"}
        for row in queries[0].union(*queries[1:], all=True):
            field, figures = row["grouping"], [row["n"], row["amount"]]
            if field == "metric":
                self.totals[row["metric"]] = figures
            else:
                self.grouped[field][row["metric"]][row[column[field]]] = figures

    def total(self, metric: str, *, key: str | None = None) -> tuple[int, Decimal]:
        if key is None and metric not in self.by_key:
            count, amount = self.totals.get(metric, (0, ZERO))
            return count, amount
        count, amount = 0, ZERO
        for value, (n, summed) in self.grouped["key"][metric].items():
            if key is None or value == key:
                count, amount = count + n, amount + summed
        return count, amount

    def by(self, metric: str, field: str) -> dict:
        """{day, key or owner: [count, amount]} of a metric asked for by that field."""
        return self.grouped[field][metric]


def _by_interval(rng: DateRange, totals: dict, interval: str = "day") -> list[dict]:
    """A row per day, week (from Monday) or month of the range, empty ones included."""
    buckets: dict = {}
    for day in rng.dates():
        start = {
            "day": day,
            "week": day - timedelta(days=day.weekday()),
            "month": day.replace(day=1),
        }[interval]
        bucket = buckets.setdefault(max(start, rng.first), [0, ZERO])
        count, amount = totals.get(day, (0, ZERO))
        bucket[0] += count
        bucket[1] += amount
    return [{"date": start, "count": count, "amount": amount} for start, (count, amount) in buckets.items()]


def parse_interval(params) -> str:
    interval = params.get("interval") or "day"
    if interval not in INTERVALS:
        message = "interval is day, week or month."
        raise ValidationFailed(message, details={"interval": [message]})
    return interval


def _names(model, ids, field: str) -> dict:
    ids = [int(pk) for pk in ids if str(pk).isdigit()]
    return dict(model.objects.filter(pk__in=ids).values_list("pk", field)) if ids else {}


# --- Sales (the CRM) -------------------------------------------------------------------------------

SALES_METRICS = ("leads.new", "leads.status", "leads.contacted", "deals.won", "deals.lost", "activities.logged")


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _shared(scope_of):
    """Serve a dashboard's answers through `analytics.dashboard_cache`: `scope_of(user)` checks
    the user may see it (raising otherwise) and names whose figures they see."""

    def decorate(compute):
        @wraps(compute)
        def read(*, user: User, rng: DateRange, **options) -> dict:
            scope, versioned_by = scope_of(user)
            key = (compute.__name__, scope, rng.first, rng.last, sorted(options.items()))
            return dashboard_cached(
                versioned_by=versioned_by, key=key, compute=lambda: compute(user=user, rng=rng, **options)
            )

        return read

    return decorate


def _sales_scope(user: User) -> tuple[str, int]:
    owner = _sales_viewer(user)
    return f"{user.organization_id}:{owner.pk if owner else 'all'}", user.organization_id


def _buyer_scope(user: User) -> tuple[int, int]:
    _require(can_buy(user), "The buyer dashboard is for members allowed to buy.")
    return user.organization_id, user.organization_id


def _vendor_scope(user: User) -> tuple[int, int]:
    _require(can_sell(user), "The vendor dashboard is for members of a vendor organization allowed to sell.")
    return user.organization_id, user.organization_id


def _staff_scope(user: User) -> tuple[str, str]:
    _require(user.is_authenticated and user.is_staff, "The overview is for LeadNexus staff.")
    return EVERYONE, EVERYONE


def _sales_viewer(user: User) -> User | None:
    """The owner whose figures the user sees (a rep: themselves), None for the organization's."""
    flags = permissions_of(user)
    if not flags["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view sales figures.")
    return user if user.role == User.Role.SALES_REP and not flags["can_view_all_org_leads"] else None


@_shared(_sales_scope)
def sales_dashboard(*, user: User, rng: DateRange) -> dict:
    owner = _sales_viewer(user)
    totals = _Totals(
        _rollups(rng, SALES_METRICS, organization_id=user.organization_id, owner=owner),
        by_date=("leads.new", "deals.won"),
        by_key=("leads.new", "leads.status"),
        by_owner=("leads.new", "leads.contacted", "deals.won", "activities.logged"),
    )
    new_leads = totals.total("leads.new")[0]
    contacted, waited = totals.total("leads.contacted")
    won, won_amount = totals.total("deals.won")
    lost = totals.total("deals.lost")[0]
    activities = totals.total("activities.logged")[0]
    stages = _pipeline_by_stage(user)
    open_stages = [row for row in stages if row["stage"] in OPEN_STAGES]
    now = timezone.now()
    overdue = tasks_due(activity_list(user=user), due="overdue", now=now, today_end=now)
    if owner is not None:
        overdue = overdue.filter(assigned_to=owner)
    return {
        "range": rng.as_dict(),
        "kpis": {
            "new_leads": new_leads,
            "contacted": contacted,
            "conversion_rate": _rate(totals.total("leads.status", key=Lead.Status.CONVERTED)[0], new_leads),
            "won": won,
            "won_amount": won_amount,
            "lost": lost,
            "win_rate": _rate(won, won + lost),
            "avg_first_contact_minutes": round(float(waited) / contacted / 60, 1) if contacted else None,
            "activities": activities,
            "pipeline_value": sum((row["total"] for row in open_stages), ZERO),
            "weighted_forecast": sum((row["weighted"] for row in open_stages), ZERO),
            "overdue_tasks": overdue.count(),
        },
        "series": {
            "new_leads": _by_interval(rng, totals_by_date(totals, "leads.new")),
            "won": _by_interval(rng, totals_by_date(totals, "deals.won")),
            "leads_by_status": _keyed(totals, "leads.status", Lead.Status.choices, "status"),
            "leads_by_source": _keyed(totals, "leads.new", Lead.Source.choices, "source"),
            "pipeline_by_stage": stages,
            "forecast": pipeline_forecast(user=user),
            "leaderboard": _leaderboard(totals),
        },
    }


def totals_by_date(totals: _Totals, metric: str) -> dict:
    return dict(totals.by(metric, "date"))


def _keyed(totals: _Totals, metric: str, choices, name: str) -> list[dict]:
    counted = totals.by(metric, "key")
    return [{name: value, "label": label, "count": counted.get(value, [0])[0]} for value, label in choices]


def _pipeline_by_stage(user: User) -> list[dict]:
    rows = {
        row["stage"]: row
        for row in opportunity_list(user=user)
        .order_by()
        .values("stage")
        .annotate(count=Count("pk"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability")))
    }
    return [
        {
            "stage": stage,
            "label": label,
            "count": rows.get(stage, {}).get("count", 0),
            "total": Decimal(rows.get(stage, {}).get("total") or 0).quantize(Decimal("0.01")),
            "weighted": (Decimal(rows.get(stage, {}).get("weighted") or 0) / 100).quantize(Decimal("0.01")),
        }
        for stage, label in Opportunity.Stage.choices
    ]


def _leaderboard(totals: _Totals) -> list[dict]:
    """Per rep: leads added, first contacts, deals won and their amount, activities; the best
    won amount first."""
    reps: dict = defaultdict(lambda: dict.fromkeys(("new_leads", "contacted", "won", "activities"), 0))
    for metric, field in (
        ("leads.new", "new_leads"),
        ("leads.contacted", "contacted"),
        ("deals.won", "won"),
        ("activities.logged", "activities"),
    ):
        for owner_id, (count, amount) in totals.by(metric, "owner_id").items():
            if owner_id is not None:
                reps[owner_id][field] += count
                if metric == "deals.won":
                    reps[owner_id]["won_amount"] = amount
    names = dict(User.objects.filter(pk__in=list(reps)).values_list("pk", "full_name") if reps else [])
    rows = [
        {"user_id": pk, "name": names.get(pk) or f"User {pk}", "won_amount": ZERO, **figures}
        for pk, figures in reps.items()
    ]
    return sorted(rows, key=lambda row: (-row["won_amount"], -row["won"], -row["activities"], row["name"]))


# --- The buyer ---------------------------------------------------------------------------------------

BUYER_METRICS = ("purchases.made", "purchases.refunded", "purchases.industry", "purchases.outcome", "purchases.won")


@_shared(_buyer_scope)
def buyer_dashboard(*, user: User, rng: DateRange, interval: str = "day") -> dict:
    totals = _Totals(
        _rollups(rng, BUYER_METRICS, organization_id=user.organization_id),
        by_date=("purchases.made",),
        by_key=BUYER_METRICS,
    )
    purchases, spend = totals.total("purchases.made")
    refunded = totals.total("purchases.refunded")[1]
    won, won_amount = totals.total("purchases.won")
    net = spend - refunded
    made, won_by = totals.by("purchases.made", "key"), totals.by("purchases.won", "key")
    refunded_by = totals.by("purchases.refunded", "key")
    vendors = _names(Organization, made, "name")
    outcomes = totals.by("purchases.outcome", "key")
    return {
        "range": rng.as_dict(),
        "kpis": {
            "purchases": purchases,
            "spend": spend,
            "refunded": refunded,
            "net_spend": net,
            "won": won,
            "won_amount": won_amount,
            "return_on_spend": _rate(won_amount, net),
            "disputed": outcomes.get("disputed", [0])[0],
        },
        "series": {
            "spend": _by_interval(rng, totals_by_date(totals, "purchases.made"), interval),
            "by_industry": sorted(
                (
                    {"industry": key or "Unknown", "count": count, "amount": amount}
                    for key, (count, amount) in totals.by("purchases.industry", "key").items()
                ),
                key=lambda row: -row["amount"],
            ),
            "by_vendor": sorted(
                (
                    {
                        "vendor_id": int(key),
                        "vendor": vendors.get(int(key), ""),
                        "count": count,
                        "amount": amount,
                        "won_amount": won_by.get(key, [0, ZERO])[1],
                        "return_on_spend": _rate(
                            won_by.get(key, [0, ZERO])[1], amount - refunded_by.get(key, [0, ZERO])[1]
                        ),
                    }
                    for key, (count, amount) in made.items()
                ),
                key=lambda row: -row["amount"],
            ),
            "outcomes": [{"outcome": outcome, "count": outcomes.get(outcome, [0])[0]} for outcome in OUTCOMES],
        },
    }


# --- The vendor --------------------------------------------------------------------------------------

VENDOR_METRICS = ("sales.made", "sales.earned", "sales.refunded", "sales.disputed", "listings.reviewed")
TOP_LISTINGS = 10


@_shared(_vendor_scope)
def vendor_dashboard(*, user: User, rng: DateRange, interval: str = "day") -> dict:
    rollups = _rollups(rng, VENDOR_METRICS, organization_id=user.organization_id)
    totals = _Totals(rollups, by_date=("sales.made",), by_key=("listings.reviewed",))
    sales, revenue = totals.total("sales.made")
    earned = totals.total("sales.earned")[1]
    refunded = totals.total("sales.refunded")[1]
    disputed = totals.total("sales.disputed")[0]
    reviewed = totals.by("listings.reviewed", "key")
    approved, rejected = reviewed.get("approved", [0])[0], reviewed.get("rejected", [0])[0]
    # The best sellers ranked in SQL: a vendor sells thousands of listings in a year.
    by_listing = [
        (row["key"], (row["n"], row["amount"]))
        for row in rollups.filter(metric="sales.made")
        .values("key")
        .annotate(n=Sum("count"), amount=Sum("amount"))
        .order_by("-amount", "-n", "key")[:TOP_LISTINGS]
    ]
    titles = _names(Listing, [key for key, _ in by_listing], "title")
    money = balances(organization_id=user.organization_id)
    return {
        "range": rng.as_dict(),
        "kpis": {
            "sales": sales,
            "revenue": revenue,
            "earned": earned,
            "refunded": refunded,
            "disputed": disputed,
            "dispute_rate": _rate(disputed, sales),
            "approved": approved,
            "rejected": rejected,
            "approval_rate": _rate(approved, approved + rejected),
            "pending_earnings": money[Account.VENDOR_PENDING],
            "available_earnings": money[Account.VENDOR_AVAILABLE],
            "quality": vendor_quality_own(user=user),
        },
        "series": {
            "sales": _by_interval(rng, totals_by_date(totals, "sales.made"), interval),
            "top_listings": [
                {"listing_id": int(key), "title": titles.get(int(key), ""), "count": count, "amount": amount}
                for key, (count, amount) in by_listing
            ],
            "approvals": [{"outcome": "approved", "count": approved}, {"outcome": "rejected", "count": rejected}],
        },
    }


# --- Staff ------------------------------------------------------------------------------------------


@_shared(_staff_scope)
def overview(*, user: User, rng: DateRange) -> dict:
    totals = _Totals(
        _rollups(rng, ("sales.made", "sales.fees", "sales.refunded", "purchases.made")),
        by_date=("sales.made", "sales.fees"),
    )
    sales, volume = totals.total("sales.made")
    fees = totals.total("sales.fees")[1]
    refunds, refunded = totals.total("sales.refunded")
    active = (
        _rollups(rng, ("purchases.made", "sales.made"))
        .values("metric")
        .annotate(orgs=Count("organization_id", distinct=True))
    )
    active = {row["metric"]: row["orgs"] for row in active}
    queue = Listing.objects.filter(approval_status=Listing.ApprovalStatus.PENDING).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return {
        "range": rng.as_dict(),
        "kpis": {
            "sales": sales,
            "volume": volume,
            "fees": fees,
            "active_buyers": active.get("purchases.made", 0),
            "active_vendors": active.get("sales.made", 0),
            "refunds": refunds,
            "refunded": refunded,
            "return_rate": _rate(refunds, sales),
            "approval_queue": queue["count"],
            "approval_queue_oldest_hours": (
                round((timezone.now() - queue["oldest"]).total_seconds() / 3600, 1) if queue["oldest"] else None
            ),
            "open_disputes": Dispute.objects.filter(status=Dispute.Status.OPEN).count(),
        },
        "series": {
            "volume": _by_interval(rng, totals_by_date(totals, "sales.made")),
            "fees": _by_interval(rng, totals_by_date(totals, "sales.fees")),
        },
    }
