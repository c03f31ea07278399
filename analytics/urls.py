"""Analytics routes: pages under /dashboard/ (`urlpatterns`) and the API (`api_urlpatterns`,
under /api/)."""

from analytics.api import dashboards as dashboards_api
from analytics.api import reports as reports_api
from analytics.views import dashboards as dashboards_views
from analytics.views import reports as reports_views

app_name = "analytics"

urlpatterns = [
    *dashboards_views.urlpatterns,
    *reports_views.urlpatterns,
]

api_urlpatterns = [
    *dashboards_api.api_urlpatterns,
    *reports_api.api_urlpatterns,
]
