from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        # Register the event subscribers.
        from analytics import events  # noqa: F401
