"""Marketplace routes. Each feature module keeps its own list (`urlpatterns` for pages,
`api_urlpatterns` for the API); this file only puts them together."""

from marketplace.api import buying as buying_api
from marketplace.api import catalog as catalog_api
from marketplace.api import disputes as disputes_api
from marketplace.api import search as search_api
from marketplace.api import selling as selling_api
from marketplace.views import buying as buying_views
from marketplace.views import catalog as catalog_views
from marketplace.views import disputes as disputes_views
from marketplace.views import search as search_views
from marketplace.views import selling as selling_views

app_name = "marketplace"

urlpatterns = [
    *buying_views.urlpatterns,
    *disputes_views.urlpatterns,
    *selling_views.urlpatterns,
    *search_views.urlpatterns,
    *catalog_views.urlpatterns,
]

# Specific paths (uploads, approve, reject...) before the catalog router's `listings/{id}/`.
api_urlpatterns = [
    *buying_api.api_urlpatterns,
    *disputes_api.api_urlpatterns,
    *selling_api.api_urlpatterns,
    *search_api.api_urlpatterns,
    *catalog_api.api_urlpatterns,
]
