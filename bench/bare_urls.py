"""The application's URLs plus `/bench/bare/`: a plain Django view answering a small constant
JSON document through the same middleware, the floor the catalog API is compared with."""

from django.http import JsonResponse
from django.urls import path

from leadnexus import urls as app_urls

BODY = {"status": "ok", "service": "leadnexus", "version": 1}


def bare(request):
    return JsonResponse(BODY)


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *app_urls.urlpatterns]

handler400 = app_urls.handler400
handler403 = app_urls.handler403
handler404 = app_urls.handler404
handler500 = app_urls.handler500
