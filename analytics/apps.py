from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        # Register the event subscribers and the tasks sent by name.
        from analytics import events, tasks  # noqa: F401
