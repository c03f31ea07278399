from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"

    def ready(self):
        # Register the event subscribers, the tasks sent by name and the activities on a
        # lead's timeline.
        from crm import events, tasks, timeline  # noqa: F401
