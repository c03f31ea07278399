from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import api_urlpatterns as accounts_api
from analytics.urls import api_urlpatterns as analytics_api
from crm.urls import api_urlpatterns as crm_api
from crm.views.tracking import tracking_urlpatterns as campaign_tracking
from leads.urls import api_urlpatterns as leads_api
from leads.views.forms import public_urlpatterns as capture_form_pages
from marketplace.urls import api_urlpatterns as marketplace_api
from notifications.urls import api_urlpatterns as notifications_api

api_urlpatterns = [
    *accounts_api,
    *notifications_api,
    *leads_api,
    *crm_api,
    *marketplace_api,
    *analytics_api,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's page carries one inline <style>; its scripts load as files.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
        name="docs",
    ),
]

urlpatterns = [
    path("", include("leadnexus.core.urls")),
    path("", include("accounts.urls")),
    # Staff sign in like everyone else (verified email, two-factor, a recorded session).
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
    path("api/", include((api_urlpatterns, "api"))),
    path("notifications/", include("notifications.urls")),
    path("dashboard/", include("analytics.urls")),
    path("leads/", include("leads.urls")),
    path("crm/", include("crm.urls")),
    path("marketplace/", include("marketplace.urls")),
    path("f/", include((capture_form_pages, "capture"))),
    # The links in campaign emails: open pixel, click redirects, unsubscribe.
    path("", include((campaign_tracking, "track"))),
]

handler400 = "leadnexus.core.errors.bad_request"
handler403 = "leadnexus.core.errors.permission_denied"
handler404 = "leadnexus.core.errors.page_not_found"
handler500 = "leadnexus.core.errors.server_error"
