"""Dashboards over the API (DESIGN §5): `GET analytics` (sales; `?days=` or `?from=&to=`),
`GET dashboard/client` and `dashboard/client/purchase-trends` (the buyer),
`GET dashboard/vendor` and `dashboard/vendor/sales-trends` (the vendor), and
`GET analytics/overview` (staff). Each answers `{range, kpis, series}` from
`analytics.selectors.dashboards`; the trends answer one series by `interval` (day, week or month)."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.rollups import OUTCOMES
from analytics.selectors import dashboards as selectors
from crm.models import Opportunity
from leads.models import Lead
from marketplace.api.catalog import VendorQualityOutputSerializer

RANGE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (the organization's local date)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive (default today)."),
    OpenApiParameter("days", int, description=f"The last N days (1 to {selectors.MAX_DAYS}, default 30)."),
]
INTERVAL_PARAMETER = OpenApiParameter("interval", str, enum=list(selectors.INTERVALS), description="Default day.")


def _money(**kwargs):
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _rate(help_text: str):
    return serializers.FloatField(allow_null=True, help_text=f"{help_text}, 0 to 1; null when nothing to divide by.")


def _dashboard(name: str, kpis, series) -> type[serializers.Serializer]:
    """A dashboard's answer: `{range, kpis, series}`."""
    fields = {"range": RangeOutputSerializer(), "kpis": kpis(), "series": series()}
    return type(name, (serializers.Serializer,), fields)


class RangeOutputSerializer(serializers.Serializer):
    to = serializers.DateField()
    days = serializers.IntegerField()
    time_zone = serializers.CharField()

    def get_fields(self):
        # "from" is a Python keyword: it cannot be declared above.
        return {"from": serializers.DateField(help_text="The first day."), **super().get_fields()}


class PointOutputSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The day, or the first day of the week or month.")
    count = serializers.IntegerField()
    amount = _money()


class CountOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class StatusCountOutputSerializer(CountOutputSerializer):
    status = serializers.ChoiceField(choices=Lead.Status.choices)
    label = serializers.CharField()


class SourceCountOutputSerializer(CountOutputSerializer):
    source = serializers.ChoiceField(choices=Lead.Source.choices)
    label = serializers.CharField()


class StageOutputSerializer(CountOutputSerializer):
    stage = serializers.ChoiceField(choices=Opportunity.Stage.choices)
    label = serializers.CharField()
    total = _money()
    weighted = _money(help_text="Amount x probability.")


class ForecastOutputSerializer(CountOutputSerializer):
    month = serializers.CharField(help_text="YYYY-MM, or later, overdue, undated.")
    total = _money()
    weighted = _money()


class RepOutputSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    new_leads = serializers.IntegerField()
    contacted = serializers.IntegerField()
    won = serializers.IntegerField()
    won_amount = _money()
    activities = serializers.IntegerField()


class SalesKpisOutputSerializer(serializers.Serializer):
    new_leads = serializers.IntegerField()
    contacted = serializers.IntegerField(help_text="First contacts made in the range.")
    conversion_rate = _rate("Leads added in the range and converted, over those added")
    won = serializers.IntegerField()
    won_amount = _money()
    lost = serializers.IntegerField()
    win_rate = _rate("Won over won and lost, closed in the range")
    avg_first_contact_minutes = serializers.FloatField(allow_null=True)
    activities = serializers.IntegerField()
    pipeline_value = _money(help_text="Open opportunities now.")
    weighted_forecast = _money(help_text="Open opportunities now, weighted by probability.")
    overdue_tasks = serializers.IntegerField()


class SalesSeriesOutputSerializer(serializers.Serializer):
    new_leads = PointOutputSerializer(many=True)
    won = PointOutputSerializer(many=True)
    leads_by_status = StatusCountOutputSerializer(many=True, help_text="Leads added in the range, by status now.")
    leads_by_source = SourceCountOutputSerializer(many=True)
    pipeline_by_stage = StageOutputSerializer(many=True)
    forecast = ForecastOutputSerializer(many=True)
    leaderboard = RepOutputSerializer(many=True)


SalesDashboardOutputSerializer = _dashboard(
    "SalesDashboardOutputSerializer", SalesKpisOutputSerializer, SalesSeriesOutputSerializer
)


class BuyerKpisOutputSerializer(serializers.Serializer):
    purchases = serializers.IntegerField()
    spend = _money()
    refunded = _money()
    net_spend = _money()
    won = serializers.IntegerField(help_text="Bought leads with a won deal.")
    won_amount = _money()
    return_on_spend = serializers.FloatField(allow_null=True, help_text="Won amount over net spend.")
    disputed = serializers.IntegerField()


class IndustryOutputSerializer(CountOutputSerializer):
    industry = serializers.CharField()
    amount = _money()


class VendorSpendOutputSerializer(CountOutputSerializer):
    vendor_id = serializers.IntegerField()
    vendor = serializers.CharField()
    amount = _money()
    won_amount = _money()
    return_on_spend = serializers.FloatField(allow_null=True)


class OutcomeOutputSerializer(CountOutputSerializer):
    outcome = serializers.ChoiceField(choices=[(outcome, outcome) for outcome in OUTCOMES])


class BuyerSeriesOutputSerializer(serializers.Serializer):
    spend = PointOutputSerializer(many=True)
    by_industry = IndustryOutputSerializer(many=True)
    by_vendor = VendorSpendOutputSerializer(many=True)
    outcomes = OutcomeOutputSerializer(many=True, help_text="What became of the leads bought in the range.")


