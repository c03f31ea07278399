"""Import use-cases for every kind: upload (read, stage, preview), correct the mapping,
confirm, run in a worker, and pick up jobs whose worker died.

Job states: awaiting_confirm → queued → processing → done | failed; a worker near its
time limit hands a job back (processing → queued), and a silent worker's job is taken over
(processing → processing). Each change is published as `<spec.event_prefix>.<verb>`.
"""

import logging
import os
from dataclasses import dataclass

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.policy import can_administer_organizations, permissions_of
from leadnexus.core import outbox
from leadnexus.core.events import publish
from leadnexus.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from leads.exceptions import ImportFileMalformed, ImportFileTooLarge, ImportNotConfirmable
from leads.imports import engine
from leads.imports.mapping import mapping_check, mapping_guess
from leads.imports.readers import table_read
from leads.imports.selectors import import_job_get
from leads.imports.specs import ImportSpec, spec_for
from leads.models import ImportJob

logger = logging.getLogger(__name__)

PROCESS_TASK = "leads.imports.tasks.import_process"


@dataclass(frozen=True)
class ImportUpload:
    job: ImportJob
    preview: list[dict]


def _require(actor: User, flag: str, message: str) -> None:
    if not permissions_of(actor)[flag]:
        raise PermissionDenied(message)


def _file_name(name: str) -> str:
    """The upload's own name, without any path a client sent along."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    return "".join(ch for ch in base if ch.isprintable())[:255] or "upload"


def import_upload(*, actor: User, kind: str, file, options: dict | None = None) -> ImportUpload:
    """Read an uploaded spreadsheet, stage every row and guess the column mapping; the job then
    waits for the user's confirmation. Too large is 413, not a spreadsheet 415, broken 400."""
    spec = spec_for(kind)
    _require(actor, spec.import_permission, f"You do not have permission to import {spec.label}.")
    if file is None:
        raise ValidationFailed("Choose a file to import.", details={"file": ["No file was submitted."]})
    if file.size is not None and file.size > settings.IMPORT_MAX_FILE_BYTES:
        limit = settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)
        raise ImportFileTooLarge(f"The file is larger than the import limit of {limit} MB.")
    table = table_read(file.read())
    with transaction.atomic():
        job = ImportJob.objects.create(
            organization_id=actor.organization_id,
            created_by=actor,
            kind=spec.kind,
            file_name=_file_name(file.name),
            columns=table.columns,
            mapping=mapping_guess(table.columns, spec),
            options=options or {},
        )
        job.total = engine.rows_stage(job=job, records=table.rows)
        if not job.total:
            raise ImportFileMalformed(
                "The file has a header but no rows to import.",
                details={"file": ["The file has no rows under its header."]},
            )
        job.save(update_fields=["total"])
        publish(
            f"{spec.event_prefix}.uploaded",
            actor=actor,
            org=job.organization_id,
            subject=job,
            data={"file_name": job.file_name, "format": table.format, "rows": job.total, "columns": len(job.columns)},
        )
        preview = engine.rows_preview(job=job, spec=spec)
    return ImportUpload(job=job, preview=preview)


def _awaiting(actor: User, spec: ImportSpec, job_id: int) -> ImportJob:
    job = import_job_get(user=actor, kind=spec.kind, job_id=job_id)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.AWAITING_CONFIRM:
        raise ImportNotConfirmable(f"This import is already {job.get_status_display().lower()}.")
    return job


def import_mapping_update(*, actor: User, kind: str, job_id: int, mapping: dict) -> ImportUpload:
    """Correct the guessed mapping before confirming; the preview is checked again with it."""
    spec = spec_for(kind)
    with transaction.atomic():
        job = _awaiting(actor, spec, job_id)
        before = dict(job.mapping)
        job.mapping = mapping_check(given=mapping, columns=job.columns, current=job.mapping, spec=spec)
        if job.mapping != before:
            job.save(update_fields=["mapping"])
            changes = {column: [before.get(column), field] for column, field in job.mapping.items()}
            publish(
                f"{spec.event_prefix}.mapping_changed",
                actor=actor,
                org=job.organization_id,
                subject=job,
                data={"changes": {column: pair for column, pair in changes.items() if pair[0] != pair[1]}},
            )
        preview = engine.rows_preview(job=job, spec=spec)
    return ImportUpload(job=job, preview=preview)


