"""Which import jobs a user may follow: their organization's jobs of one kind, for members
with the kind's import right; a sales rep sees the jobs they started (all of the org's with
`can_view_all_org_leads`), managers and management every one. Another org's job is 404."""

from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import User
from accounts.policy import permissions_of
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from leads.imports import engine
from leads.imports.specs import spec_for
from leads.models import ImportJob


def import_job_list(*, user: User, kind: str) -> QuerySet[ImportJob]:
    spec = spec_for(kind)
    flags = permissions_of(user)
    if not flags[spec.import_permission]:
        raise PermissionDenied(f"You do not have permission to import {spec.label}.")
    jobs = ImportJob.objects.filter(organization_id=user.organization_id, kind=spec.kind)
    if user.role == User.Role.SALES_REP and not flags["can_view_all_org_leads"]:
        jobs = jobs.filter(created_by=user)
    return jobs.select_related("created_by")


def import_job_get(*, user: User, kind: str, job_id: int) -> ImportJob:
    job = import_job_list(user=user, kind=kind).filter(pk=job_id).first() if is_db_id(job_id) else None
    if job is None:
        raise NotFound("Import not found.")
    return job


@dataclass(frozen=True)
class ImportPreview:
    job: ImportJob
    rows: list[dict]


def import_preview(*, user: User, kind: str, job_id: int) -> ImportPreview:
    """The job with its first rows checked under its current mapping, while it waits for
    confirmation (no rows once it is confirmed)."""
    job = import_job_get(user=user, kind=kind, job_id=job_id)
    if job.status != ImportJob.Status.AWAITING_CONFIRM:
        return ImportPreview(job=job, rows=[])
    return ImportPreview(job=job, rows=engine.rows_preview(job=job, spec=spec_for(kind)))


@dataclass(frozen=True)
class RejectedRows:
    job: ImportJob
    columns: list[str]
    rows: object  # iterator of (row number, cells by column, why)


def import_rejected(*, user: User, kind: str, job_id: int) -> RejectedRows:
    """The rows of a job that were not imported (invalid, or skipped as duplicates), with why."""
    job = import_job_get(user=user, kind=kind, job_id=job_id)
    spec = spec_for(kind)
    columns = list(job.columns)
    return RejectedRows(job=job, columns=columns, rows=engine.rows_rejected(job=job, spec=spec))