BuyerDashboardOutputSerializer = _dashboard(
    "BuyerDashboardOutputSerializer", BuyerKpisOutputSerializer, BuyerSeriesOutputSerializer
)


class VendorKpisOutputSerializer(serializers.Serializer):
    sales = serializers.IntegerField()
    revenue = _money(help_text="What buyers paid.")
    earned = _money(help_text="Your share, after the platform fee.")
    refunded = _money()
    disputed = serializers.IntegerField()
    dispute_rate = _rate("Sales disputed over sales")
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    approval_rate = _rate("Listings approved over reviewed")
    pending_earnings = _money(help_text="Now: waiting for the dispute window to close.")
    available_earnings = _money(help_text="Now.")
    quality = VendorQualityOutputSerializer(
        source="quality.payload", help_text="Your quality as buyers see it, over all your sold leads (now)."
    )


class ListingSalesOutputSerializer(CountOutputSerializer):
    listing_id = serializers.IntegerField()
    title = serializers.CharField()
    amount = _money()


class ApprovalOutputSerializer(CountOutputSerializer):
    outcome = serializers.ChoiceField(choices=[("approved", "approved"), ("rejected", "rejected")])


class VendorSeriesOutputSerializer(serializers.Serializer):
    sales = PointOutputSerializer(many=True)
    top_listings = ListingSalesOutputSerializer(many=True)
    approvals = ApprovalOutputSerializer(many=True)


VendorDashboardOutputSerializer = _dashboard(
    "VendorDashboardOutputSerializer", VendorKpisOutputSerializer, VendorSeriesOutputSerializer
)


class OverviewKpisOutputSerializer(serializers.Serializer):
    sales = serializers.IntegerField()
    volume = _money()
    fees = _money()
    active_buyers = serializers.IntegerField()
    active_vendors = serializers.IntegerField()
    refunds = serializers.IntegerField()
    refunded = _money()
    return_rate = _rate("Sales refunded over sales")
    approval_queue = serializers.IntegerField(help_text="Listings waiting for review now.")
    approval_queue_oldest_hours = serializers.FloatField(allow_null=True)
    open_disputes = serializers.IntegerField()


class OverviewSeriesOutputSerializer(serializers.Serializer):
    volume = PointOutputSerializer(many=True)
    fees = PointOutputSerializer(many=True)


OverviewOutputSerializer = _dashboard(
    "OverviewOutputSerializer", OverviewKpisOutputSerializer, OverviewSeriesOutputSerializer
)


class TrendSeriesOutputSerializer(serializers.Serializer):
    points = PointOutputSerializer(many=True)


class TrendOutputSerializer(serializers.Serializer):
    range = RangeOutputSerializer()
    interval = serializers.ChoiceField(choices=[(name, name) for name in selectors.INTERVALS])
    points = PointOutputSerializer(many=True)


# --- Views -----------------------------------------------------------------------------------------


class _DashboardView(APIView):
    serializer_class = None
    reader = None

    def get(self, request):
        rng = selectors.date_range(user=request.user, params=request.query_params)
        return Response(self.serializer_class(self.read(request, rng)).data)

    def read(self, request, rng):
        return type(self).reader(user=request.user, rng=rng)


@extend_schema(summary="Sales figures (your own as a sales rep, else the organization's)", parameters=RANGE_PARAMETERS)
class SalesDashboardView(_DashboardView):
    serializer_class = SalesDashboardOutputSerializer
    reader = selectors.sales_dashboard


@extend_schema(
    summary="The buyer's dashboard: spend, outcomes of bought leads, return on spend", parameters=RANGE_PARAMETERS
)
class BuyerDashboardView(_DashboardView):
    serializer_class = BuyerDashboardOutputSerializer
    reader = selectors.buyer_dashboard


@extend_schema(summary="The vendor's dashboard: sales, earnings, approvals, disputes", parameters=RANGE_PARAMETERS)
class VendorDashboardView(_DashboardView):
    serializer_class = VendorDashboardOutputSerializer
    reader = selectors.vendor_dashboard


@extend_schema(summary="The marketplace at a glance (staff)", parameters=RANGE_PARAMETERS)
class OverviewView(_DashboardView):
    serializer_class = OverviewOutputSerializer
    reader = selectors.overview


class _TrendView(_DashboardView):
    serializer_class = TrendOutputSerializer
    series = ""

    def read(self, request, rng):
        interval = selectors.parse_interval(request.query_params)
        figures = type(self).reader(user=request.user, rng=rng, interval=interval)
        return {"range": figures["range"], "interval": interval, "points": figures["series"][self.series]}


@extend_schema(summary="The buyer's spend over time", parameters=[*RANGE_PARAMETERS, INTERVAL_PARAMETER])
class PurchaseTrendsView(_TrendView):
    reader = selectors.buyer_dashboard
    series = "spend"


@extend_schema(summary="The vendor's sales over time", parameters=[*RANGE_PARAMETERS, INTERVAL_PARAMETER])
class SalesTrendsView(_TrendView):
    reader = selectors.vendor_dashboard
    series = "sales"


api_urlpatterns = [
    path("analytics/", SalesDashboardView.as_view(), name="analytics-sales"),
    path("analytics/overview/", OverviewView.as_view(), name="analytics-overview"),
    path("dashboard/client/", BuyerDashboardView.as_view(), name="dashboard-client"),
    path("dashboard/client/purchase-trends/", PurchaseTrendsView.as_view(), name="dashboard-client-trends"),
    path("dashboard/vendor/", VendorDashboardView.as_view(), name="dashboard-vendor"),
    path("dashboard/vendor/sales-trends/", SalesTrendsView.as_view(), name="dashboard-vendor-trends"),
]
