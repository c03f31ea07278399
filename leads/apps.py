from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self):
        from leads import privacy, tasks  # noqa: F401 - the personal data it holds; the tasks sent by name
        from leads.imports import tasks as import_tasks  # noqa: F401
