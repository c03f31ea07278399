from django.conf import settings
from django.db import models
from django.db.models import Q


class Activity(models.Model):
    """A call, email, meeting, note or task on one lead, contact or opportunity. A task (any
    activity with a due time) is open until done."""

    class Kind(models.TextChoices):
        CALL = "call"
        EMAIL = "email"
        MEETING = "meeting"
        NOTE = "note"
        TASK = "task"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="activities")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_activities"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="activities")
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    opportunity = models.ForeignKey(
        "crm.Opportunity", null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        constraints = [
            # On exactly one record.
            models.CheckConstraint(
                condition=(
                    Q(lead__isnull=False, contact__isnull=True, opportunity__isnull=True)
                    | Q(lead__isnull=True, contact__isnull=False, opportunity__isnull=True)
                    | Q(lead__isnull=True, contact__isnull=True, opportunity__isnull=False)
                ),
                name="activity_on_one_record",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "assigned_to", "due_at"],
                name="activity_open_due_idx",
                condition=Q(done_at__isnull=True),
            ),
            models.Index(fields=["lead", "-created_at"], name="activity_lead_idx"),
            models.Index(fields=["contact", "-created_at"], name="activity_contact_idx"),
            models.Index(fields=["opportunity", "-created_at"], name="activity_opportunity_idx"),
        ]

    def __str__(self):
        return self.subject
