"""Staff admin for leads: browse, import and export leads of any organization, and follow
import jobs.

The lead import (django-import-export) runs every row through the same functions as the
app's own import: `leads.cleaning.lead_clean` (a row with no valid email and no valid phone
is refused with the reason), and `leads.dedupe` against the chosen organization's leads and
the file's earlier rows (a duplicate is skipped). Leads are created only, never updated by
id, so a file cannot reach into another organization. Exports neutralise formula cells.
Editing leads stays with the organization's members (their edits are recorded on the
lead's timeline), so lead records are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from import_export import resources
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm, ImportForm

from accounts.models import Organization
from accounts.policy import can_administer_organizations
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ApplicationError
from leads.cleaning import LEAD_FIELDS, apply_clean, lead_clean
from leads.dedupe import DuplicateMatch, _judge, duplicates_find_many
from leads.imports.export import cell_safe
from leads.imports.lead_spec import assignee_digests_send
from leads.imports.services import import_retry
from leads.models import ImportJob, ImportRow, Lead
from leads.services.assignment import assignees_pick
from leads.services.records import lead_score_later
from leads.validation import REASONS

_LOOKUP_CHUNK = 2000
_INLINE_ROWS = 50


# --- Import and export of leads ---------------------------------------------------------


class LeadResource(resources.ModelResource):
    """The lead columns a staff member imports or exports; see the module docstring."""

    class Meta:
        model = Lead
        fields = ("id", *LEAD_FIELDS, "source", "status", "score", "validation_status", "created_at")
        import_order = LEAD_FIELDS
        force_init_instance = True  # create only: an "id" column never selects an existing lead
        skip_diff = True
        use_transactions = True

    def __init__(self, organization: Organization | None = None, user=None, **kwargs):
        super().__init__(**kwargs)
        self.organization = organization
        self.user = user
        self._decisions: dict[int, tuple[str, object]] = {}
        self._current = 0
        self._created: list[Lead] = []

    def get_import_fields(self):
        return [self.fields[name] for name in LEAD_FIELDS if name in self.fields]

    # Rows are judged once, all together: cleaning, then one dedupe look-up per chunk of rows.
    def before_import(self, dataset, **kwargs):
        if self.organization is None:
            raise ValidationError("Choose the organization the leads are for.")
        headers = [str(header).strip() for header in dataset.headers or []]
        cleans = []
        for values in dataset:
            raw = {name: value for name, value in zip(headers, values, strict=False) if name in LEAD_FIELDS}
            cleans.append(lead_clean({name: "" if value is None else value for name, value in raw.items()}))
        reachable = [(number, clean) for number, clean in enumerate(cleans, start=1) if clean.check.reachable]
        matches: list[DuplicateMatch | None] = []
        for start in range(0, len(reachable), _LOOKUP_CHUNK):
            chunk = reachable[start : start + _LOOKUP_CHUNK]
            matches += duplicates_find_many(
                organization_id=self.organization.pk, keys=[clean.keys for _, clean in chunk]
            )
        found = dict(zip((number for number, _ in reachable), matches, strict=True))
        earlier: dict[tuple[str, str], tuple[int, Lead]] = {}
        for number, clean in enumerate(cleans, start=1):
            if not clean.check.reachable:
                reasons = [REASONS[r] for r in clean.check.reasons if r.startswith(("email_", "phone_"))]
                self._decisions[number] = ("invalid", "A lead needs a valid email or phone. " + " ".join(reasons))
                continue
            match = found[number]
            if match is not None and match.certain:
                where = f"deleted lead {match.lead_id}" if match.deleted else f"lead {match.lead_id}"
                self._decisions[number] = ("duplicate", f"Duplicate of {where} (same {match.on}).")
                continue
            lead = Lead()
            apply_clean(lead, clean)
            twin = self._earlier(earlier, clean.keys, lead)
            if twin is not None:
                self._decisions[number] = ("duplicate", f"Duplicate of row {twin} of this file.")
                continue
            for key in (("e", lead.email_key), ("p", lead.phone_key), ("n", lead.name_company_key)):
                if key[1]:
                    earlier.setdefault(key, (number, lead))
            self._decisions[number] = ("create", clean)
        creating = [number for number, (what, _) in self._decisions.items() if what == "create"]
        assignees = assignees_pick(organization_id=self.organization.pk, source=Lead.Source.IMPORT, count=len(creating))
        self._assignees = dict(zip(creating, assignees, strict=True))

    @staticmethod
    def _earlier(earlier, keys, lead) -> int | None:
        for key in (("e", keys.email), ("p", keys.phone), ("n", keys.name_company)):
            entry = earlier.get(key) if key[1] else None
            if entry is not None:
                match = _judge(keys, entry[1])
                if match is not None and match.certain:
                    return entry[0]
        return None

    def before_import_row(self, row, **kwargs):
        self._current = kwargs.get("row_number", 0)

    def import_instance(self, instance, row, **kwargs):
        what, detail = self._decisions.get(self._current, ("invalid", "The row could not be read."))
        if what == "invalid":
            raise ValidationError({"email": detail})
        if what == "create":
            apply_clean(instance, detail)
            instance.organization = self.organization
            instance.created_by = self.user if getattr(self.user, "pk", None) else None
            instance.source = Lead.Source.IMPORT
            instance.assigned_to = self._assignees.get(self._current)

    def skip_row(self, instance, original, row, import_validation_errors=None):
        return self._decisions.get(self._current, ("invalid", ""))[0] == "duplicate"

    def after_save_instance(self, instance, row, **kwargs):
        if not kwargs.get("dry_run"):
            self._created.append(instance)

    def after_import(self, dataset, result, **kwargs):
        """Per file, not per row: scoring in a worker, one digest per assignee, one event."""
        if kwargs.get("dry_run") or not self._created:
            return
        ids = [lead.pk for lead in self._created]
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            lead_score_later(ids[start : start + _LOOKUP_CHUNK])
        file_name = kwargs.get("file_name") or "an admin import"
        assignee_digests_send(leads=Lead.objects.filter(pk__in=ids), file_name=file_name, actor=self.user)
        publish(
            "leads.admin_import.completed",
            actor=self.user,
            org=self.organization.pk,
            data={
                "file_name": file_name,
                "created": len(ids),
                "duplicates": sum(1 for what, _ in self._decisions.values() if what == "duplicate"),
                "invalid": sum(1 for what, _ in self._decisions.values() if what == "invalid"),
            },
        )

    def export_field(self, field, instance, **kwargs):
        return cell_safe(super().export_field(field, instance, **kwargs))


class LeadImportForm(ImportForm):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.order_by("name"), help_text="The organization the leads are added to."
    )


class LeadConfirmImportForm(ConfirmImportForm):
    organization = forms.ModelChoiceField(queryset=Organization.objects.all(), widget=forms.HiddenInput)


@admin.register(Lead)
class LeadAdmin(ImportExportModelAdmin):
    resource_classes = [LeadResource]
    import_form_class = LeadImportForm
    confirm_form_class = LeadConfirmImportForm
    list_display = [
        "__str__",
        "email",
        "company",
        "organization",
        "status",
        "score",
        "validation_status",
        "source",
        "is_inventory",
        "assigned_to",
        "created_at",
        "deleted_at",
    ]
    list_filter = ["status", "validation_status", "source", "is_inventory", "customer_category", "created_at"]
    search_fields = ["first_name", "last_name", "email", "phone", "company", "organization__name"]
    list_select_related = ["organization", "assigned_to"]
    raw_id_fields = ["organization", "created_by", "assigned_to", "merged_into"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Lead._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a member deletes (restorable); the purge job removes for good

    def has_import_permission(self, request):
        return can_administer_organizations(request.user)

    def has_export_permission(self, request):
        return can_administer_organizations(request.user)

    def get_import_resource_kwargs(self, request, **kwargs):
        resource_kwargs = super().get_import_resource_kwargs(request, **kwargs)
        form = kwargs.get("form")
        if form is not None and form.is_bound and form.is_valid() and "organization" in form.cleaned_data:
            resource_kwargs["organization"] = form.cleaned_data["organization"]
        resource_kwargs["user"] = request.user
        return resource_kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["organization"] = import_form.cleaned_data["organization"].pk
        return initial


# --- Import jobs ------------------------------------------------------------------------


class _FirstRows(BaseInlineFormSet):
    """The first rows of a job, and every row not imported among them: a 100,000-row job
    must not render 100,000 forms."""

    def get_queryset(self):
        if not hasattr(self, "_first_rows"):
            self._first_rows = super().get_queryset().order_by("row_no")[:_INLINE_ROWS]
        return self._first_rows


class ImportRowInline(admin.TabularInline):
    model = ImportRow
    formset = _FirstRows
    extra = 0
    can_delete = False
    fields = ["row_no", "outcome", "object_id", "message", "problems", "data"]
    readonly_fields = fields
    verbose_name_plural = f"Rows (the first {_INLINE_ROWS})"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "organization",
        "created_by",
        "status",
        "total",
        "processed",
        "created",
        "updated",
        "duplicates",
        "invalid",
        "created_at",
        "finished_at",
    ]
    list_filter = ["kind", "status", "duplicate_policy", "created_at"]
    search_fields = ["file_name", "organization__name", "created_by__email"]
    list_select_related = ["organization", "created_by"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    inlines = [ImportRowInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Run again from the first row not yet imported (failed or stalled imports)")
    def retry(self, request, queryset):
        retried = 0
        for job_id in queryset.values_list("pk", flat=True):
            try:
                import_retry(actor=request.user, job_id=job_id)
            except ApplicationError as exc:
                self.message_user(request, f"Import {job_id}: {exc.message}", messages.WARNING)
            else:
                retried += 1
        if retried:
            self.message_user(request, f"{retried} import(s) queued again.", messages.SUCCESS)
