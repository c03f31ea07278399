"""The listing import spec for the leads import engine: a vendor's spreadsheet, one listing per
row (registered here, so leads never imports the marketplace).

- A row holds the lead's columns (the person's role is `job_title`) and the listing's terms:
  title, description, industry, price, exclusive, max_sales. The upload may carry defaults
  for price, exclusive and max_sales (`ImportJob.options["defaults"]`) that fill empty cells.
- The lead columns are cleaned by `leads.cleaning.lead_clean`, the terms by
  `marketplace.services.listings.listing_terms_clean`. A row without a valid email or phone,
  or with terms that do not hold (no title, no price...), is rejected (`invalid`).
- A row naming a person the vendor already offers in a live listing (not withdrawn) is a
  duplicate, found by the rules of `leads.dedupe` in one query per batch, and so is a row
  repeating an earlier row of the batch. The policy skips it (the default) or updates that
  listing's terms and its lead while nothing of it is sold. Creating a second listing of the
  same person is not offered.
- Each other row becomes an inventory lead of the vendor (source `listing`), scored in the
  batch, and a listing waiting for review (or approved at once when `auto_approvable`),
  both written in bulk. Events are stored per listing in one insert per batch; the uploader
  gets one notification per file.
"""

from dataclasses import dataclass, field

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from leadnexus.core.events import publish_many
from leads.cleaning import LEAD_FIELDS, CleanLead, apply_clean, lead_clean
from leads.dedupe import DedupeKeys, DuplicateMatch, _judge
from leads.imports.engine import records_insert
from leads.imports.lead_spec import LEAD_IMPORT_FIELDS
from leads.imports.person_spec import person_cells as lead_cells
from leads.imports.specs import (
    ImportField,
    ImportSpec,
    RowCheck,
    RowResult,
    StagedRow,
    job_counts_text,
    spec_register,
)
from leads.models import ImportJob, ImportRow, Lead
from leads.scoring import score_lead
from leads.validation import REASONS
from marketplace.catalog_cache import catalog_changed
from marketplace.models import Listing
from marketplace.services.inventory import ON_LABELS, LiveTwin, live_twins_find
from marketplace.services.listings import (
    LISTING_FIELDS,
    auto_approvable,
    lead_facts_copy,
    listing_terms_clean,
    listings_search_index,
)
from marketplace.services.quality import vendor_quality_score
from notifications.models import NotificationType
from notifications.services import notification_send

Outcome = ImportRow.Outcome
Policy = ImportJob.DuplicatePolicy
# Upload-wide values for empty cells, given at upload time.
DEFAULT_TERMS = ("price", "exclusive", "max_sales")

# fmt: off
LISTING_TERM_FIELDS = (
    ImportField("title", "Listing title", aliases=(
        "title", "listing", "listing name", "headline", "offer", "offer title", "lead title",
    ), keywords=("headline",)),
    ImportField("description", "Description", aliases=(
        "listing description", "details", "summary", "about", "pitch", "lead description",
    ), keywords=("description",)),
    ImportField("price", "Price", aliases=(
        "price (usd)", "price usd", "price $", "asking price", "cost", "unit price", "lead price", "amount",
        "listing price",
    ), keywords=("price",)),
    ImportField("exclusive", "Exclusive (sold once)", aliases=(
        "exclusive?", "is exclusive", "exclusivity", "exclusive lead", "sold once", "exclusive yes no",
    ), keywords=("exclusive", "exclusivity")),
    ImportField("max_sales", "Max sales", aliases=(
        "max sales", "maximum sales", "max. sales", "sales limit", "max buyers", "maximum buyers",
        "times sold", "copies", "max copies",
    ), keywords=("buyers", "copies")),
)
_LEAD_OVERRIDES = {
    # "Title" is the listing's title here; the person's role has its own spellings.
    "job_title": ImportField("job_title", "Job title (the person's role)", aliases=(
        "job title", "role", "position", "job", "designation", "job role", "job position", "contact title",
        "contact role", "person title", "poste",
    ), keywords=("position", "role", "job")),
    # "Description" is the listing's; notes stay the vendor's own.
    "notes": ImportField("notes", "Notes (not shown to buyers)", aliases=(
        "note", "comments", "comment", "remarks", "internal notes",
    ), keywords=("notes",)),
}
# fmt: on
LISTING_IMPORT_FIELDS = (
    *LISTING_TERM_FIELDS,
    *(_LEAD_OVERRIDES.get(f.name, f) for f in LEAD_IMPORT_FIELDS),
)
_LEAD_CELLS = {f.name for f in LEAD_IMPORT_FIELDS}
_TERM_CELLS = set(LISTING_FIELDS)
_LABELS = {f.name: f.label for f in LISTING_IMPORT_FIELDS}
_LEAD_WRITTEN = [
    *LEAD_FIELDS,
    "validation_status",
    "validation_reasons",
    "email_key",
    "phone_key",
    "name_company_key",
    "score",
    "score_breakdown",
    "updated_at",
]
_LISTING_WRITTEN = [*LISTING_FIELDS, "location", "employee_count", "lead_score", "validation_status", "updated_at"]


