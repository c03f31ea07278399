from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # The tasks the outbox sends by name, and the email log's figures at /metrics.
        from notifications import metrics, tasks  # noqa: F401
