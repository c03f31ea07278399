from django.conf import settings
from django.db import models
from django.db.models import Q


class Opportunity(models.Model):
    """A deal in the pipeline: prospecting → qualification → proposal → negotiation →
    closed_won | closed_lost (the moves are `crm.pipeline`'s)."""

    class Stage(models.TextChoices):
        PROSPECTING = "prospecting"
        QUALIFICATION = "qualification"
        PROPOSAL = "proposal"
        NEGOTIATION = "negotiation"
        CLOSED_WON = "closed_won", "Won"
        CLOSED_LOST = "closed_lost", "Lost"

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="opportunities")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_opportunities",
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    contact = models.ForeignKey(
        "crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    title = models.CharField(max_length=200)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default=settings.CURRENCY)
    stage = models.CharField(max_length=14, choices=Stage.choices, default=Stage.PROSPECTING)
    probability = models.PositiveSmallIntegerField(default=10, help_text="Percent; defaults by stage.")
    expected_close_date = models.DateField(null=True, blank=True)
    lost_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        indexes = [
            models.Index(fields=["organization", "stage"], name="opportunity_org_stage_idx"),
            models.Index(fields=["organization", "expected_close_date"], name="opportunity_org_close_idx"),
            models.Index(fields=["organization", "assigned_to"], name="opportunity_org_assignee_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="opportunity_probability_0_100"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="opportunity_amount_positive"
            ),
        ]

    def __str__(self):
        return self.title
