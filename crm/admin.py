"""Staff admin for the CRM: contacts, opportunities, activities, email campaigns (their steps,
recipients, messages and the suppressed addresses) and outbound webhooks, read-only (the
members of each organization change them through the pages and the API, which record who
did). Staff may turn off a webhook endpoint; its owners are told."""

from django.contrib import admin, messages

from crm.models import (
    Activity,
    Campaign,
    CampaignMessage,
    CampaignRecipient,
    CampaignStep,
    Contact,
    EmailSuppression,
    Opportunity,
    WebhookDelivery,
    WebhookEndpoint,
)
from crm.services.webhooks import webhook_endpoint_disable
from leadnexus.core.admin import ReadOnlyAdmin


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "organization", "company", "email", "assigned_to", "deleted_at", "created_at"]
    list_filter = ["created_at", "deleted_at"]
    search_fields = ["first_name", "last_name", "email", "company", "organization__name"]
    list_select_related = ["organization", "assigned_to"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Contact._meta.fields]


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ["title", "organization", "stage", "amount", "probability", "expected_close_date", "assigned_to"]
    list_filter = ["stage", "expected_close_date"]
    search_fields = ["title", "organization__name"]
    list_select_related = ["organization", "assigned_to"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Opportunity._meta.fields]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["subject", "kind", "organization", "assigned_to", "due_at", "done_at", "created_at"]
    list_filter = ["kind", "due_at", "done_at"]
    search_fields = ["subject", "organization__name"]
    list_select_related = ["organization", "assigned_to"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Activity._meta.fields]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["url", "organization", "is_active", "consecutive_failures", "created_by", "created_at"]
    list_filter = ["is_active", "created_at"]
    search_fields = ["url", "description", "organization__name"]
    list_select_related = ["organization", "created_by"]
    date_hierarchy = "created_at"
    # The signing secret stays with the organization.
    exclude = ["secret"]
    readonly_fields = [*(f.name for f in WebhookEndpoint._meta.fields if f.name != "secret"), "secret_hint"]
    actions = ["disable"]

    @admin.action(description="Turn off the selected webhooks (their owners are told)")
    def disable(self, request, queryset):
        for endpoint_id in queryset.filter(is_active=True).values_list("pk", flat=True):
            webhook_endpoint_disable(endpoint_id=endpoint_id, reason="Turned off by LeadNexus staff.")
        self.message_user(request, "The selected webhooks are off.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event_type", "endpoint", "status", "attempts", "response_code", "created_at", "delivered_at"]
    list_filter = ["status", "event_type", "created_at"]
    search_fields = ["endpoint__url", "endpoint__organization__name"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


class CampaignStepInline(admin.StackedInline):
    model = CampaignStep
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in CampaignStep._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "status", "audience_kind", "ab_test", "ab_winner", "started_at"]
    list_filter = ["status", "audience_kind", "ab_test", "created_at"]
    search_fields = ["name", "organization__name"]
    list_select_related = ["organization"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Campaign._meta.fields]
    inlines = [CampaignStepInline]


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(ReadOnlyAdmin):
    list_display = ["email", "campaign", "status", "variant", "in_sample", "sent_at", "opened_at", "clicked_at"]
    list_filter = ["status", "variant", "in_sample"]
    search_fields = ["email", "campaign__name"]
    list_select_related = ["campaign"]
    readonly_fields = [f.name for f in CampaignRecipient._meta.fields]


@admin.register(CampaignMessage)
class CampaignMessageAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "step", "variant", "status", "sent_at", "opened_at", "clicked_at"]
    list_filter = ["status", "variant"]
    search_fields = ["recipient__email", "step__campaign__name"]
    list_select_related = ["step", "recipient"]
    readonly_fields = [f.name for f in CampaignMessage._meta.fields]


@admin.register(EmailSuppression)
class EmailSuppressionAdmin(ReadOnlyAdmin):
    list_display = ["email", "organization", "reason", "campaign", "created_at"]
    list_filter = ["reason", "created_at"]
    search_fields = ["email", "organization__name"]
    list_select_related = ["organization", "campaign"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EmailSuppression._meta.fields]
