"""What the import specs of people share: leads, and the CRM's contacts (`crm.imports`).

Their records carry the leads' dedupe keys (`email_key`, `phone_key`, `name_company_key`), so a
row is judged by the rules of `leads.dedupe` against the organization's records (one query per
batch, `duplicates_find`) and against the records earlier rows of the file wrote (in memory).
A certain duplicate follows the job's policy: skipped (the default), written into that record
(only one the importer may edit) or created anyway; a possible duplicate (the same person and
company only) is created and flagged. A subclass says how a row is read, created, updated and
saved; the loop over a batch is here, once.
"""

from dataclasses import dataclass
from typing import Protocol

from django.db.models import Model, QuerySet

from accounts.models import User
from accounts.policy import permissions_of
from leads.dedupe import DedupeKeys, DuplicateMatch, _judge
from leads.imports.specs import ImportSpec, RowCheck, RowResult, StagedRow
from leads.models import ImportJob, ImportRow

Outcome = ImportRow.Outcome
Policy = ImportJob.DuplicatePolicy
_ON = {"email": "email", "phone": "phone", "name_company": "name and company"}
# The fields a record keeps its dedupe keys in, written with whatever else a row changes.
KEY_FIELDS = ("email_key", "phone_key", "name_company_key")


def person_cells(values: dict[str, str]) -> dict[str, str]:
    """A row's cells as the cleaning takes them: a full name split into first and last
    ("Ada Lovelace", or "Lovelace, Ada") unless the file has those columns too."""
    raw = dict(values)
    full = raw.pop("full_name", "").strip()
    if full and not (raw.get("first_name") or raw.get("last_name")):
        if "," in full:
            last, _, first = full.partition(",")
        else:
            first, _, last = full.partition(" ")
        raw["first_name"], raw["last_name"] = first.strip(), last.strip()
    return raw


class PersonRow(Protocol):
    """What the loop reads of a prepared row; a spec's own row adds what it needs."""

    staged: StagedRow
    keys: DedupeKeys
    problems: dict[str, list[str]]
    rejection: str  # why the row cannot be imported ("" when it can)


class InFile:
    """The records this batch has written so far, by dedupe key, judged by the same rule as the
    database look-up (`leads.dedupe`)."""

    def __init__(self):
        self.by_key: dict[tuple[str, str], tuple[Model, int]] = {}

    def add(self, record: Model, row_no: int) -> None:
        for on, value in (("email", record.email_key), ("phone", record.phone_key), ("name", record.name_company_key)):
            if value:
                self.by_key.setdefault((on, value), (record, row_no))

    def find(self, keys: DedupeKeys) -> tuple[Model, int, DuplicateMatch] | None:
        best = None
        for on, value in (("email", keys.email), ("phone", keys.phone), ("name", keys.name_company)):
            entry = self.by_key.get((on, value)) if value else None
            if entry is None:
                continue
            match = _judge(keys, entry[0])
            if match is not None and (best is None or (match.certain and not best[2].certain)):
                best = (*entry, match)
        return best


@dataclass(frozen=True)
class Twin:
    """A record the row resembles: one in the database (`match`), or one an earlier row of the
    file wrote (`record`, saved or not yet, and that `row_no`)."""

    match: DuplicateMatch | None
    record: Model | None
    row_no: int | None
    certain: bool
    on: str
    noun: str

    @classmethod
    def of(cls, match: DuplicateMatch | None, earlier, *, noun: str) -> "Twin | None":
        """The closest: a certain duplicate before a possible one, the database before the file."""
        if match is not None and match.certain:
            return cls(match, None, None, True, match.on, noun)
        if earlier is not None and earlier[2].certain:
            return cls(None, earlier[0], earlier[1], True, earlier[2].on, noun)
        if match is not None:
            return cls(match, None, None, False, match.on, noun)
        if earlier is not None:
            return cls(None, earlier[0], earlier[1], False, earlier[2].on, noun)
        return None

    @property
    def where(self) -> str:
        if self.match is None:
            return f"row {self.row_no}"
        return f"{'deleted ' if self.match.deleted else ''}{self.noun} {self.match.lead_id}"

    def describe(self, verb: str | None = None) -> str:
        """What the row is to its twin: 'Duplicate of lead 12 (same email).', 'Possible duplicate
        of row 3 (same name and company).', or with a verb 'Updated lead 12 (same email).'"""
        if verb:
            return f"{verb} {self.where} (same {_ON[self.on]})."
        kind = "Duplicate" if self.certain else "Possible duplicate"
        return f"{kind} of {self.where} (same {_ON[self.on]})."


