from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self):
        from leads import tasks  # noqa: F401 - registers the tasks the outbox sends by name
        from leads.imports import tasks as import_tasks  # noqa: F401
