"""Dashboard pages: sales (the home page), buyer, vendor and the staff overview, each over a
range of the organization's local dates, with charts whose numbers are also a table and a
CSV download (`?download=<chart>` with the same range). The figures come from
`analytics.selectors.dashboards`, as the API's do."""

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.views.generic import TemplateView

from accounts.policy import permissions_of
from analytics.selectors import dashboards as selectors
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leads.imports.export import cell_safe, csv_response
from marketplace.policy import can_buy, can_sell


@dataclass
class Chart:
    """One chart of a page: drawn by static/js/analytics/charts.js from `spec`, its numbers
    in `columns` and `rows` for the table and the CSV."""

    name: str
    title: str
    kind: str  # line, bar or donut
    labels: list
    datasets: list[dict]
    columns: list[str]
    rows: list[list] = field(default_factory=list)

    @property
    def spec(self) -> dict:
        return {"kind": self.kind, "labels": self.labels, "datasets": self.datasets}

    @property
    def data_id(self) -> str:
        return f"chart-{self.name}-data"

    @property
    def empty(self) -> bool:
        return not any(value for dataset in self.datasets for value in dataset["data"])


def _money(value) -> str:
    return f"{settings.CURRENCY} {value:,.2f}"


def _percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _minutes(minutes) -> str:
    if minutes is None:
        return "—"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest} min" if hours else f"{rest} min"


