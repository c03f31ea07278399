"""`manage.py backup [--output-dir DIR] [--serialised]`: a backup of the whole database
(`leadnexus.core.backup`); prints its path."""

from django.core.management.base import BaseCommand

from leadnexus.core.backup import backup_create


class Command(BaseCommand):
    help = "Write a backup of the database (SQLite backup API, pg_dump, or Django's serialisation)."

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", help="Where to write it (default BACKUP_DIR).")
        parser.add_argument(
            "--serialised", action="store_true", help="Django's serialisation (JSON) even where native tools exist."
        )

    def handle(self, *args, output_dir=None, serialised=False, **options):
        path = backup_create(directory=output_dir, serialised=serialised)
        self.stdout.write(self.style.SUCCESS(f"Backup written to {path}"))
