from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications import privacy, tasks  # noqa: F401 - the personal data it holds; the tasks sent by name
