from django.contrib import admin, messages

from notifications.models import EmailAttempt, EmailMessage, Notification, NotificationSettings
from notifications.services import email_requeue


class EmailAttemptInline(admin.TabularInline):
    model = EmailAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "succeeded", "error"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
    """The email log: what was sent to whom, every attempt, and a way to retry failures."""

    list_display = ["subject", "to", "template", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["to", "subject"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in EmailMessage._meta.fields]
    inlines = [EmailAttemptInline]
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Send failed emails again")
    def requeue(self, request, queryset):
        requeued = sum(email_requeue(email_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{requeued} email(s) queued again.", messages.SUCCESS)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "user", "type", "is_read", "created_at"]
    list_filter = ["type", "is_read"]
    search_fields = ["title", "message", "user__email"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    date_hierarchy = "created_at"


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "updated_at"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
