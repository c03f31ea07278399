"""The leads import: what a spreadsheet row means as a lead.

- Each row is cleaned by `leads.cleaning.lead_clean`, like a lead typed in. A row whose
  email is invalid and that has no valid phone is rejected (`invalid`); other problems are
  imported, the lead's `validation_status` saying so.
- Duplicates are found by the keys of `leads.dedupe`, in one query per batch against the
  organization's leads (deleted ones included, and reported so they can be restored), and
  within the file: earlier batches are already in the database, rows of the same batch are
  compared in memory by the same rules. The job's duplicate policy then skips the row (the
  default), updates the lead it duplicates (only a lead the importer may see; empty cells
  and invalid contact cells do not overwrite), or creates it anyway. A possible duplicate
  (same person and company only) is imported and flagged.
- New leads are written in bulk (source `import`), assigned by the organization's rules for
  the whole batch at once and scored in the batch (`leads.scoring.score_lead`); updated leads
  are rescored by a worker. The assignees get one digest notification per job.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from leads.cleaning import CleanLead, apply_clean, lead_clean
from leads.dedupe import DedupeKeys, DuplicateMatch, _judge, duplicates_find_many
from leads.imports.engine import records_insert
from leads.imports.specs import ImportField, ImportSpec, RowCheck, RowResult, StagedRow, spec_register
from leads.models import ImportJob, ImportRow, Lead
from leads.scoring import score_lead
from leads.selectors import lead_scope
from leads.services.assignment import assignees_pick
from leads.services.records import lead_score_later
from leads.validation import REASONS
from notifications.models import NotificationType
from notifications.services import notification_send

Outcome = ImportRow.Outcome
Policy = ImportJob.DuplicatePolicy

# fmt: off
LEAD_IMPORT_FIELDS = (
    ImportField("first_name", "First name", aliases=(
        "firstname", "given name", "forename", "first", "fname", "prénom", "vorname", "nombre",
    )),
    ImportField("last_name", "Last name", aliases=(
        "lastname", "surname", "family name", "last", "lname", "nachname", "apellido",
    ), keywords=("surname",)),
    ImportField("full_name", "Full name (split into first and last)", aliases=(
        "name", "contact", "contact name", "person", "lead name", "lead", "full name",
    )),
    ImportField("email", "Email", aliases=(
        "e-mail", "email address", "e-mail address", "e_mail", "work email", "business email", "courriel",
    ), keywords=("email", "e-mail")),
    ImportField("phone", "Phone", aliases=(
        "phone number", "telephone", "telephone number", "tel", "mobile", "mobile phone", "mobile number",
        "cell", "cell phone", "work phone", "direct phone", "phone no", "téléphone", "telefon",
    ), keywords=("phone", "telephone", "mobile", "tel", "cell")),
    ImportField("company", "Company", aliases=(
        "company name", "organisation", "organization", "organisation name", "organization name", "org",
        "employer", "account", "account name", "business", "business name", "firm", "entreprise", "firma",
    ), keywords=("company", "organisation", "organization", "employer")),
    ImportField("job_title", "Job title", aliases=(
        "title", "position", "role", "job", "designation", "job role", "job position", "poste",
    ), keywords=("title", "position")),
    ImportField("industry", "Industry", aliases=("sector", "vertical", "industry sector"), keywords=("industry",)),
    ImportField("location", "Location", aliases=(
        "city", "address", "country", "region", "state", "city state", "town", "place",
    ), keywords=("location", "city")),
    ImportField("website", "Website", aliases=(
        "web site", "url", "web", "homepage", "home page", "domain", "site", "company website",
    ), keywords=("website", "url", "homepage")),
    ImportField("employee_count", "Employees", aliases=(
        "employee count", "number of employees", "no of employees", "company size", "headcount", "head count",
        "staff", "size", "employees count", "nb employees",
    ), keywords=("employees", "headcount")),
    ImportField("annual_revenue", "Annual revenue", aliases=(
        "revenue", "turnover", "annual turnover", "yearly revenue", "sales volume",
    ), keywords=("revenue", "turnover")),
    ImportField("customer_category", "Customer category", aliases=(
        "category", "segment", "customer segment", "tier", "customer type",
    ), keywords=("category", "segment")),
    ImportField("notes", "Notes", aliases=(
        "note", "comments", "comment", "remarks", "description",
    ), keywords=("notes",)),
)
# fmt: on
# Fields whose row values overwrite an existing lead's under the "update" policy.
_UPDATE_FIELDS = [f.name for f in LEAD_IMPORT_FIELDS if f.name != "full_name"]
_WRITTEN_FIELDS = [
    *_UPDATE_FIELDS,
    "validation_status",
    "validation_reasons",
    "email_key",
    "phone_key",
    "name_company_key",
    "updated_at",
]
_ON = {"email": "email", "phone": "phone", "name_company": "name and company"}


@dataclass
class _Row:
    staged: StagedRow
    raw: dict[str, str]
    clean: CleanLead
    rejection: str  # why the row cannot be imported ("" when it can)


def _raw(values: dict[str, str]) -> dict[str, str]:
    """The row's values as `lead_clean` takes them: a full name split into first and last
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


