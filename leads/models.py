from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils import timezone


def private_storage():
    return storages["private"]


class Lead(models.Model):
    """One prospect record owned by an organization: captured, imported, bought or typed in."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        IMPORT = "import"
        FORM = "form"
        MARKETPLACE = "marketplace"
        API = "api"
        LISTING = "listing", "Listing (vendor inventory)"

    class Status(models.TextChoices):
        NEW = "new"
        CONTACTED = "contacted"
        QUALIFIED = "qualified"
        UNQUALIFIED = "unqualified"
        LOST = "lost"
        CONVERTED = "converted"

    class ValidationStatus(models.TextChoices):
        PENDING = "pending"
        VALID = "valid"
        RISKY = "risky"
        INVALID = "invalid"

    class CustomerCategory(models.TextChoices):
        ENTERPRISE = "enterprise"
        MID_MARKET = "mid_market", "Mid-market"
        SMALL_BUSINESS = "small_business", "Small business"
        STARTUP = "startup"
        PUBLIC_SECTOR = "public_sector", "Public sector"
        OTHER = "other"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="leads")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_leads"
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164 when it could be parsed.")
    company = models.CharField(max_length=200, blank=True)
    job_title = models.CharField(max_length=200, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=200, blank=True)
    website = models.URLField(max_length=300, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    customer_category = models.CharField(max_length=20, choices=CustomerCategory.choices, blank=True)
    notes = models.TextField(blank=True)
    extra = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    score = models.PositiveSmallIntegerField(default=0)
    score_breakdown = models.JSONField(default=dict, blank=True)
    validation_status = models.CharField(
        max_length=8, choices=ValidationStatus.choices, default=ValidationStatus.PENDING
    )
    validation_reasons = models.JSONField(default=list, blank=True)
    # Dedupe keys (see leads.dedupe): normalised email, E.164 phone, person + company.
    email_key = models.CharField(max_length=254, blank=True)
    phone_key = models.CharField(max_length=32, blank=True)
    name_company_key = models.CharField(max_length=300, blank=True)
    is_inventory = models.BooleanField(default=False, help_text="A vendor's listing stock, kept out of CRM lists.")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Speed-to-lead: when someone first reached the person (a call, email or meeting logged, or
    # the lead moved on from new), and when its owner was told it waited past the target.
    first_contacted_at = models.DateTimeField(null=True, blank=True)
    response_alerted_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "email_key"], name="lead_email_key_idx", condition=~Q(email_key="")),
            models.Index(fields=["organization", "phone_key"], name="lead_phone_key_idx", condition=~Q(phone_key="")),
            models.Index(
                fields=["organization", "name_company_key"],
                name="lead_name_company_key_idx",
                condition=~Q(name_company_key=""),
            ),
            models.Index(fields=["organization", "-created_at", "-id"], name="lead_org_created_idx"),
            models.Index(fields=["organization", "status"], name="lead_org_status_idx"),
            models.Index(fields=["organization", "assigned_to"], name="lead_org_assignee_idx"),
            models.Index(fields=["organization", "-score"], name="lead_org_score_idx"),
            models.Index(fields=["deleted_at"], name="lead_deleted_idx", condition=Q(deleted_at__isnull=False)),
            models.Index(
                fields=["created_at"],
                name="lead_awaiting_alert_idx",
                condition=Q(status="new", first_contacted_at__isnull=True, response_alerted_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=100), name="lead_score_0_100"),
        ]

    def __str__(self):
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.company or f"Lead {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def response_due_at(self) -> datetime | None:
        """When a first contact is due (the organization's response target), if it still is."""
        if self.status != self.Status.NEW or self.first_contacted_at is not None or self.is_inventory:
            return None
        target = self.organization.response_target_minutes
        return None if target is None else self.created_at + timedelta(minutes=target)

    @property
    def awaiting_first_contact(self) -> bool:
        """New, not reached yet, and past the response target: flagged on lists and boards."""
        due = self.response_due_at()
        return due is not None and due <= timezone.now()


class ImportJob(models.Model):
    """One uploaded file being imported: its rows are staged as `ImportRow`s so any worker can
    process them, in batches, each committed with its checkpoint."""

    class Kind(models.TextChoices):
        LEADS = "leads"
        LISTINGS = "listings"
        CONTACTS = "contacts"

    class Status(models.TextChoices):
        AWAITING_CONFIRM = "awaiting_confirm"
        QUEUED = "queued"
        PROCESSING = "processing"
        DONE = "done"
        FAILED = "failed"

    class DuplicatePolicy(models.TextChoices):
        SKIP = "skip"
        UPDATE = "update"
        CREATE = "create"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_CONFIRM)
    file_name = models.CharField(max_length=255)
    columns = models.JSONField(default=list)
    mapping = models.JSONField(default=dict, help_text='{"<column>": "<field>" or null}')
    duplicate_policy = models.CharField(max_length=6, choices=DuplicatePolicy.choices, default=DuplicatePolicy.SKIP)
    options = models.JSONField(default=dict, blank=True, help_text="Spec-specific options (e.g. listing defaults).")
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "kind", "-created_at"], name="import_job_org_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} import {self.pk} ({self.file_name})"


class ImportRow(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "pending"
        CREATED = "created"
        UPDATED = "updated"
        DUPLICATE = "duplicate"
        INVALID = "invalid"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_no = models.PositiveIntegerField(help_text="1-based, counting data rows after the header.")
    data = models.JSONField(help_text="The raw cells by column name.")
    problems = models.JSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    object_id = models.BigIntegerField(null=True, blank=True, help_text="The record created or updated.")
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["job", "row_no"]
        constraints = [models.UniqueConstraint(fields=["job", "row_no"], name="import_row_once")]
        indexes = [models.Index(fields=["job", "outcome"], name="import_row_outcome_idx")]

    def __str__(self):
        return f"Row {self.row_no} of import {self.job_id}"


class AssignmentRule(models.Model):
    """Who gets new leads: round-robin over chosen members, or one fixed member. The first
    active rule (by priority) whose sources include the lead's source applies."""

    class Mode(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round-robin"
        FIXED = "fixed", "Fixed user"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="assignment_rules")
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower runs first.")
    sources = models.JSONField(default=list, blank=True, help_text="Lead sources it applies to; empty: all.")
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.ROUND_ROBIN)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    fixed_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Round-robin position: the id of the member who got the last lead.
    last_assigned_user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name


class CaptureForm(models.Model):
    """A public lead form at /f/<slug>/: which fields it asks, who is told of submissions."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="capture_forms")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    fields = models.JSONField(default=list, help_text='[{"name": "<lead field>", "label": "...", "required": bool}]')
    allow_attachment = models.BooleanField(default=False)
    thank_you_text = models.TextField(default="Thank you! We will be in touch shortly.")
    notify_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Submission(models.Model):
    form = models.ForeignKey(CaptureForm, on_delete=models.CASCADE, related_name="submissions")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="submissions")
    data = models.JSONField(default=dict)
    # Stored privately under a random name (never served by the static or media URL).
    attachment = models.FileField(upload_to="submissions/%Y/%m/", storage=private_storage, blank=True, max_length=300)
    attachment_name = models.CharField(max_length=200, blank=True, help_text="The submitted file name, sanitised.")
    attachment_content_type = models.CharField(max_length=100, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reached_out_at = models.DateTimeField(null=True, blank=True)
    reached_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Submission {self.pk} to {self.form_id}"
