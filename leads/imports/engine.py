"""The import engine: staging, previews and the batch loop, for every registered kind.

Rows are staged in the database (`ImportRow`) at upload, so whichever worker runs the job
needs no shared disk. A job runs in batches of IMPORT_BATCH_SIZE rows; each batch is one
transaction that writes the records, marks its rows with their outcome (the checkpoint)
and advances the job's counters and heartbeat. A worker killed between or during batches
leaves every committed batch marked and the rest pending, so a re-run starts at the first
pending row and never writes a row twice.

Only one worker runs a job at a time: a worker claims the job by stamping `heartbeat_at`,
and each batch checks, with the job row locked, that the stamp is still the one it wrote.
A worker silent for IMPORT_STALE_AFTER loses its claim to the next (see `jobs_stale`).
"""

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, JSONField, Model, Q, QuerySet
from django.utils import timezone

from leads.imports.specs import ImportSpec, RowCheck, RowResult, StagedRow
from leads.models import ImportJob, ImportRow

logger = logging.getLogger(__name__)

_OUTCOME_COUNTER = {
    ImportRow.Outcome.CREATED: "created",
    ImportRow.Outcome.UPDATED: "updated",
    ImportRow.Outcome.DUPLICATE: "duplicates",
    ImportRow.Outcome.INVALID: "invalid",
}
_STAGE_CHUNK = 2000
# PostgreSQL: a batch's outcomes in one statement.
_MARK_SQL = (
    "UPDATE leads_importrow AS r SET outcome = v.outcome, object_id = v.object_id, message = v.message, "
    "problems = v.problems::jsonb FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS outcome, "
    "unnest(%s::bigint[]) AS object_id, unnest(%s::text[]) AS message, unnest(%s::text[]) AS problems) "
    "AS v WHERE r.id = v.id"
)


# --- Staging ---------------------------------------------------------------------------


