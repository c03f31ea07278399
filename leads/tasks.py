from celery import shared_task

from leads.services import records


@shared_task(name="leads.tasks.leads_score")
def leads_score(*, lead_ids: list[int]) -> None:
    """Recompute the scores of these leads."""


@shared_task(name="leads.tasks.leads_purge")
def leads_purge() -> int:
    return records.leads_purge()
