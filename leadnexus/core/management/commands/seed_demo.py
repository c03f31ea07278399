"""Demo data for a fresh install: `python manage.py seed_demo`. Safe to run again.

Each app that has demo data provides `<app>/demo.py` with `seed(state: dict) -> None`;
apps run in INSTALLED_APPS order (the dependency order), so later apps find what
earlier ones made in `state`. Logins collected in `state["logins"]` are printed."""

from importlib import import_module, util

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create (or refresh) the demo organizations, users and data, and print the logins."

    def handle(self, *args, **options):
        state = {"logins": []}
        with transaction.atomic():
            for app in apps.get_app_configs():
                if util.find_spec(f"{app.name}.demo") is not None:
                    import_module(f"{app.name}.demo").seed(state)
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with:"))
        for role, email, password in state["logins"]:
            self.stdout.write(f"  {role:<26} {email:<32} {password}")
