from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"

    def ready(self):
        # Register the event subscribers, the tasks sent by name, the activities on a
        # lead's timeline and the contact import spec.
        from crm import events, imports, tasks, timeline  # noqa: F401
