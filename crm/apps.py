from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"

    def ready(self):
        # Register the event subscribers and the tasks sent by name.
        from crm import events, tasks  # noqa: F401