@dataclass
class _Row:
    staged: StagedRow
    raw: dict[str, str]  # the lead's cells
    given: set[str]  # the terms the row (or the upload's defaults) gives
    clean: CleanLead
    terms: dict
    problems: dict[str, list[str]]
    rejection: str  # why the row cannot be listed ("" when it can)


@dataclass
class _Target:
    """A listing with its lead that a row of this batch created or updated (saved or not yet)."""

    lead: Lead
    listing: Listing
    row_no: int
    new: bool
    changes: dict = field(default_factory=dict)


def upload_defaults(job: ImportJob) -> dict[str, str]:
    defaults = (job.options or {}).get("defaults") or {}
    return {name: str(defaults[name]) for name in DEFAULT_TERMS if defaults.get(name) not in (None, "")}


def _rejection(clean: CleanLead, term_problems: dict[str, list[str]]) -> str:
    parts = []
    if not clean.check.reachable:
        reasons = [REASONS[reason] for reason in clean.check.reasons if reason.startswith(("email_", "phone_"))]
        parts.append(" ".join(["A listing needs a valid email address or phone number.", *reasons]))
    for name, messages in term_problems.items():
        parts.append(f"{_LABELS.get(name, name)}: {' '.join(messages)}")
    return " ".join(parts)


def _exclusive(cells: dict) -> bool:
    values, _ = listing_terms_clean({"exclusive": cells.get("exclusive", True)}, partial=True)
    return values["exclusive"]


def _prepare(job: ImportJob, rows: list[StagedRow]) -> list[_Row]:
    defaults = upload_defaults(job)
    # Identical lead cells (a file pasted twice) are cleaned once.
    cache: dict[tuple, CleanLead] = {}
    prepared = []
    for staged in rows:
        raw = lead_cells({name: value for name, value in staged.values.items() if name in _LEAD_CELLS})
        cells = {**defaults, **{name: value for name, value in staged.values.items() if name in _TERM_CELLS}}
        if "max_sales" in defaults and "max_sales" not in staged.values and _exclusive(cells):
            del cells["max_sales"]  # the default is for shared rows; an exclusive row sells once
        signature = tuple(sorted(raw.items()))
        clean = cache.get(signature)
        if clean is None:
            clean = cache[signature] = lead_clean(raw)
        terms, term_problems = listing_terms_clean(cells)
        problems = {name: list(messages) for name, messages in clean.problems.items()}
        for name, messages in term_problems.items():
            problems.setdefault(name, []).extend(messages)
        rejection = _rejection(clean, term_problems)
        if not clean.check.reachable:
            problems.setdefault("email", []).append("A listing needs a valid email address or phone number.")
        prepared.append(_Row(staged, raw, set(cells), clean, terms, problems, rejection))
    return prepared


class _Seen:
    """The listings this batch created or updated so far, by dedupe key, judged by the rules of
    `leads.dedupe`: a later row naming the same person is its duplicate."""

    def __init__(self):
        self.by_key: dict[tuple[str, str], _Target] = {}

    def add(self, target: _Target) -> None:
        lead = target.lead
        for on, value in (("email", lead.email_key), ("phone", lead.phone_key), ("name", lead.name_company_key)):
            if value:
                self.by_key.setdefault((on, value), target)

    def find(self, keys: DedupeKeys) -> tuple[_Target, DuplicateMatch] | None:
        best = None
        for on, value in (("email", keys.email), ("phone", keys.phone), ("name", keys.name_company)):
            target = self.by_key.get((on, value)) if value else None
            match = _judge(keys, target.lead) if target is not None else None
            if match is not None and (best is None or (match.certain and not best[1].certain)):
                best = (target, match)
        return best


def _twin_text(twin: LiveTwin | None, earlier: tuple[_Target, DuplicateMatch] | None) -> str:
    """What the row repeats, for the preview and the row's message."""
    if twin is not None and twin.certain:
        return twin.describe()
    if earlier is not None and earlier[1].certain:
        return f"Same person as row {earlier[0].row_no} (same {ON_LABELS[earlier[1].on]})."
    if twin is not None:
        return twin.describe()
    if earlier is not None:
        return f"Possibly the same person as row {earlier[0].row_no} (same {ON_LABELS[earlier[1].on]})."
    return ""


