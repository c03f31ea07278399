from django.urls import path
from rest_framework.routers import SimpleRouter

from notifications import api, views

app_name = "notifications"

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("<id:pk>/read/", views.NotificationReadView.as_view(), name="read"),
    path("read-all/", views.NotificationReadAllView.as_view(), name="read-all"),
]

router = SimpleRouter()
router.register("workflows/notifications", api.NotificationViewSet, basename="notification")
api_urlpatterns = router.urls
