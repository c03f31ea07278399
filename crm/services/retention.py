"""Soft-deleted contacts and opportunities go for good once they have been deleted for
RETENTION_DAYS (`leadnexus.core.retention`; 0 keeps them), by a beat job beside the other
retention jobs. Their activities go with them; each purge is an event naming when those
activities were logged, which analytics follows so its rollups stay what a rebuild makes."""

from django.db import transaction
from django.db.models import Model

from crm.models import Activity, Contact, Opportunity
from leadnexus.core.events import publish
from leadnexus.core.retention import retention_cutoff


def _purge(model: type[Model], event_name: str, cutoff) -> int:
    purged = 0
    for pk in model.objects.filter(deleted_at__lt=cutoff).order_by("pk").values_list("pk", flat=True).iterator():
        with transaction.atomic():
            record = model.objects.select_for_update().filter(pk=pk, deleted_at__lt=cutoff).first()
            if record is None:  # restored meanwhile
                continue
            on_record = Activity.objects.filter(**{model._meta.model_name: record})
            logged = sorted({at.isoformat() for at in on_record.values_list("created_at", flat=True)})
            publish(event_name, org=record.organization_id, subject=record, data={"activities_logged": logged})
            record.delete()
        purged += 1
    return purged


def crm_deleted_purge(*, now=None) -> int:
    """Delete the contacts and opportunities deleted before the retention window; how many."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    return _purge(Contact, "crm.contact.purged", cutoff) + _purge(Opportunity, "crm.opportunity.purged", cutoff)