class PersonImportSpec(ImportSpec):
    noun: str  # one record in messages: "lead"
    rejection_field = "email"  # where the preview shows why a row is rejected

    # --- What a subclass says ------------------------------------------------------------

    def prepare(self, *, job: ImportJob, rows: list[StagedRow]) -> list[PersonRow]:
        raise NotImplementedError

    def duplicates_find(self, *, job: ImportJob, keys: list[DedupeKeys]) -> list[DuplicateMatch | None]:
        """For each set of keys, the best match among the organization's records (one query)."""
        raise NotImplementedError

    def visible(self, actor: User) -> QuerySet:
        """The records the importer may see, hence update."""
        raise NotImplementedError

    def record_new(self, *, job: ImportJob, actor: User | None, row) -> Model:
        """The record a row creates, not saved (the preview builds one too, to compare later rows)."""
        raise NotImplementedError

    def record_update(self, record: Model, row) -> dict:
        """Write the row into a record it duplicates (not saved); the changes, {field: [old, new]}."""
        raise NotImplementedError

    def records_save(
        self, *, job: ImportJob, actor: User | None, created: list[Model], updated: list[tuple[Model, dict]]
    ) -> None:
        """Write the batch's new records and the existing ones it changed, in bulk."""
        raise NotImplementedError

    # --- Preview -----------------------------------------------------------------------

    def check_rows(self, *, job: ImportJob, rows: list[StagedRow]) -> list[RowCheck]:
        prepared = self.prepare(job=job, rows=rows)
        matches = self.duplicates_find(job=job, keys=[row.keys for row in prepared])
        in_file = InFile()
        checks = []
        for row, match in zip(prepared, matches, strict=True):
            problems = {name: list(messages) for name, messages in row.problems.items()}
            if row.rejection:
                problems.setdefault(self.rejection_field, []).append(row.rejection)
                checks.append(RowCheck(problems=problems, rejected=True))
                continue
            twin = Twin.of(match, in_file.find(row.keys), noun=self.noun)
            if twin is not None:
                problems["duplicate"] = [twin.describe()]
            in_file.add(self.record_new(job=job, actor=None, row=row), row.staged.row_no)
            checks.append(RowCheck(problems=problems, rejected=False))
        return checks

    # --- Writing a batch ---------------------------------------------------------------

    def write_batch(
        self, *, job: ImportJob, actor: User | None, rows: list[StagedRow], prepared: list[PersonRow]
    ) -> list[RowResult]:
        policy = job.duplicate_policy
        importable = [row for row in prepared if not row.rejection]
        found = self.duplicates_find(job=job, keys=[row.keys for row in importable])
        matches = {id(row): match for row, match in zip(importable, found, strict=True)}
        editable = self._editable(actor, [m.lead_id for m in found if m and m.certain and not m.deleted], policy)

        in_file = InFile()
        results: list[RowResult] = []
        targets: list[Model | None] = []  # the record each result names, saved or not yet
        created: list[Model] = []
        changed: dict[int, tuple[Model, dict]] = {}
        for row in prepared:
            problems = row.problems
            if row.rejection:
                results.append(RowResult(Outcome.INVALID, message=row.rejection, problems=problems))
                targets.append(None)
                continue
            twin = Twin.of(matches[id(row)], in_file.find(row.keys), noun=self.noun)
            if twin is not None and twin.certain and policy != Policy.CREATE:
                target = self._update_target(twin, policy, editable)
                if target is None:
                    results.append(RowResult(Outcome.DUPLICATE, message=self._skipped(twin, policy),
                                             object_id=twin.match.lead_id if twin.match else None,
                                             problems=problems))  # fmt: skip
                    targets.append(twin.record)
                    continue
                changes = self.record_update(target, row)
                if target.pk:
                    changed.setdefault(target.pk, (target, {}))[1].update(changes)
                in_file.add(target, row.staged.row_no)
                results.append(RowResult(Outcome.UPDATED, message=twin.describe("Updated"), problems=problems))
                targets.append(target)
                continue
            record = self.record_new(job=job, actor=actor, row=row)
            created.append(record)
            in_file.add(record, row.staged.row_no)
            results.append(RowResult(Outcome.CREATED, message=twin.describe() if twin else "", problems=problems))
            targets.append(record)

        self.records_save(job=job, actor=actor, created=created, updated=list(changed.values()))
        for result, target in zip(results, targets, strict=True):
            if target is not None and result.object_id is None:
                result.object_id = target.pk
        return results

    @staticmethod
    def _update_target(twin: Twin, policy: str, editable: dict[int, Model]) -> Model | None:
        """The record the row updates: under the update policy, a live record the importer may
        edit, or one an earlier row wrote; None: the row is skipped as a duplicate."""
        if policy != Policy.UPDATE:
            return None
        if twin.match is not None:
            return None if twin.match.deleted else editable.get(twin.match.lead_id)
        return twin.record

    def _skipped(self, twin: Twin, policy: str) -> str:
        if twin.match is not None and twin.match.deleted:
            return twin.describe() + f" Restore that {self.noun} instead of importing it again."
        if policy == Policy.UPDATE and twin.match is not None:
            return twin.describe() + f" It is not a {self.noun} you can edit, so it was not updated."
        return twin.describe()

    def _editable(self, actor: User | None, record_ids: list[int], policy: str) -> dict[int, Model]:
        """The duplicates the importer may update: records they can see (a rep: their own)."""
        if policy != Policy.UPDATE or not record_ids or actor is None:
            return {}
        flags = permissions_of(actor)
        if not (flags["can_view_leads"] and flags[self.update_permission]):
            return {}
        return {record.pk: record for record in self.visible(actor).filter(pk__in=set(record_ids))}
