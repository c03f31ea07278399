"""The links in campaign emails, on SITE_URL outside /api/ and without sign-in (DESIGN §5):

- `/t/o/<token>.gif` the open pixel, a 1x1 GIF;
- `/t/c/<token>` a click: recorded, then redirected to the URL signed into the token;
- `/u/<token>` unsubscribe: GET asks to confirm, POST unsubscribes. Mail clients POST
  `List-Unsubscribe=One-Click` to it without a page or cookie (RFC 8058), so this POST alone
  is exempt from CSRF; the token is what it needs.

A forged or altered token is a 404 and records nothing (`crm.campaign_content.token_read`)."""

import base64

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from crm.services.campaign_tracking import (
    campaign_click_record,
    campaign_open_record,
    campaign_unsubscribe,
    campaign_unsubscribe_target,
)

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NOT_CACHED = "no-store, private"


class OpenView(View):
    def get(self, request, token):
        campaign_open_record(token=token)
        response = HttpResponse(PIXEL, content_type="image/gif")
        response["Cache-Control"] = NOT_CACHED
        return response


class ClickView(View):
    def get(self, request, token):
        response = HttpResponseRedirect(campaign_click_record(token=token))
        response["Cache-Control"] = NOT_CACHED
        response["Referrer-Policy"] = "no-referrer"  # the token stays with us
        return response


@method_decorator(csrf_exempt, name="dispatch")
class UnsubscribeView(View):
    template_name = "crm/campaigns/unsubscribe.html"

    def get(self, request, token):
        recipient = campaign_unsubscribe_target(token=token)
        return render(request, self.template_name, {"recipient": recipient, "token": token, "done": False})

    def post(self, request, token):
        recipient = campaign_unsubscribe(token=token)
        return render(request, self.template_name, {"recipient": recipient, "token": token, "done": True})


tracking_urlpatterns = [
    path("t/o/<str:token>.gif", OpenView.as_view(), name="open"),
    path("t/c/<str:token>", ClickView.as_view(), name="click"),
    path("u/<str:token>", UnsubscribeView.as_view(), name="unsubscribe"),
]
