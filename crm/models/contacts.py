from django.conf import settings
from django.db import models
from django.db.models import Q


class Contact(models.Model):
    """A person the organization works with: converted from a lead, imported or typed in.
    Deduplicated with the leads' keys (`leads.dedupe`); soft-deleted."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="contacts")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_contacts"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        help_text="The lead it was converted from.",
    )  # fmt: skip
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True, help_text="E.164 when it could be parsed.")
    company = models.CharField(max_length=200, blank=True)
    position = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    email_key = models.CharField(max_length=254, blank=True)
    phone_key = models.CharField(max_length=32, blank=True)
    name_company_key = models.CharField(max_length=300, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["organization", "email_key"], name="contact_email_key_idx", condition=~Q(email_key="")
            ),
            models.Index(
                fields=["organization", "phone_key"], name="contact_phone_key_idx", condition=~Q(phone_key="")
            ),
            models.Index(
                fields=["organization", "name_company_key"],
                name="contact_name_company_key_idx",
                condition=~Q(name_company_key=""),
            ),
            models.Index(fields=["organization", "-created_at", "-id"], name="contact_org_created_idx"),
            models.Index(fields=["organization", "assigned_to"], name="contact_org_assignee_idx"),
        ]

    def __str__(self):
        return self.full_name or self.email or self.company or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
