from django.conf import settings
from django.db import models


class EmailMessage(models.Model):
    """The email outbox: one row per email, sent by a Celery task, never twice."""

    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for (another) attempt
        SENDING = "sending"  # claimed by a worker
        SENT = "sent"
        FAILED = "failed"  # gave up after EMAIL_MAX_ATTEMPTS

    to = models.EmailField(max_length=254)
    template = models.CharField(max_length=100, help_text="The template the email was rendered from.")
    from_email = models.CharField(max_length=320, blank=True, help_text="Blank: DEFAULT_FROM_EMAIL.")
    subject = models.CharField(max_length=255)
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Extra headers, e.g. List-Unsubscribe.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Queued: when its next attempt is due; sending: when the attempt began. Long past either,
    # its task was lost (a broker that forgot it, a worker killed mid-attempt) and the
    # resume job sends it again.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.subject} → {self.to}"


class EmailAttempt(models.Model):
    email = models.ForeignKey(EmailMessage, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    succeeded = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"Attempt on email {self.email_id}: {'ok' if self.succeeded else self.error}"


class NotificationType(models.TextChoices):
    NEW_LEAD = "new_lead", "New leads"
    ASSIGNMENT = "assignment", "Assignments"
    FOLLOW_UP_DUE = "follow_up_due", "Follow-ups due"
    RESPONSE_OVERDUE = "response_overdue", "Leads waiting for a first contact"
    HOT_LEAD = "hot_lead", "Hot leads"
    CONVERSION = "conversion", "Conversions"
    PURCHASE_SALE = "purchase_sale", "Purchases and sales"
    DISPUTE = "dispute", "Disputes"
    DAILY_SUMMARY = "daily_summary", "Daily summary"
    REPORT = "report", "Reports ready"
    ACCOUNT = "account", "Account and plan"
    WEBHOOK = "webhook", "Webhooks"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    type = models.CharField(max_length=20, choices=NotificationType.choices)
    title = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="A path inside the site, e.g. /leads/12/.")
    is_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "is_read", "-created_at"], name="notification_inbox_idx")]

    def __str__(self):
        return self.title


class NotificationSettings(models.Model):
    """Per user and notification type, whether it shows in the app and whether it is emailed.
    `channels` holds only what the user changed: `{type: {"in_app": bool, "email": bool}}`."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    channels = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Notification settings of {self.user}"
