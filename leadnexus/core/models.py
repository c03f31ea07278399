from django.conf import settings
from django.db import models


class Event(models.Model):
    """A domain event: the audit trail (who did what to which record) and the message
    other apps subscribe to. Written by `leadnexus.core.events.publish` only."""

    name = models.CharField(max_length=100, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The tenant the event belongs to; kept as a plain id so the kernel does not depend on accounts.
    org_id = models.BigIntegerField(null=True, blank=True)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "-created_at"], name="event_subject_idx"),
            models.Index(fields=["org_id", "-created_at"], name="event_org_idx"),
        ]

    def __str__(self):
        return f"{self.name} {self.subject_type}:{self.subject_id}"


class EventDelivery(models.Model):
    """One asynchronous subscriber handled one event: a re-delivered task sees the row and skips."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(max_length=200)
    delivered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "subscriber"], name="event_delivery_once")]

    def __str__(self):
        return f"{self.subscriber} handled event {self.event_id}"


class OutboxMessage(models.Model):
    """A Celery task to enqueue once the transaction that asked for it commits. A row still
    unsent after a delay (broker down at commit time) is re-sent by a beat job."""

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent_idx")
        ]

    def __str__(self):
        return f"{self.task} {self.kwargs}"


class IdempotencyRecord(models.Model):
    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    org_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org_id", "key", "endpoint"], name="idempotency_key_once_per_endpoint")
        ]

    def __str__(self):
        return f"{self.endpoint} {self.key}"
