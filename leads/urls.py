"""Leads routes. Each feature module keeps its own list (`urlpatterns` for pages,
`api_urlpatterns` for the API); this file only puts them together."""

from leads.api import assignment as assignment_api
from leads.api import forms as forms_api
from leads.api import imports as imports_api
from leads.api import merge as merge_api
from leads.api import records as records_api
from leads.api import validate as validate_api
from leads.views import assignment as assignment_views
from leads.views import forms as forms_views
from leads.views import imports as imports_views
from leads.views import merge as merge_views
from leads.views import records as records_views

app_name = "leads"

# Pages under /leads/ (and the public capture form at /f/<slug>/, see forms_views.public_urlpatterns).
urlpatterns = [
    *imports_views.urlpatterns,
    *merge_views.urlpatterns,
    *assignment_views.urlpatterns,
    *forms_views.urlpatterns,
    *records_views.urlpatterns,
]

# Under /api/: specific paths before the lead router's `leads/{id}/`.
api_urlpatterns = [
    *imports_api.api_urlpatterns,
    *validate_api.api_urlpatterns,
    *merge_api.api_urlpatterns,
    *assignment_api.api_urlpatterns,
    *forms_api.api_urlpatterns,
    *records_api.api_urlpatterns,
]
