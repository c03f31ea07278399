from celery import shared_task

from leads import scoring
from leads.services import records, response


@shared_task(name="leads.tasks.leads_score")
def leads_score(*, lead_ids: list[int]) -> int:
    """Recompute the scores of these leads (after a create, an edit or an import batch);
    the number whose score or breakdown changed."""
    return scoring.leads_score(lead_ids=lead_ids).changed


@shared_task(name="leads.tasks.leads_rescore")
def leads_rescore() -> int:
    """Nightly: every live lead rescored, so recency keeps decaying."""
    return scoring.leads_rescore().changed


@shared_task(name="leads.tasks.leads_purge")
def leads_purge() -> int:
    return records.leads_purge()


@shared_task(name="leads.tasks.leads_response_alert")
def leads_response_alert() -> int:
    return response.leads_response_alert()
