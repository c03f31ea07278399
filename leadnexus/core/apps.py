from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadnexus.core"
    label = "core"
    verbose_name = "Kernel"

    def ready(self):
        from django.urls import register_converter

        # Register the deployment checks, the `any` lookup, the tasks, the metrics (task
        # outcomes, scrape sources) and the event trail's personal data.
        from leadnexus.core import checks, lookups, metrics, privacy, tasks  # noqa: F401
        from leadnexus.core.ids import IdConverter

        # `<id:pk>` in every app's URL patterns (before any URLconf is loaded).
        register_converter(IdConverter, "id")
