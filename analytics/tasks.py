from celery import shared_task

from analytics.services import rollups_refresh


@shared_task(name="analytics.tasks.rollups_refresh")
def rollups_refresh_task() -> int:
    """Recompute the rollups of the days events marked stale (also Celery beat, every minute)."""
    return rollups_refresh()
