from django.contrib import admin

from leadnexus.core.models import Event, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The audit trail: who did what to which record. Never edited."""

    list_display = ["created_at", "name", "actor", "org_id", "subject_type", "subject_id"]
    list_filter = ["name", "subject_type"]
    search_fields = ["name", "subject_id", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "task", "sent_at", "send_attempts", "last_error"]
    list_filter = ["task", ("sent_at", admin.EmptyFieldListFilter)]
    date_hierarchy = "created_at"
