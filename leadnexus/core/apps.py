from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadnexus.core"
    label = "core"
    verbose_name = "Kernel"

    def ready(self):
        from django.urls import register_converter

        from leadnexus.core import checks, lookups, tasks  # noqa: F401 - register the checks, the `any` lookup, the tasks
        from leadnexus.core.ids import IdConverter

        # `<id:pk>` in every app's URL patterns (before any URLconf is loaded).
        register_converter(IdConverter, "id")