def _rejection(clean: CleanLead) -> str:
    if clean.check.reachable:
        return ""
    reasons = [REASONS[reason] for reason in clean.check.reasons if reason.startswith(("email_", "phone_"))]
    return "A lead needs a valid email address or phone number. " + " ".join(reasons)


def _prepare(rows: list[StagedRow]) -> list[_Row]:
    # Identical rows (a file pasted twice) are cleaned once.
    cache: dict[tuple, CleanLead] = {}
    prepared = []
    for staged in rows:
        raw = _raw(staged.values)
        signature = tuple(sorted(raw.items()))
        clean = cache.get(signature)
        if clean is None:
            clean = cache[signature] = lead_clean(raw)
        prepared.append(_Row(staged, raw, clean, _rejection(clean)))
    return prepared


class _InFile:
    """The leads this batch has written so far, by dedupe key, judged by the same rule as the
    database look-up (`leads.dedupe`)."""

    def __init__(self):
        self.by_key: dict[tuple[str, str], tuple[Lead, int]] = {}

    def add(self, lead: Lead, row_no: int) -> None:
        for on, value in (("email", lead.email_key), ("phone", lead.phone_key), ("name", lead.name_company_key)):
            if value:
                self.by_key.setdefault((on, value), (lead, row_no))

    def find(self, keys: DedupeKeys) -> tuple[Lead, int, DuplicateMatch] | None:
        best = None
        for on, value in (("email", keys.email), ("phone", keys.phone), ("name", keys.name_company)):
            entry = self.by_key.get((on, value)) if value else None
            if entry is None:
                continue
            match = _judge(keys, entry[0])
            if match is not None and (best is None or (match.certain and not best[2].certain)):
                best = (*entry, match)
        return best


def _lead_label(match: DuplicateMatch) -> str:
    return f"deleted lead {match.lead_id}" if match.deleted else f"lead {match.lead_id}"


@dataclass(frozen=True)
class _Twin:
    """A lead the row resembles: one in the database (`match`), or one an earlier row of the
    file wrote (`lead`, saved or not yet, and that `row_no`)."""

    match: DuplicateMatch | None
    lead: Lead | None
    row_no: int | None
    certain: bool
    on: str

    @classmethod
    def of(cls, match: DuplicateMatch | None, earlier) -> "_Twin | None":
        """The closest: a certain duplicate before a possible one, the database before the file."""
        if match is not None and match.certain:
            return cls(match, None, None, True, match.on)
        if earlier is not None and earlier[2].certain:
            return cls(None, earlier[0], earlier[1], True, earlier[2].on)
        if match is not None:
            return cls(match, None, None, False, match.on)
        if earlier is not None:
            return cls(None, earlier[0], earlier[1], False, earlier[2].on)
        return None

    @property
    def where(self) -> str:
        return _lead_label(self.match) if self.match is not None else f"row {self.row_no}"

    def describe(self, verb: str | None = None) -> str:
        """What the row is to its twin: 'Duplicate of lead 12 (same email).', 'Possible duplicate
        of row 3 (same name and company).', or with a verb 'Updated lead 12 (same email).'"""
        if verb:
            return f"{verb} {self.where} (same {_ON[self.on]})."
        kind = "Duplicate" if self.certain else "Possible duplicate"
        return f"{kind} of {self.where} (same {_ON[self.on]})."


