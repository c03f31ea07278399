"""What the import engine needs to know about one kind of record.

The engine (`leads.imports.engine`) reads files, stages rows, runs batches and keeps the
checkpoints; a spec says what a row means: its fields and their header aliases, how a row
is checked, and how a batch is written. Leads register theirs here (`leads.imports.lead_spec`);
the marketplace (listings) and the CRM (contacts) register their own from their apps with
`spec_register`, so this module never imports them.
"""

from dataclasses import dataclass, field

from accounts.models import User
from leadnexus.core.exceptions import ValidationFailed
from leads.models import ImportJob, ImportRow


@dataclass(frozen=True)
class ImportField:
    name: str
    label: str
    # Header spellings that mean this field, compared loosely (case, accents, spaces and
    # punctuation ignored): "E-mail", "Email Address" and "e_mail" all read as email.
    aliases: tuple[str, ...] = ()
    # Single words that point at the field inside a longer header ("Work email" → email).
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class StagedRow:
    """One staged row as the spec sees it: the cells under the job's mapping, by field."""

    pk: int
    row_no: int
    values: dict[str, str]


@dataclass
class RowResult:
    outcome: str  # an ImportRow.Outcome
    object_id: int | None = None
    message: str = ""
    problems: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class RowCheck:
    """What a preview shows for one row: its problems, and whether it would be rejected."""

    problems: dict[str, list[str]]
    rejected: bool


class ImportSpec:
    """Subclass per kind and register an instance with `spec_register`."""

    kind: str
    label: str  # plural noun for messages: "leads"
    event_prefix: str  # events are "<prefix>.uploaded|confirmed|completed|failed"
    fields: tuple[ImportField, ...] = ()
    # At least one of these fields must be mapped for a row to be importable at all.
    required_any: tuple[str, ...] = ()
    policies: tuple[str, ...] = tuple(ImportJob.DuplicatePolicy.values)
    # The permission flags (accounts.policy) to import at all, and to update existing records.
    import_permission: str = "can_add_leads"
    update_permission: str = "can_edit_leads"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def check_rows(self, *, job: ImportJob, rows: list[StagedRow]) -> list[RowCheck]:
        """The problems of some rows, as the preview shows them (nothing is written)."""
        raise NotImplementedError

    def prepare(self, *, job: ImportJob, rows: list[StagedRow]) -> list:
        """The part of a batch that needs no database (parsing, validation), one item per row,
        handed to `write_batch`. Kept apart so it could run elsewhere (another process)."""
        return rows

    def write_batch(
        self, *, job: ImportJob, actor: User | None, rows: list[StagedRow], prepared: list
    ) -> list[RowResult]:
        """Write one batch inside the engine's transaction; one result per row, in order.
        Must not send anything per row (events, emails): `job_finished` does that per job."""
        raise NotImplementedError

    def job_finished(self, *, job: ImportJob, actor: User | None) -> None:
        """Once, after the last batch (digest notifications and the like)."""

    def rejected_outcomes(self) -> tuple[str, ...]:
        return (ImportRow.Outcome.INVALID, ImportRow.Outcome.DUPLICATE)


def job_counts_text(job: ImportJob, *, created: str, duplicates: str, details: tuple[str, ...] = ()) -> str:
    """A finished job's counts in words, for the note to its uploader: "3 new contacts; 1
    updated; 2 rejected." (`created` is the singular noun, `details` follow its count)."""
    parts = [f"{job.created} {created}{'' if job.created == 1 else 's'}", *details]
    if job.updated:
        parts.append(f"{job.updated} updated")
    if job.duplicates:
        parts.append(f"{job.duplicates} {duplicates}")
    if job.invalid:
        parts.append(f"{job.invalid} rejected")
    return "; ".join(parts) + "."


_registry: dict[str, ImportSpec] = {}


def spec_register(spec: ImportSpec) -> ImportSpec:
    """Register the spec of one kind (at import time of the owning app's module)."""
    if spec.kind not in ImportJob.Kind.values:
        raise ValueError(f"Unknown import kind {spec.kind!r}; add it to ImportJob.Kind.")
    _registry[spec.kind] = spec
    return spec


def spec_for(kind: str) -> ImportSpec:
    if kind == ImportJob.Kind.LEADS and kind not in _registry:
        from leads.imports import lead_spec  # noqa: F401 - registers the leads spec

    spec = _registry.get(kind)
    if spec is None:
        raise ValidationFailed(f"Nothing can import {kind!r} yet.", details={"kind": ["Unknown import kind."]})
    return spec
