"""Analytics routes: pages under /dashboard/ (`urlpatterns`) and the API (`api_urlpatterns`,
under /api/)."""

from django.urls import path

from analytics import views
from analytics.api import api_urlpatterns  # noqa: F401 - included by leadnexus.urls

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    *views.report_urlpatterns,
]