class LeadImportSpec(ImportSpec):
    kind = ImportJob.Kind.LEADS
    label = "leads"
    event_prefix = "leads.import"
    fields = LEAD_IMPORT_FIELDS
    required_any = ("email", "phone")
    import_permission = "can_add_leads"
    update_permission = "can_edit_leads"

    # --- Preview -----------------------------------------------------------------------

    def check_rows(self, *, job: ImportJob, rows: list[StagedRow]) -> list[RowCheck]:
        prepared = _prepare(rows)
        matches = duplicates_find_many(organization_id=job.organization_id, keys=[row.clean.keys for row in prepared])
        in_file = _InFile()
        checks = []
        for row, match in zip(prepared, matches, strict=True):
            problems = {name: list(messages) for name, messages in row.clean.problems.items()}
            if row.rejection:
                problems.setdefault("email", []).append(row.rejection)
                checks.append(RowCheck(problems=problems, rejected=True))
                continue
            twin = _Twin.of(match, in_file.find(row.clean.keys))
            if twin is not None:
                problems["duplicate"] = [twin.describe()]
            lead = Lead()
            apply_clean(lead, row.clean)
            in_file.add(lead, row.staged.row_no)
            checks.append(RowCheck(problems=problems, rejected=False))
        return checks

    # --- Writing a batch ---------------------------------------------------------------

    def prepare(self, *, job: ImportJob, rows: list[StagedRow]) -> list[_Row]:
        return _prepare(rows)

    def write_batch(
        self, *, job: ImportJob, actor: User | None, rows: list[StagedRow], prepared: list[_Row]
    ) -> list[RowResult]:
        policy = job.duplicate_policy
        importable = [row for row in prepared if not row.rejection]
        found = duplicates_find_many(organization_id=job.organization_id, keys=[row.clean.keys for row in importable])
        matches = {id(row): match for row, match in zip(importable, found, strict=True)}
        editable = self._editable(actor, [m.lead_id for m in found if m and m.certain and not m.deleted], policy)

        in_file = _InFile()
        results: list[RowResult] = []
        targets: list[Lead | None] = []  # the lead each result names, saved or not yet
        new_leads: list[Lead] = []
        changed: dict[int, Lead] = {}
        for row in prepared:
            problems = row.clean.problems
            if row.rejection:
                results.append(RowResult(Outcome.INVALID, message=row.rejection, problems=problems))
                targets.append(None)
                continue
            twin = _Twin.of(matches[id(row)], in_file.find(row.clean.keys))
            if twin is not None and twin.certain and policy != Policy.CREATE:
                target = self._update_target(twin, policy, editable)
                if target is None:
                    results.append(RowResult(Outcome.DUPLICATE, message=self._skipped(twin, policy),
                                             object_id=twin.match.lead_id if twin.match else None,
                                             problems=problems))  # fmt: skip
                    targets.append(twin.lead)
                    continue
                self._update(target, row)
                if target.pk:
                    changed[target.pk] = target
                in_file.add(target, row.staged.row_no)
                results.append(RowResult(Outcome.UPDATED, message=twin.describe("Updated"), problems=problems))
                targets.append(target)
                continue
            lead = Lead(
                organization_id=job.organization_id,
                created_by_id=actor.pk if actor is not None else None,
                source=Lead.Source.IMPORT,
            )
            apply_clean(lead, row.clean)
            new_leads.append(lead)
            in_file.add(lead, row.staged.row_no)
            results.append(RowResult(Outcome.CREATED, message=twin.describe() if twin else "", problems=problems))
            targets.append(lead)

        for lead, assignee in zip(
            new_leads,
            assignees_pick(organization_id=job.organization_id, source=Lead.Source.IMPORT, count=len(new_leads)),
            strict=True,
        ):
            lead.assigned_to = assignee
        now = timezone.now()
        for lead in new_leads:  # scored here, in the batch: no second pass over every new lead
            lead.score, lead.score_breakdown = score_lead(lead, now=now)
        records_insert(new_leads)
        if changed:
            Lead.objects.bulk_update(list(changed.values()), _WRITTEN_FIELDS)
        for result, target in zip(results, targets, strict=True):
            if target is not None and result.object_id is None:
                result.object_id = target.pk
        if changed:
            # Updated leads are rescored by the worker, which tells owners of leads turning hot.
            lead_score_later(list(changed))
        return results

    @staticmethod
    def _update_target(twin: _Twin, policy: str, editable: dict[int, Lead]) -> Lead | None:
        """The lead the row updates: under the update policy, a live lead the importer may
        edit, or one an earlier row wrote; None: the row is skipped as a duplicate."""
        if policy != Policy.UPDATE:
            return None
        if twin.match is not None:
            return None if twin.match.deleted else editable.get(twin.match.lead_id)
        return twin.lead

    @staticmethod
    def _skipped(twin: _Twin, policy: str) -> str:
        if twin.match is not None and twin.match.deleted:
            return twin.describe() + " Restore that lead instead of importing it again."
        if policy == Policy.UPDATE and twin.match is not None:
            return twin.describe() + " It is not a lead you can edit, so it was not updated."
        return twin.describe()

    def _editable(self, actor: User | None, lead_ids: list[int], policy: str) -> dict[int, Lead]:
        """The duplicates the importer may update: leads they can see (a rep: their own)."""
        if policy != Policy.UPDATE or not lead_ids or actor is None:
            return {}
        flags = permissions_of(actor)
        if not (flags["can_view_leads"] and flags["can_edit_leads"]):
            return {}
        return {lead.pk: lead for lead in lead_scope(user=actor).filter(pk__in=set(lead_ids))}

    def _update(self, lead: Lead, row: _Row) -> None:
        """Overwrite with the row's non-empty values, except contact cells the row got wrong."""
        check = row.clean.check
        wrong = {
            "email": not check.email_ok,
            "phone": not check.phone_ok,
            "website": "website_invalid" in check.reasons,
        }
        given = {name: value for name, value in row.raw.items() if str(value).strip() and not wrong.get(name)}
        apply_clean(lead, lead_clean(given, current=lead))
        lead.updated_at = timezone.now()  # bulk_update leaves auto_now fields alone

    # --- After the last batch ----------------------------------------------------------

    def job_finished(self, *, job: ImportJob, actor: User | None) -> None:
        """One notification per assignee for the whole file, not one per lead."""
        created = ImportRow.objects.filter(job_id=job.pk, outcome=Outcome.CREATED).values("object_id")
        assignee_digests_send(leads=Lead.objects.filter(pk__in=created), file_name=job.file_name, actor=actor)


