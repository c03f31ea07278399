"""`manage.py rollups_rebuild [--organization ID ...]`: the dashboards' daily rollups and
the vendors' quality rebuilt from the source tables (after a time zone change, a restore, or
to check them)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import Organization
from analytics.models import StaleDay
from analytics.quality import vendor_quality_refresh
from analytics.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the analytics rollups from the source tables."

    def add_arguments(self, parser):
        parser.add_argument("--organization", type=int, action="append", help="Only this organization (repeatable).")

    def handle(self, *args, organization=None, verbosity=1, **options):
        organizations = Organization.objects.order_by("pk")
        if organization:
            organizations = organizations.filter(pk__in=organization)
        total = 0
        for org in organizations.iterator():
            started = timezone.now()
            total += rollups_rebuild(organization=org)
            StaleDay.objects.filter(organization=org, marked_at__lte=started).delete()
            if org.is_vendor:
                vendor_quality_refresh(vendor_id=org.pk)
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Rebuilt {total} rollup rows."))