def rows_stage(*, job: ImportJob, records: Iterable[tuple[int, dict[str, str]]]) -> int:
    """Stage the file's rows under `job`, in chunks; how many there were."""
    total = 0
    chunk: list[tuple[int, dict]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= _STAGE_CHUNK:
            total += _rows_insert(job.pk, chunk)
            chunk = []
    if chunk:
        total += _rows_insert(job.pk, chunk)
    return total


def _rows_insert(job_id: int, chunk: list[tuple[int, dict]]) -> int:
    if connection.vendor == "postgresql":
        # COPY: the same rows as bulk_create, without building a model and an INSERT per row.
        sql = "COPY leads_importrow (job_id, row_no, data, problems, outcome, message) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row_no, data in chunk:
                copy.write_row((job_id, row_no, json.dumps(data), "{}", ImportRow.Outcome.PENDING, ""))
    else:
        ImportRow.objects.bulk_create(
            [ImportRow(job_id=job_id, row_no=row_no, data=data) for row_no, data in chunk], batch_size=500
        )
    return len(chunk)


# --- Reading staged rows ----------------------------------------------------------------


def mapped(data: dict, mapping: dict[str, str | None]) -> dict[str, str]:
    """A staged row's cells under `mapping`, by field (empty cells were never staged)."""
    return {field: data[column] for column, field in mapping.items() if field and column in data}


def rows_preview(*, job: ImportJob, spec: ImportSpec, limit: int | None = None) -> list[dict]:
    """The first rows with their problems under the job's current mapping, as the preview
    shows them: `{row, values (by column), problems {field: [messages]}, rejected}`."""
    limit = limit or settings.IMPORT_PREVIEW_ROWS
    staged = list(
        ImportRow.objects.filter(job_id=job.pk).order_by("row_no").values_list("pk", "row_no", "data")[:limit]
    )
    rows = [StagedRow(pk, row_no, mapped(data, job.mapping)) for pk, row_no, data in staged]
    checks: list[RowCheck] = spec.check_rows(job=job, rows=rows) if rows else []
    return [
        {"row": row_no, "values": data, "problems": check.problems, "rejected": check.rejected}
        for (_, row_no, data), check in zip(staged, checks, strict=True)
    ]


def rows_rejected(*, job: ImportJob, spec: ImportSpec) -> Iterator[tuple[int, dict, str]]:
    """(row number, cells by column, why) of every row that was not imported, in file order."""
    rows = (
        ImportRow.objects.filter(job_id=job.pk, outcome__in=spec.rejected_outcomes())
        .order_by("row_no")
        .values_list("row_no", "data", "message")
    )
    yield from rows.iterator(chunk_size=_STAGE_CHUNK)


# --- Running a job ----------------------------------------------------------------------


class ClaimLost(Exception):
    """Another worker took the job over (this one was silent too long)."""


@dataclass
class Claim:
    job: ImportJob
    stamp: object  # the heartbeat this worker wrote last


def job_claim(job_id: int) -> Claim | None:
    """Take a queued job, or a processing one whose worker went silent; None when the job is
    someone else's, finished, or not confirmed."""
    now = timezone.now()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        stale = job.heartbeat_at is None or job.heartbeat_at < now - settings.IMPORT_STALE_AFTER
        if not (job.status == ImportJob.Status.QUEUED or (job.status == ImportJob.Status.PROCESSING and stale)):
            return None
        job.status = ImportJob.Status.PROCESSING
        job.heartbeat_at = now
        job.started_at = job.started_at or now
        job.save(update_fields=["status", "heartbeat_at", "started_at"])
    return Claim(job=job, stamp=now)


def _locked(claim: Claim) -> ImportJob:
    """The job row, locked for the current transaction, if this worker still holds it."""
    job = ImportJob.objects.select_for_update().get(pk=claim.job.pk)
    if job.status != ImportJob.Status.PROCESSING or job.heartbeat_at != claim.stamp:
        raise ClaimLost
    return job


def _pending(job: ImportJob, *, after: int) -> list[StagedRow]:
    """The next batch of pending rows past row number `after`, under the job's mapping."""
    staged = (
        ImportRow.objects.filter(job_id=job.pk, outcome=ImportRow.Outcome.PENDING, row_no__gt=after)
        .order_by("row_no")
        .values_list("pk", "row_no", "data")[: settings.IMPORT_BATCH_SIZE]
    )
    return [StagedRow(pk, row_no, mapped(data, job.mapping)) for pk, row_no, data in staged]


def batches_run(claim: Claim, spec: ImportSpec, actor, *, deadline: "Deadline | None" = None) -> bool:
    """Run the job's pending batches, in row order; True once none is left, False when the
    deadline passed first."""
    job = claim.job
    rows = _pending(job, after=0)
    while rows:
        _batch_write(claim, spec, actor, rows, spec.prepare(job=job, rows=rows))
        rows = _pending(job, after=rows[-1].row_no)
        if rows and deadline is not None and deadline.passed:
            return False
    return True


def _batch_write(claim: Claim, spec: ImportSpec, actor, rows: list[StagedRow], prepared: list) -> None:
    """One batch, one transaction: the records, the rows' outcomes (the checkpoint) and the
    job's counters and heartbeat."""
    with transaction.atomic():
        job = _locked(claim)
        results = spec.write_batch(job=job, actor=actor, rows=rows, prepared=prepared)
        if len(results) != len(rows):
            raise RuntimeError(f"The {spec.kind} spec answered {len(results)} results for {len(rows)} rows.")
        _rows_mark(rows, results)
        counts = Counter(_OUTCOME_COUNTER[result.outcome] for result in results)
        now = timezone.now()
        ImportJob.objects.filter(pk=job.pk).update(
            processed=F("processed") + len(rows),
            heartbeat_at=now,
            **{name: F(name) + value for name, value in counts.items()},
        )
    claim.stamp = now


def _rows_mark(rows: list[StagedRow], results: list[RowResult]) -> None:
    """Write each row's outcome: the batch's checkpoint."""
    if connection.vendor == "postgresql":
        # One UPDATE for the batch, its arrays bound on the server: bulk_update would build a
        # CASE per column with a branch per row, and client-side binding would spell out every value.
        with _server_cursor() as cursor:
            cursor.execute(
                _MARK_SQL,
                [
                    [row.pk for row in rows],
                    [result.outcome for result in results],
                    [result.object_id for result in results],
                    [result.message[:500] for result in results],
                    [json.dumps(result.problems) for result in results],
                ],
                prepare=False,
            )
        return
    ImportRow.objects.bulk_update(
        [
            ImportRow(
                pk=row.pk,
                outcome=result.outcome,
                object_id=result.object_id,
                message=result.message[:500],
                problems=result.problems,
            )
            for row, result in zip(rows, results, strict=True)
        ],
        ["outcome", "object_id", "message", "problems"],
        batch_size=500,
    )


def _server_cursor():
    """A psycopg cursor on Django's connection that binds parameters on the server (Django's
    own binds them in the client, which is slow for arrays of thousands of values). Its
    statements are never prepared (`prepare=False`), so a transaction-pooling PgBouncer is fine."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def records_insert(objects: list[Model]) -> list[Model]:
    """Insert new model instances (all of one model) and set their primary keys, like
    bulk_create. On PostgreSQL: ids taken from the sequence in one query, then COPY."""
    if not objects:
        return objects
    model = type(objects[0])
    if connection.vendor != "postgresql":
        return model.objects.bulk_create(objects, batch_size=500)
    meta = model._meta
    # The database computes generated columns, and COPY refuses them.
    fields = [f for f in meta.concrete_fields if f is not meta.pk and not f.generated]
    now_fields = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    json_fields = {f.attname: f.encoder for f in fields if isinstance(f, JSONField)}
    with _server_cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
            prepare=False,
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in [meta.pk, *fields])
        with cursor.copy(f"COPY {connection.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj, pk in zip(objects, ids, strict=True):
                for f in now_fields:
                    f.pre_save(obj, add=True)
                obj.pk = pk
                row = [pk]
                for f in fields:
                    value = getattr(obj, f.attname)
                    if f.attname in json_fields and value is not None:
                        value = json.dumps(value, cls=json_fields[f.attname])
                    row.append(value)
                copy.write_row(row)
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def job_finish(claim: Claim) -> ImportJob:
    """Mark the job done (its rows are all marked) in one transaction with the caller's
    per-job side effects."""
    job = _locked(claim)
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.heartbeat_at = job.finished_at
    job.save(update_fields=["status", "finished_at", "heartbeat_at"])
    return job


def job_fail(claim: Claim, error: str) -> ImportJob | None:
    """Mark the job failed with the error, unless another worker holds it by now."""
    with transaction.atomic():
        try:
            job = _locked(claim)
        except ClaimLost:
            return None
        job.status = ImportJob.Status.FAILED
        job.error = error[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
    return job


def job_release(claim: Claim) -> bool:
    """Hand the job back to the queue (a worker near its time limit); True if it was still ours."""
    with transaction.atomic():
        try:
            job = _locked(claim)
        except ClaimLost:
            return False
        job.status = ImportJob.Status.QUEUED
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "heartbeat_at"])
    return True


def jobs_stale(*, now=None) -> QuerySet[ImportJob]:
    """Jobs a worker should pick up: processing ones whose worker went silent, and queued ones
    whose task never ran (lost with a broker, or sent while no worker listened)."""
    cutoff = (now or timezone.now()) - settings.IMPORT_STALE_AFTER
    # A queued job's heartbeat is the time it was confirmed or handed back.
    return ImportJob.objects.filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.PROCESSING]).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )


class Deadline:
    """Stop taking batches once `seconds` have passed (a task stays under its time limit)."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.ends