def _count(number: int, noun: str) -> str:
    """ "1 deal", "2 deals"."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _day(value) -> str:
    return date_format(value, "j M")


def _points_chart(name: str, title: str, points: list[dict], *, count: str, amount: str | None = None) -> Chart:
    datasets = [{"label": count, "data": [point["count"] for point in points]}]
    if amount:
        datasets = [{"label": amount, "data": [float(point["amount"]) for point in points]}]
    columns = ["Date", count] + ([amount] if amount else [])
    rows = [[point["date"].isoformat(), point["count"]] + ([point["amount"]] if amount else []) for point in points]
    return Chart(name, title, "line", [_day(point["date"]) for point in points], datasets, columns, rows)


def _counts_chart(name: str, title: str, kind: str, items: list[dict], label: str, value: str = "count") -> Chart:
    return Chart(
        name,
        title,
        kind,
        [item[label] for item in items],
        [{"label": value.replace("_", " ").capitalize(), "data": [float(item[value]) for item in items]}],
        [label.replace("_", " ").capitalize(), value.replace("_", " ").capitalize()],
        [[item[label], item[value]] for item in items],
    )


class _DashboardPage(LoginRequiredMixin, TemplateView):
    template_name = ""
    title = ""

    def allowed(self, user) -> bool:
        raise NotImplementedError

    def charts(self, figures: dict) -> list[Chart]:
        raise NotImplementedError

    def kpis(self, kpis: dict) -> list[tuple[str, str, str]]:
        """(label, value, hint) of each figure card."""
        raise NotImplementedError

    def figures(self, rng):
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        if not self.allowed(request.user):
            raise DjangoPermissionDenied
        try:
            self.rng = selectors.date_range(user=request.user, params=request.GET)
            self.range_error = ""
        except ValidationFailed as exc:
            self.rng = selectors.date_range(user=request.user, params={})
            self.range_error = exc.message
        try:
            figures = self.figures(self.rng)
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.message) from exc
        charts = self.charts(figures)
        download = request.GET.get("download")
        if download:
            chart = next((chart for chart in charts if chart.name == download), None)
            if chart is None:
                raise Http404("No such chart.")
            rows = [chart.columns, *([cell_safe(value) for value in row] for row in chart.rows)]
            filename = f"{chart.name}-{self.rng.first}-{self.rng.last}.csv"
            return csv_response(rows, filename=filename)
        context = self.get_context_data(figures=figures, charts=charts, kpis=self.kpis(figures["kpis"]), **kwargs)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        query = self.request.GET.copy()
        query.pop("download", None)
        context.update(
            title=self.title,
            rng=self.rng,
            range_error=self.range_error,
            query=query.urlencode(),
            presets=[7, 30, 90, 365],
            tabs=[
                (url_name, label, reverse(f"analytics:{url_name}"))
                for url_name, label, allowed in (
                    ("dashboard", "Sales", permissions_of(user)["can_view_leads"]),
                    ("buyer", "Buying", can_buy(user)),
                    ("vendor", "Selling", can_sell(user)),
                    ("overview", "Marketplace", user.is_staff),
                )
                if allowed
            ],
            current=self.request.resolver_match.url_name,
        )
        return context


class DashboardView(_DashboardPage):
    """The signed-in home page: the sales figures (a rep's own, else the organization's); for
    a member who may not view leads, the first dashboard they may see, or a welcome."""

    template_name = "analytics/sales.html"
    title = "Sales"

    def allowed(self, user) -> bool:
        return permissions_of(user)["can_view_leads"]

    def get(self, request, *args, **kwargs):
        if self.allowed(request.user):
            return super().get(request, *args, **kwargs)
        for view, url_name in (
            (BuyerDashboardView, "buyer"),
            (VendorDashboardView, "vendor"),
            (OverviewView, "overview"),
        ):
            if view().allowed(request.user):
                return redirect(f"analytics:{url_name}")
        return TemplateResponse(request, "analytics/welcome.html")

    def figures(self, rng):
        return selectors.sales_dashboard(user=self.request.user, rng=rng)

    def kpis(self, k):
        return [
            ("New leads", str(k["new_leads"]), _count(k["contacted"], "first contact")),
            ("Conversion rate", _percent(k["conversion_rate"]), "of the leads added"),
            ("Won", _money(k["won_amount"]), f"{_count(k['won'], 'deal')}, {k['lost']} lost"),
            ("Win rate", _percent(k["win_rate"]), "of the deals closed"),
            ("Open pipeline", _money(k["pipeline_value"]), f"weighted {_money(k['weighted_forecast'])}"),
            ("First contact after", _minutes(k["avg_first_contact_minutes"]), "on average"),
            ("Activities", str(k["activities"]), "logged"),
            ("Overdue tasks", str(k["overdue_tasks"]), "now"),
        ]

    def charts(self, figures):
        series = figures["series"]
        return [
            _points_chart("new-leads", "New leads", series["new_leads"], count="Leads"),
            _points_chart("won", "Deals won", series["won"], count="Deals", amount="Won amount"),
            _counts_chart("status", "Leads added, by status now", "donut", series["leads_by_status"], "label"),
            _counts_chart("source", "Leads added, by source", "bar", series["leads_by_source"], "label"),
            _counts_chart(
                "pipeline", "Open pipeline by stage", "bar", series["pipeline_by_stage"][:4], "label", "total"
            ),
            _counts_chart(
                "forecast",
                "Weighted forecast by month of expected close",
                "bar",
                series["forecast"],
                "month",
                "weighted",
            ),
            _counts_chart("activities", "Activities per rep", "bar", series["leaderboard"], "name", "activities"),
        ]


class BuyerDashboardView(_DashboardPage):
    template_name = "analytics/buyer.html"
    title = "Buying"

    def allowed(self, user) -> bool:
        return can_buy(user)

    def figures(self, rng):
        return selectors.buyer_dashboard(user=self.request.user, rng=rng)

    def kpis(self, k):
        return [
            ("Spend", _money(k["spend"]), f"{_count(k['purchases'], 'lead')} bought"),
            ("Refunded", _money(k["refunded"]), f"{k['disputed']} disputed"),
            ("Won from bought leads", _money(k["won_amount"]), _count(k["won"], "deal")),
            (
                "Return on spend",
                "—" if k["return_on_spend"] is None else f"{k['return_on_spend']:.2f}x",
                "won amount over net spend",
            ),
        ]

    def charts(self, figures):
        series = figures["series"]
        return [
            _points_chart("spend", "Spend", series["spend"], count="Purchases", amount="Spend"),
            _counts_chart("outcomes", "What became of the leads bought", "donut", series["outcomes"], "outcome"),
            _counts_chart("industries", "Spend by industry", "bar", series["by_industry"], "industry", "amount"),
            _counts_chart("vendors", "Spend by vendor", "bar", series["by_vendor"], "vendor", "amount"),
        ]


class VendorDashboardView(_DashboardPage):
    template_name = "analytics/vendor.html"
    title = "Selling"

    def allowed(self, user) -> bool:
        return can_sell(user)

    def figures(self, rng):
        return selectors.vendor_dashboard(user=self.request.user, rng=rng)

    def kpis(self, k):
        return [
            ("Sales", str(k["sales"]), f"revenue {_money(k['revenue'])}"),
            ("Earned", _money(k["earned"]), f"refunded {_money(k['refunded'])}"),
            ("Dispute rate", _percent(k["dispute_rate"]), f"{k['disputed']} disputed"),
            ("Approval rate", _percent(k["approval_rate"]), f"{k['approved']} approved, {k['rejected']} rejected"),
            ("Pending earnings", _money(k["pending_earnings"]), "until the dispute window closes"),
            ("Available earnings", _money(k["available_earnings"]), "now"),
            ("Quality", k["quality"].summary, k["quality"].rates or "Rated once buyers have worked your leads"),
        ]

    def charts(self, figures):
        series = figures["series"]
        return [
            _points_chart("sales", "Sales", series["sales"], count="Sales", amount="Revenue"),
            _counts_chart("listings", "Top listings by revenue", "bar", series["top_listings"], "title", "amount"),
            _counts_chart("approvals", "Listings reviewed", "donut", series["approvals"], "outcome"),
        ]


class OverviewView(_DashboardPage):
    template_name = "analytics/overview.html"
    title = "Marketplace"

    def allowed(self, user) -> bool:
        return user.is_staff

    def figures(self, rng):
        return selectors.overview(user=self.request.user, rng=rng)

    def kpis(self, k):
        oldest = "—" if k["approval_queue_oldest_hours"] is None else f"{k['approval_queue_oldest_hours']} h"
        return [
            ("Volume", _money(k["volume"]), _count(k["sales"], "sale")),
            ("Platform fees", _money(k["fees"]), ""),
            ("Active buyers", str(k["active_buyers"]), _count(k["active_vendors"], "active vendor")),
            ("Return rate", _percent(k["return_rate"]), f"{_count(k['refunds'], 'refund')}, {_money(k['refunded'])}"),
            ("Approval queue", str(k["approval_queue"]), f"oldest waiting {oldest}"),
            ("Open disputes", str(k["open_disputes"]), "now"),
        ]

    def charts(self, figures):
        series = figures["series"]
        return [
            _points_chart("volume", "Marketplace volume", series["volume"], count="Sales", amount="Volume"),
            _points_chart("fees", "Platform fees", series["fees"], count="Sales", amount="Fees"),
        ]


urlpatterns = [
    path("", DashboardView.as_view(), name="dashboard"),
    path("buyer/", BuyerDashboardView.as_view(), name="buyer"),
    path("vendor/", VendorDashboardView.as_view(), name="vendor"),
    path("overview/", OverviewView.as_view(), name="overview"),
]
