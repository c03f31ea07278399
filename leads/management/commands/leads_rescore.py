"""Rescore every live lead (or one organization's): `python manage.py leads_rescore [--org ID]`.

Run it after changing the weights in `leads.scoring`; beat runs the same nightly so recency
keeps decaying (see `leads.scoring.leads_rescore`).
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from leads import scoring


class Command(BaseCommand):
    help = "Recompute the score and breakdown of every live lead, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--org", type=int, help="Only this organization's leads (its id).")
        parser.add_argument("--batch-size", type=int, default=1000, help="Leads per transaction (default 1000).")

    def handle(self, *args, org=None, batch_size=1000, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if org is not None and not Organization.objects.filter(pk=org).exists():
            raise CommandError(f"No organization with id {org}.")

        def progress(last_id, scored):
            if options["verbosity"] > 1:
                self.stdout.write(f"  up to lead {last_id}: {scored} scored")

        result = scoring.leads_rescore(organization_id=org, batch_size=batch_size, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(f"Scored {result.scored} leads: {result.changed} changed, {len(result.hot)} turned hot.")
        )
