"""Analytics in the admin, read-only: staff see report exports and subscriptions (who ran
what, and how it went) and the rollups behind the dashboards (`rollups_rebuild` rewrites
them)."""

from django.contrib import admin

from analytics.models import DailyRollup, ReportExport, ReportSubscription
from leadnexus.core.admin import ReadOnlyAdmin


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "user",
        "organization",
        "date_from",
        "date_to",
        "format",
        "status",
        "progress",
        "created_at",
    ]
    list_filter = ["status", "kind", "format"]
    search_fields = ["user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ReportExport._meta.fields]


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["kind", "user", "frequency", "format", "last_period_start", "created_at"]
    list_filter = ["frequency", "kind"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    readonly_fields = [f.name for f in ReportSubscription._meta.fields]


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    list_display = ["organization", "date", "metric", "key", "owner", "count", "amount"]
    list_filter = ["metric"]
    search_fields = ["organization__name", "metric", "key"]
    list_select_related = ["organization", "owner"]
    date_hierarchy = "date"
    readonly_fields = [f.name for f in DailyRollup._meta.fields]