def assignee_digests_send(*, leads, file_name: str, actor: User | None) -> int:
    """Tell each member who got some of `leads` (a queryset) how many, in one notification;
    the importer is not told about leads they gave themselves. How many were told."""
    per_assignee = (
        leads.filter(assigned_to__isnull=False)
        .values("assigned_to")
        .annotate(count=Count("pk"), hot=Count("pk", filter=Q(score__gte=settings.HOT_LEAD_SCORE)))
        .order_by()
    )
    counts = {entry["assigned_to"]: entry["count"] for entry in per_assignee}
    hot = {entry["assigned_to"]: entry["hot"] for entry in per_assignee}
    told = 0
    for user in User.objects.filter(pk__in=counts, is_active=True):
        if actor is not None and user.pk == actor.pk:
            continue
        count = counts[user.pk]
        noun = "lead" if count == 1 else "leads"
        notification_send(
            user=user,
            type=NotificationType.ASSIGNMENT,
            title=f"{count} new {noun} from {file_name} assigned to you"
            + (f" ({hot[user.pk]} hot)" if hot[user.pk] else ""),
            message=f"Imported by {actor.get_short_name() if actor else 'a former member'}.",
            link=f"/leads/?assigned_to={user.pk}&source=import",
        )
        told += 1
    return told


spec_register(LeadImportSpec())
