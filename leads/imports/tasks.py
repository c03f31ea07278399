from celery import shared_task

from leads.imports import (
    lead_spec,  # noqa: F401 - registers the leads import spec
    services,
)


@shared_task(name="leads.imports.tasks.import_process")
def import_process(*, job_id: int) -> None:
    """Run an import's pending batches; safe to run twice (the job is claimed)."""
    services.import_process(job_id=job_id)


@shared_task(name="leads.imports.tasks.imports_resume_stale")
def imports_resume_stale() -> int:
    return services.imports_resume_stale()
