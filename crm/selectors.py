"""Which CRM records a user may see, decided once here and used by every list, detail,
board, forecast and service handed an id. The leads' rules (`leads.selectors.lead_scope`):
management and sales managers see every record of their organization; sales reps those
assigned to or created by them (all with `can_view_all_org_leads`); a sub-user without
`can_view_leads` none; another organization's record is not found.

Activities follow their record: whoever may see a lead, contact or opportunity sees its
activities, and everyone sees the activities assigned to them."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from crm.models import Activity, Contact, Opportunity, WebhookDelivery, WebhookEndpoint
from crm.pipeline import DEFAULT_PROBABILITY, OPEN_STAGES
from crm.policy import require_webhook_manager
from crm.webhook_events import BY_NAME
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from leadnexus.core.models import Event
from leads.selectors import lead_scope


def _owned(model, user: User) -> QuerySet:
    flags = permissions_of(user)
    if not flags["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view CRM records.")
    records = model.objects.filter(organization_id=user.organization_id)
    if user.role == User.Role.SALES_REP and not flags["can_view_all_org_leads"]:
        records = records.filter(Q(assigned_to=user) | Q(created_by=user))
    return records


def _one(records: QuerySet, record_id, label: str):
    record = records.filter(pk=record_id).first() if is_db_id(record_id) else None
    if record is None:
        raise NotFound(f"{label} not found.")
    return record


def contact_list(*, user: User) -> QuerySet[Contact]:
    return _owned(Contact, user).filter(deleted_at__isnull=True).select_related("assigned_to")


def contact_get(*, user: User, contact_id: int) -> Contact:
    return _one(contact_list(user=user), contact_id, "Contact")


def opportunity_list(*, user: User) -> QuerySet[Opportunity]:
    return _owned(Opportunity, user).filter(deleted_at__isnull=True).select_related("assigned_to", "contact", "lead")


def opportunity_get(*, user: User, opportunity_id: int) -> Opportunity:
    return _one(opportunity_list(user=user), opportunity_id, "Opportunity")


def activity_list(*, user: User) -> QuerySet[Activity]:
    flags = permissions_of(user)
    if not flags["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view CRM records.")
    activities = Activity.objects.filter(organization_id=user.organization_id)
    if user.role == User.Role.SALES_REP and not flags["can_view_all_org_leads"]:
        activities = activities.filter(
            Q(assigned_to=user)
            | Q(created_by=user)
            | Q(lead__in=lead_scope(user=user).values("pk"))
            | Q(contact__in=contact_list(user=user).values("pk"))
            | Q(opportunity__in=opportunity_list(user=user).values("pk"))
        )
    return activities.select_related("assigned_to", "created_by", "lead", "contact", "opportunity")


def activity_get(*, user: User, activity_id: int) -> Activity:
    return _one(activity_list(user=user), activity_id, "Activity")


def tasks_due(activities: QuerySet[Activity], *, due: str, now: datetime, today_end: datetime) -> QuerySet:
    """Open activities with a due time: `overdue`, due `today` (the rest of the user's day)
    or `upcoming` (after today), soonest first."""
    open_tasks = activities.filter(done_at__isnull=True, due_at__isnull=False).order_by("due_at", "pk")
    return {
        "overdue": open_tasks.filter(due_at__lt=now),
        "today": open_tasks.filter(due_at__gte=now, due_at__lt=today_end),
        "upcoming": open_tasks.filter(due_at__gte=today_end),
    }[due]


# --- The board and the forecast ----------------------------------------------------------------


def pipeline_board(*, user: User) -> list[dict]:
    """A column per stage: its opportunities (newest first), count, total and weighted value
    (amount x probability). Two queries whatever the number of opportunities."""
    opportunities = opportunity_list(user=user)
    totals = {
        row["stage"]: row
        for row in opportunities.order_by()
        .values("stage")
        .annotate(count=Count("pk"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability")))
    }
    cards: dict[str, list[Opportunity]] = {stage: [] for stage in Opportunity.Stage.values}
    for opportunity in opportunities.order_by("-updated_at", "-pk"):
        cards[opportunity.stage].append(opportunity)
    return [
        {
            "stage": stage,
            "label": label,
            "count": totals.get(stage, {}).get("count", 0),
            "total": _money(totals.get(stage, {}).get("total")),
            "weighted": _money((totals.get(stage, {}).get("weighted") or 0) / 100),
            "default_probability": DEFAULT_PROBABILITY[stage],
            "opportunities": cards[stage],
        }
        for stage, label in Opportunity.Stage.choices
    ]


def pipeline_forecast(*, user: User, months: int = 6, today: date | None = None) -> list[dict]:
    """Open opportunities by month of expected close, for `months` months from this one:
    count, total and weighted value; then the ones expected `later`, `overdue` (expected
    before this month, still open) and `undated`."""
    today = today or timezone.localdate()
    start = today.replace(day=1)
    open_deals = opportunity_list(user=user).filter(stage__in=OPEN_STAGES).order_by()
    by_month = {
        row["month"]: row
        for row in open_deals.filter(expected_close_date__gte=start)
        .annotate(month=TruncMonth("expected_close_date"))
        .values("month")
        .annotate(count=Count("pk"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability")))
    }
    rows = []
    month = start
    for _ in range(months):
        rows.append(_forecast_row(month.isoformat()[:7], by_month.get(month, {})))
        month = (month + timedelta(days=32)).replace(day=1)
    for label, subset in (
        ("later", open_deals.filter(expected_close_date__gte=month)),
        ("overdue", open_deals.filter(expected_close_date__lt=start)),
        ("undated", open_deals.filter(expected_close_date__isnull=True)),
    ):
        row = subset.aggregate(count=Count("pk"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability")))
        rows.append(_forecast_row(label, row))
    return rows


def _forecast_row(label: str, row: dict) -> dict:
    return {
        "month": label,
        "count": row.get("count") or 0,
        "total": _money(row.get("total")),
        "weighted": _money((row.get("weighted") or 0) / 100),
    }


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


# --- Outbound webhooks -------------------------------------------------------------------------


def webhook_endpoint_list(*, user: User) -> QuerySet[WebhookEndpoint]:
    """The organization's webhook endpoints, for the members who may manage them."""
    require_webhook_manager(user)
    return WebhookEndpoint.objects.filter(organization_id=user.organization_id)


def webhook_endpoint_get(*, user: User, endpoint_id: int) -> WebhookEndpoint:
    return _one(webhook_endpoint_list(user=user), endpoint_id, "Webhook")


def webhook_delivery_list(*, user: User, endpoint_id: int) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first."""
    endpoint = webhook_endpoint_get(user=user, endpoint_id=endpoint_id)
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")


def webhook_endpoints_subscribed(*, event: Event) -> list[WebhookEndpoint]:
    """The active endpoints of the event's organization subscribed to it: who hears of an
    event is the event's to say, not a viewer's. One query, also when there are none."""
    webhook_event = BY_NAME.get(event.name)
    if webhook_event is None or event.org_id is None:
        return []
    endpoints = WebhookEndpoint.objects.filter(organization_id=event.org_id, is_active=True)
    return [endpoint for endpoint in endpoints if webhook_event.key in endpoint.events]
