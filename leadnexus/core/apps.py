from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadnexus.core"
    label = "core"
    verbose_name = "Kernel"

    def ready(self):
        from django.urls import register_converter

        from leadnexus.core import tasks  # noqa: F401 - registers the tasks the outbox sends by name
        from leadnexus.core.ids import IdConverter

        # `<id:pk>` in every app's URL patterns (before any URLconf is loaded).
        register_converter(IdConverter, "id")
