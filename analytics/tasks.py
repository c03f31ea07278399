"""Celery tasks of analytics: refreshing the rollups, report jobs, and the beat jobs of
reports and summaries."""

from celery import shared_task

from analytics.services.exports import report_export_process, report_exports_purge, report_exports_resume_stale
from analytics.services.rollups import rollups_refresh
from analytics.services.subscriptions import report_subscriptions_send
from analytics.services.summaries import daily_summaries_send


@shared_task(name="analytics.tasks.rollups_refresh")
def rollups_refresh_task() -> int:
    """Recompute the rollups of the days events marked stale (also Celery beat, every minute)."""
    return rollups_refresh()


@shared_task(name="analytics.tasks.report_export_process")
def report_export_process_task(*, export_id: int) -> bool:
    """Write a large report's file; safe to run twice (the export is claimed)."""
    return report_export_process(export_id=export_id) is not None


@shared_task(name="analytics.tasks.report_exports_resume_stale")
def report_exports_resume_stale_task() -> int:
    """Celery beat, every two minutes: report jobs whose worker went quiet."""
    return report_exports_resume_stale()


@shared_task(name="analytics.tasks.report_exports_purge")
def report_exports_purge_task() -> int:
    """Celery beat, hourly: remove the files of expired report exports."""
    return report_exports_purge()


@shared_task(name="analytics.tasks.report_subscriptions_send")
def report_subscriptions_send_task() -> int:
    """Celery beat, every fifteen minutes: scheduled reports whose period ended."""
    return report_subscriptions_send()


@shared_task(name="analytics.tasks.daily_summaries_send")
def daily_summaries_send_task() -> int:
    """Celery beat, every fifteen minutes: daily summaries due."""
    return daily_summaries_send()
