"""`manage.py restore PATH [--yes]`: replace everything in the database with a backup
(`leadnexus.core.backup`). Asks first unless --yes."""

from django.core.management.base import BaseCommand, CommandError

from leadnexus.core.backup import backup_restore
from leadnexus.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Replace everything in the database with a backup written by `manage.py backup`."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, path, yes=False, **options):
        if not yes:
            answer = input(f"Every record in the database will be replaced by {path}. Type 'yes' to go on: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled: nothing changed.")
        try:
            backup_restore(path=path)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {path}"))
