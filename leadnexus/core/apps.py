from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadnexus.core"
    label = "core"
    verbose_name = "Kernel"

    def ready(self):
        from leadnexus.core import tasks  # noqa: F401 - registers the tasks the outbox sends by name
