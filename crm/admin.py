"""Staff admin for the CRM: contacts, opportunities and activities, read-only (the members
of each organization change them through the pages and the API, which record who did)."""

from django.contrib import admin

from crm.models import Activity, Contact, Opportunity
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
