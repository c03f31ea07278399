"""Analytics routes: dashboard pages under /dashboard/ (`urlpatterns`) and the API
(`api_urlpatterns`, under /api/)."""

from django.urls import path

from analytics import views
from analytics.api import dashboards as dashboards_api

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("buyer/", views.BuyerDashboardView.as_view(), name="buyer"),
    path("vendor/", views.VendorDashboardView.as_view(), name="vendor"),
    path("overview/", views.OverviewView.as_view(), name="overview"),
]

api_urlpatterns = [
    *dashboards_api.api_urlpatterns,
]