def _updated_text(twin: LiveTwin | None, earlier: tuple[_Target, DuplicateMatch] | None) -> str:
    if twin is not None and twin.certain:
        return f"Updated listing {twin.listing_id} (same {ON_LABELS[twin.on]})."
    return f"Updated the listing of row {earlier[0].row_no} (same {ON_LABELS[earlier[1].on]})."


class ListingImportSpec(ImportSpec):
    kind = ImportJob.Kind.LISTINGS
    label = "listings"
    event_prefix = "marketplace.upload"
    fields = LISTING_IMPORT_FIELDS
    required_any = ("email", "phone")
    policies = (Policy.SKIP, Policy.UPDATE)
    import_permission = "can_sell"
    update_permission = "can_sell"

    # --- Preview -----------------------------------------------------------------------

    def check_rows(self, *, job: ImportJob, rows: list[StagedRow]) -> list[RowCheck]:
        prepared = _prepare(job, rows)
        importable = [row for row in prepared if not row.rejection]
        twins = live_twins_find(organization_id=job.organization_id, keys=[row.clean.keys for row in importable])
        twin_of = {id(row): twin for row, twin in zip(importable, twins, strict=True)}
        seen = _Seen()
        checks = []
        for row in prepared:
            problems = {name: list(messages) for name, messages in row.problems.items()}
            if row.rejection:
                checks.append(RowCheck(problems=problems, rejected=True))
                continue
            text = _twin_text(twin_of[id(row)], seen.find(row.clean.keys))
            if text:
                problems["duplicate"] = [text]
            lead = Lead()
            apply_clean(lead, row.clean)
            seen.add(_Target(lead=lead, listing=Listing(), row_no=row.staged.row_no, new=True))
            checks.append(RowCheck(problems=problems, rejected=False))
        return checks

    # --- Writing a batch ---------------------------------------------------------------

    def prepare(self, *, job: ImportJob, rows: list[StagedRow]) -> list[_Row]:
        return _prepare(job, rows)

    def write_batch(
        self, *, job: ImportJob, actor: User | None, rows: list[StagedRow], prepared: list[_Row]
    ) -> list[RowResult]:
        policy = job.duplicate_policy
        vendor = job.organization
        importable = [row for row in prepared if not row.rejection]
        twins = live_twins_find(organization_id=vendor.pk, keys=[row.clean.keys for row in importable])
        twin_of = {id(row): twin for row, twin in zip(importable, twins, strict=True)}
        existing = self._existing(job, [t.listing_id for t in twins if t is not None and t.certain], policy)
        quality = vendor_quality_score(vendor_id=vendor.pk)

        now = timezone.now()
        seen = _Seen()
        results: list[RowResult] = []
        targets: list[_Target | None] = []  # the listing each result names
        created: list[_Target] = []
        updated: dict[int, _Target] = {}
        for row in prepared:
            if row.rejection:
                results.append(RowResult(Outcome.INVALID, message=row.rejection, problems=row.problems))
                targets.append(None)
                continue
            twin, earlier = twin_of[id(row)], seen.find(row.clean.keys)
            text = _twin_text(twin, earlier)
            if (twin is not None and twin.certain) or (earlier is not None and earlier[1].certain):
                in_db = twin is not None and twin.certain
                target = existing.get(twin.listing_id) if in_db else earlier[0]
                if policy != Policy.UPDATE or target is None:
                    listing_id = twin.listing_id if in_db else None
                    results.append(
                        RowResult(Outcome.DUPLICATE, object_id=listing_id, message=text, problems=row.problems)
                    )
                    targets.append(None if in_db else target)
                    continue
                if target.listing.sold_count or target.listing.reserved_count:
                    message = f"{text} It has sold, so it was not updated."
                    results.append(RowResult(Outcome.DUPLICATE, message=message, problems=row.problems))
                    targets.append(target)
                    continue
                self._update(target, row, now)
                if not target.new:
                    updated[target.listing.pk] = target
                seen.add(target)
                results.append(RowResult(Outcome.UPDATED, message=_updated_text(twin, earlier), problems=row.problems))
                targets.append(target)
                continue
            target = self._new(job, vendor, actor, row, now, quality)
            seen.add(target)
            created.append(target)
            results.append(RowResult(Outcome.CREATED, message=text, problems=row.problems))
            targets.append(target)

        self._save(job, actor, created, list(updated.values()))
        for result, target in zip(results, targets, strict=True):
            if target is not None and result.object_id is None:
                result.object_id = target.listing.pk
        return results

    @staticmethod
    def _existing(job: ImportJob, listing_ids: list[int], policy: str) -> dict[int, _Target]:
        """The live listings rows of this batch would update, locked against a buyer reserving
        them meanwhile (only under the update policy)."""
        if policy != Policy.UPDATE or not listing_ids:
            return {}
        listings = (
            Listing.objects.select_for_update(of=("self",))
            .select_related("lead")
            .filter(pk__in=set(listing_ids), vendor_id=job.organization_id)
        )
        return {listing.pk: _Target(listing.lead, listing, 0, new=False) for listing in listings}

    @staticmethod
    def _new(job: ImportJob, vendor, actor: User | None, row: _Row, now, quality) -> _Target:
        lead = Lead(
            organization=vendor,
            created_by_id=actor.pk if actor is not None else None,
            source=Lead.Source.LISTING,
            is_inventory=True,
        )
        apply_clean(lead, row.clean)
        lead.score, lead.score_breakdown = score_lead(lead, now=now)
        listing = Listing(vendor=vendor, lead=lead, created_by_id=lead.created_by_id, upload=job, **row.terms)
        listing.vendor_quality = quality
        lead_facts_copy(listing, lead)
        if auto_approvable(listing):
            listing.approval_status = Listing.ApprovalStatus.APPROVED
            listing.reviewed_at = now
        return _Target(lead=lead, listing=listing, row_no=row.staged.row_no, new=True)

    @staticmethod
    def _update(target: _Target, row: _Row, now) -> None:
        """The row's filled cells over the lead (except contact cells it got wrong) and its terms
        over the listing; the score and the catalog's copies follow."""
        lead, listing = target.lead, target.listing
        check = row.clean.check
        wrong = {
            "email": not check.email_ok,
            "phone": not check.phone_ok,
            "website": "website_invalid" in check.reasons,
        }
        given = {name: value for name, value in row.raw.items() if str(value).strip() and not wrong.get(name)}
        apply_clean(lead, lead_clean(given, current=lead))
        lead.score, lead.score_breakdown = score_lead(lead, now=now)
        lead.updated_at = now  # bulk_update leaves auto_now fields alone
        names = set(row.given) & set(row.terms)
        if names & {"exclusive", "max_sales"}:
            names |= {"exclusive", "max_sales"}  # cleaned together: an exclusive listing sells once
        for name in sorted(names):
            before, after = getattr(listing, name), row.terms[name]
            if before != after:
                target.changes[name] = [str(before), str(after)]
                setattr(listing, name, after)
        lead_facts_copy(listing, lead)
        listing.updated_at = now

    @staticmethod
    def _save(job: ImportJob, actor: User | None, created: list[_Target], updated: list[_Target]) -> None:
        records_insert([target.lead for target in created])
        for target in created:
            target.listing.lead = target.lead  # the lead has its id now
        records_insert([target.listing for target in created])
        if updated:
            Lead.objects.bulk_update([target.lead for target in updated], _LEAD_WRITTEN, batch_size=500)
            Listing.objects.bulk_update([target.listing for target in updated], _LISTING_WRITTEN, batch_size=500)

        org = job.organization_id
        publish_many(
            "marketplace.listing.created",
            [{"actor": actor, "org": org, "subject": t.listing, "data": {"upload": job.pk}} for t in created],
        )
        approved = [t.listing for t in created if t.listing.approval_status == Listing.ApprovalStatus.APPROVED]
        publish_many(
            "marketplace.listing.approved",
            [
                {"org": org, "subject": listing, "data": {"from": "pending", "to": "approved", "automatic": True}}
                for listing in approved
            ],
        )
        publish_many(
            "marketplace.listing.updated",
            [
                {"actor": actor, "org": org, "subject": t.listing, "data": {**t.changes, "upload": job.pk}}
                for t in updated
                if t.changes
            ],
        )
        in_catalog = [t.listing for t in updated if t.listing.approval_status == Listing.ApprovalStatus.APPROVED]
        listings_search_index([listing.pk for listing in approved + in_catalog])
        if approved or in_catalog:
            catalog_changed()

    # --- After the last batch ----------------------------------------------------------

    def job_finished(self, *, job: ImportJob, actor: User | None) -> None:
        """One notification to the uploader for the whole file."""
        if actor is None or not actor.is_active:
            return
        by_status = dict(
            Listing.objects.filter(upload_id=job.pk)
            .values_list("approval_status")
            .annotate(count=Count("pk"))
            .order_by()
        )
        approved, pending = by_status.get("approved", 0), by_status.get("pending", 0)
        review = (f"{approved} approved automatically, {pending} waiting for review",) if job.created else ()
        notification_send(
            user=actor,
            type=NotificationType.PURCHASE_SALE,
            title=f"Upload of {job.file_name} finished"[:200],
            message=job_counts_text(job, created="new listing", duplicates="already listed", details=review),
            link=reverse("marketplace:upload-detail", args=[job.pk]),
        )


spec_register(ListingImportSpec())
