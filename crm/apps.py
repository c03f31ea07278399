from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"

    def ready(self):
        # Register the event subscribers, the tasks sent by name, the activities on a
        # lead's timeline, the contact import spec and the personal data it holds.
        from crm import events, imports, privacy, tasks, timeline  # noqa: F401
