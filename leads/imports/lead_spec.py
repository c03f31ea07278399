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
from leads.cleaning import CleanLead, apply_clean, lead_clean
from leads.dedupe import DedupeKeys, DuplicateMatch, duplicates_find_many
from leads.imports.engine import records_insert
from leads.imports.person_spec import KEY_FIELDS, PersonImportSpec, person_cells
from leads.imports.specs import ImportField, StagedRow, spec_register
from leads.models import ImportJob, ImportRow, Lead
from leads.scoring import score_lead
from leads.selectors import lead_scope
from leads.services.assignment import assignees_pick
from leads.services.records import lead_score_later
from leads.validation import REASONS
from notifications.models import NotificationType
from notifications.services import notification_send

Outcome = ImportRow.Outcome

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
_WRITTEN_FIELDS = [*_UPDATE_FIELDS, "validation_status", "validation_reasons", *KEY_FIELDS, "updated_at"]


@dataclass
class _Row:
    staged: StagedRow
    raw: dict[str, str]
    clean: CleanLead
    rejection: str  # why the row cannot be imported ("" when it can)

    @property
    def keys(self) -> DedupeKeys:
        return self.clean.keys

    @property
    def problems(self) -> dict[str, list[str]]:
        return self.clean.problems


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
        raw = person_cells(staged.values)
        signature = tuple(sorted(raw.items()))
        clean = cache.get(signature)
        if clean is None:
            clean = cache[signature] = lead_clean(raw)
        prepared.append(_Row(staged, raw, clean, _rejection(clean)))
    return prepared


class LeadImportSpec(PersonImportSpec):
    kind = ImportJob.Kind.LEADS
    label = "leads"
    event_prefix = "leads.import"
    noun = "lead"
    fields = LEAD_IMPORT_FIELDS
    required_any = ("email", "phone")
    import_permission = "can_add_leads"
    update_permission = "can_edit_leads"

    def prepare(self, *, job: ImportJob, rows: list[StagedRow]) -> list[_Row]:
        return _prepare(rows)

    def duplicates_find(self, *, job: ImportJob, keys: list[DedupeKeys]) -> list[DuplicateMatch | None]:
        # Deleted leads included: a skipped row offers restoring its lead.
        return duplicates_find_many(organization_id=job.organization_id, keys=keys)

    def visible(self, actor: User):
        return lead_scope(user=actor)

    def record_new(self, *, job: ImportJob, actor: User | None, row: _Row) -> Lead:
        lead = Lead(
            organization_id=job.organization_id,
            created_by_id=actor.pk if actor is not None else None,
            source=Lead.Source.IMPORT,
        )
        apply_clean(lead, row.clean)
        return lead

    def record_update(self, lead: Lead, row: _Row) -> dict:
        """Overwrite with the row's non-empty values, except contact cells the row got wrong
        (updated leads are rescored by `records_save`, so no changes are kept)."""
        check = row.clean.check
        wrong = {
            "email": not check.email_ok,
            "phone": not check.phone_ok,
            "website": "website_invalid" in check.reasons,
        }
        given = {name: value for name, value in row.raw.items() if str(value).strip() and not wrong.get(name)}
        apply_clean(lead, lead_clean(given, current=lead))
        lead.updated_at = timezone.now()  # bulk_update leaves auto_now fields alone
        return {}

    def records_save(
        self, *, job: ImportJob, actor: User | None, created: list[Lead], updated: list[tuple[Lead, dict]]
    ) -> None:
        """New leads assigned by the organization's rules and scored, in the batch; updated
        leads rescored by the worker, which tells owners of leads turning hot."""
        for lead, assignee in zip(
            created,
            assignees_pick(organization_id=job.organization_id, source=Lead.Source.IMPORT, count=len(created)),
            strict=True,
        ):
            lead.assigned_to = assignee
        now = timezone.now()
        for lead in created:  # scored here, in the batch: no second pass over every new lead
            lead.score, lead.score_breakdown = score_lead(lead, now=now)
        records_insert(created)
        if updated:
            leads = [lead for lead, _ in updated]
            Lead.objects.bulk_update(leads, _WRITTEN_FIELDS)
            lead_score_later([lead.pk for lead in leads])

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
