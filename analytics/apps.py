from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        # Register the tasks sent by name (report jobs through the outbox).
        from analytics import tasks  # noqa: F401
