from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        # Register the listing import spec, the event subscribers and the tasks sent by name.
        from marketplace import events, imports, tasks  # noqa: F401
