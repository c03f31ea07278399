from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # The tasks the outbox sends by name, the email log's figures at /metrics, and the
        # personal data it holds.
        from notifications import metrics, privacy, tasks  # noqa: F401
