from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications import tasks  # noqa: F401 - registers the tasks the outbox sends by name
