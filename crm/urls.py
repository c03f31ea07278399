"""CRM routes: pages under /crm/ (`urlpatterns`) and the API (`api_urlpatterns`, under /api/)."""

from crm.api import campaigns as campaigns_api
from crm.api import imports as imports_api
from crm.api import records as records_api
from crm.api import webhooks as webhooks_api
from crm.views import campaigns as campaigns_views
from crm.views import imports as imports_views
from crm.views import records as records_views
from crm.views import webhooks as webhooks_views

app_name = "crm"

urlpatterns = [
    *campaigns_views.urlpatterns,
    *imports_views.urlpatterns,
    *records_views.urlpatterns,
    *webhooks_views.urlpatterns,
]

api_urlpatterns = [
    *campaigns_api.api_urlpatterns,
    *imports_api.api_urlpatterns,
    *records_api.api_urlpatterns,
    *webhooks_api.api_urlpatterns,
]
