from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        # Register the listing import spec, the event subscribers, the tasks sent by name and
        # the purchase entry of a bought lead's timeline and the personal data it holds.
        from marketplace import events, imports, privacy, tasks, timeline  # noqa: F401
