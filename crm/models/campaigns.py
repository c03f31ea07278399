from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Campaign(models.Model):
    """An email campaign of an organization: who it goes to (a saved filter over its leads or
    contacts), its steps, and where its sending stands. The allowed moves between statuses
    are `crm.services.campaigns.TRANSITIONS`."""

    class AudienceKind(models.TextChoices):
        LEADS = "leads"
        CONTACTS = "contacts"

    class Status(models.TextChoices):
        DRAFT = "draft"
        SCHEDULED = "scheduled"
        SENDING = "sending"  # from the start until its last step is sent (A/B waits and delays included)
        PAUSED = "paused"
        SENT = "sent"
        CANCELED = "canceled"

    class AbMetric(models.TextChoices):
        OPEN = "open", "Open rate"
        CLICK = "click", "Click rate"

    class Variant(models.TextChoices):
        A = "a", "A"
        B = "b", "B"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="campaigns")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who scheduled it or sent it now; replies go to them.",
    )  # fmt: skip
    name = models.CharField(max_length=200)
    audience_kind = models.CharField(max_length=8, choices=AudienceKind.choices, default=AudienceKind.LEADS)
    audience_filter = models.JSONField(
        default=dict, blank=True, help_text="The list filters that pick the audience, as query parameters."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    ab_test = models.BooleanField(default=False)
    ab_metric = models.CharField(max_length=5, choices=AbMetric.choices, default=AbMetric.OPEN)
    ab_sample_percent = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(10), MaxValueValidator(100)]
    )
    ab_wait_hours = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(168)]
    )
    ab_winner = models.CharField(max_length=1, choices=Variant.choices, blank=True)
    ab_decided_at = models.DateTimeField(null=True, blank=True)
    excluded = models.JSONField(
        default=dict, blank=True, help_text="People of the audience left out when sending began, by reason."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="campaign_org_created_idx"),
            models.Index(fields=["status", "scheduled_at"], name="campaign_status_idx"),
        ]

    def __str__(self):
        return self.name


class CampaignStep(models.Model):
    """One email of a campaign. Step 1 goes to the whole audience (with a B variant under an
    A/B test); each later step goes `delay_days` after the previous one finished, to the
    recipients its condition picks."""

    class Condition(models.TextChoices):
        ALL = "all", "Everyone"
        NOT_OPENED = "not_opened", "Those who did not open"
        NOT_CLICKED = "not_clicked", "Those who did not click"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    subject = models.CharField(max_length=255)
    body = models.TextField(help_text="Plain text with merge fields such as {{ first_name }}.")
    subject_b = models.CharField(max_length=255, blank=True, help_text="Step 1 of an A/B test: blank, same as A.")
    body_b = models.TextField(blank=True, help_text="Step 1 of an A/B test: blank, same as A.")
    delay_days = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(365)])
    condition = models.CharField(max_length=12, choices=Condition.choices, default=Condition.ALL)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [models.UniqueConstraint(fields=["campaign", "position"], name="campaign_step_position")]

    def __str__(self):
        return f"Step {self.position} of {self.campaign_id}"

    def content(self, variant: str) -> tuple[str, str]:
        """(subject, body) of a variant: B falls back to A where it was left blank."""
        if variant == Campaign.Variant.B:
            return self.subject_b or self.subject, self.body_b or self.body
        return self.subject, self.body


class CampaignRecipient(models.Model):
    """One person of a campaign's audience, snapshotted when sending began (their merge
    fields as they were then). `status` is the furthest they went; the times say when."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        SENT = "sent"
        FAILED = "failed"
        BOUNCED = "bounced"
        OPENED = "opened"
        CLICKED = "clicked"
        UNSUBSCRIBED = "unsubscribed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(max_length=254, help_text="Lower-cased.")
    merge_fields = models.JSONField(default=dict)
    variant = models.CharField(max_length=1, choices=Campaign.Variant.choices, blank=True)
    in_sample = models.BooleanField(default=False, help_text="In the A/B test's sample.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "email"], name="campaign_recipient_once")]
        indexes = [models.Index(fields=["campaign", "status"], name="campaign_recipient_status_idx")]

    def __str__(self):
        return self.email


class CampaignMessage(models.Model):
    """One step's email to one recipient. Unique per (step, recipient): nobody is sent the
    same step twice. Pending until a batch hands it to the email outbox, in the same
    transaction that marks it sent."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped", "Skipped (unsubscribed or bounced meanwhile)"

    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="messages")
    recipient = models.ForeignKey(CampaignRecipient, on_delete=models.CASCADE, related_name="messages")
    variant = models.CharField(max_length=1, choices=Campaign.Variant.choices, default=Campaign.Variant.A)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    email = models.ForeignKey(
        "notifications.EmailMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["step", "id"]
        constraints = [models.UniqueConstraint(fields=["step", "recipient"], name="campaign_message_once")]
        indexes = [
            models.Index(fields=["step", "status"], name="campaign_message_step_idx"),
            models.Index(fields=["sent_at"], name="campaign_message_sent_idx", condition=Q(sent_at__isnull=False)),
        ]

    def __str__(self):
        return f"Step {self.step_id} to recipient {self.recipient_id}"


class EmailSuppression(models.Model):
    """An address the organization's campaigns no longer send to: its person unsubscribed,
    mail to it bounced for good, or their data was erased. Holds for every later campaign of
    the organization. Matched by `email_hash` (`leadnexus.core.privacy.Person.email_hash`),
    so it still holds once an erasure has blanked the address itself."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed"
        BOUNCED = "bounced"
        ERASED = "erased", "Erased on request"

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="email_suppressions"
    )
    email = models.EmailField(max_length=254, blank=True, help_text="Lower-cased; blank once erased.")
    email_hash = models.CharField(max_length=64, help_text="Keyed digest of the lower-cased address.")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "email_hash"], name="email_suppression_hash_once")
        ]

    def __str__(self):
        return f"{self.email or 'erased address'} ({self.reason})"