def import_confirm(
    *, actor: User, kind: str, job_id: int, mapping: dict | None = None, duplicate_policy: str | None = None
) -> ImportJob:
    """Start the import with the mapping (the guess, corrected by `mapping`) and the duplicate
    policy; a worker takes it from the queue."""
    spec = spec_for(kind)
    with transaction.atomic():
        job = _awaiting(actor, spec, job_id)
        _require(actor, spec.import_permission, f"You do not have permission to import {spec.label}.")
        policy = duplicate_policy or job.duplicate_policy
        if policy not in spec.policies:
            choices = ", ".join(spec.policies)
            raise ValidationFailed(
                "Unknown duplicate policy.", details={"duplicate_policy": [f"Choose one of {choices}."]}
            )
        if policy == ImportJob.DuplicatePolicy.UPDATE:
            _require(actor, spec.update_permission, f"Updating existing {spec.label} needs the right to edit them.")
        job.mapping = mapping_check(given=mapping or {}, columns=job.columns, current=job.mapping, spec=spec)
        job.duplicate_policy = policy
        job.status = ImportJob.Status.QUEUED
        job.heartbeat_at = timezone.now()  # a queued job's sign of life, for the stale sweep
        job.save(update_fields=["mapping", "duplicate_policy", "status", "heartbeat_at"])
        publish(
            f"{spec.event_prefix}.confirmed",
            actor=actor,
            org=job.organization_id,
            subject=job,
            data={"from": ImportJob.Status.AWAITING_CONFIRM, "to": job.status, "duplicate_policy": policy},
        )
        outbox.enqueue(PROCESS_TASK, job_id=job.pk)
    return job


def import_process(*, job_id: int, time_budget: float | None = None) -> ImportJob | None:
    """Run a job's pending batches (the worker's side). Returns the job once done or failed;
    None when another worker holds it. Past `time_budget` seconds the job goes back to the
    queue and a fresh task continues it."""
    claim = engine.job_claim(job_id)
    if claim is None:
        return None
    job = claim.job
    spec = spec_for(job.kind)
    actor = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    deadline = engine.Deadline(time_budget if time_budget is not None else settings.CELERY_TASK_SOFT_TIME_LIMIT / 2)
    try:
        if not engine.batches_run(claim, spec, actor, deadline=deadline):
            return _hand_back(claim)
        with transaction.atomic():
            job = engine.job_finish(claim)
            spec.job_finished(job=job, actor=actor)
            publish(
                f"{spec.event_prefix}.completed",
                actor=actor,
                org=job.organization_id,
                subject=job,
                data={
                    "file_name": job.file_name,
                    "from": ImportJob.Status.PROCESSING,
                    "to": job.status,
                    **{name: getattr(job, name) for name in ("total", "created", "updated", "duplicates", "invalid")},
                },
            )
        return job
    except engine.ClaimLost:
        logger.info("Import %s was taken over by another worker", job_id)
        return None
    except SoftTimeLimitExceeded:
        return _hand_back(claim)
    except Exception as exc:
        logger.exception("Import %s failed", job_id)
        failed = engine.job_fail(claim, f"{type(exc).__name__}: {exc}")
        if failed is not None:
            with transaction.atomic():
                publish(
                    f"{spec.event_prefix}.failed",
                    actor=actor,
                    org=failed.organization_id,
                    subject=failed,
                    data={"from": ImportJob.Status.PROCESSING, "to": failed.status, "error": failed.error},
                )
        return failed


def _hand_back(claim) -> ImportJob | None:
    with transaction.atomic():
        if engine.job_release(claim):
            outbox.enqueue(PROCESS_TASK, job_id=claim.job.pk)
    return None


def import_retry(*, actor: User, job_id: int) -> ImportJob:
    """Staff: run a failed job again from its first pending row (the rows it already wrote keep
    their outcomes), or hand a stalled one to a fresh worker."""
    if not can_administer_organizations(actor):
        raise PermissionDenied("Only staff can run an import again.")
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise NotFound("Import not found.")
        stalled = job.status in (ImportJob.Status.QUEUED, ImportJob.Status.PROCESSING) and (
            job.heartbeat_at is None or job.heartbeat_at < timezone.now() - settings.IMPORT_STALE_AFTER
        )
        if job.status != ImportJob.Status.FAILED and not stalled:
            raise ImportNotConfirmable(f"Only a failed or stalled import can run again; this one is {job.status}.")
        previous = job.status
        job.status = ImportJob.Status.QUEUED
        job.error = ""
        job.finished_at = None
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "heartbeat_at"])
        publish(
            f"{spec_for(job.kind).event_prefix}.retried",
            actor=actor,
            org=job.organization_id,
            subject=job,
            data={"from": previous, "to": job.status},
        )
        outbox.enqueue(PROCESS_TASK, job_id=job.pk)
    return job


def imports_resume_stale() -> int:
    """Re-send the jobs whose worker died or whose task was lost (a beat job); the claim in
    `import_process` keeps two workers off one job."""
    resumed = 0
    for job_id in engine.jobs_stale().values_list("pk", flat=True):
        with transaction.atomic():
            outbox.enqueue(PROCESS_TASK, job_id=job_id)
        resumed += 1
    return resumed
