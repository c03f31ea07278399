"""Analytics keeps figures ready for the dashboards: daily rollups per organization, its
local day, metric, key and owner, recomputed from the source tables whenever an event says
a day changed (`analytics.rollups`)."""

from django.conf import settings
from django.db import models


class DailyRollup(models.Model):
    """One figure of an organization on one of its local days: how many (`count`) and how
    much (`amount`: money, or seconds for durations) of `metric`, for one `key` (a source, a
    status, a vendor…; blank when the metric has none) and one `owner` (the user the records
    belong to; null: nobody). Rows are written only by `analytics.rollups`."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    date = models.DateField(help_text="The organization's local date.")
    metric = models.CharField(max_length=40)
    key = models.CharField(max_length=64, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    count = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        ordering = ["organization", "date", "metric", "key"]
        indexes = [
            models.Index(fields=["organization", "metric", "date"], name="rollup_org_metric_date"),
            models.Index(fields=["metric", "date"], name="rollup_metric_date"),
        ]

    def __str__(self):
        return f"{self.metric}[{self.key}] {self.date}: {self.count} / {self.amount}"


class StaleDay(models.Model):
    """A day of an organization whose rollups of one family an event changed, waiting to be
    recomputed. `marked_at` moves on each new mark, so a recompute that began before the last
    mark leaves it for the next run."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    family = models.CharField(max_length=20)
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "date", "family"], name="stale_day_once"),
        ]

    def __str__(self):
        return f"{self.family} of {self.organization_id} on {self.date}"


class ReportExport(models.Model):
    """One run of a report (`analytics.reports`): who asked, for which of their organization's
    local dates and in which format, and the file it wrote. Small reports are written while the
    caller waits; large ones by a Celery job (`status`, `progress`, `heartbeat_at`). The file is
    kept until `expires_at`, then removed by a beat job; the row stays as history."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(
        "analytics.ReportSubscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="exports"
    )
    kind = models.CharField(max_length=30)
    date_from = models.DateField(help_text="The organization's local date, inclusive.")
    date_to = models.DateField(help_text="The organization's local date, inclusive.")
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0, help_text="Rows the report was expected to have.")
    row_count = models.PositiveIntegerField(default=0, help_text="Rows written so far.")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the rows written.")
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True, max_length=255)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The job's last sign of life.")
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="The file is removed after this.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="report_export_user_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="report_export_status_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.date_from} to {self.date_to} ({self.status})"


class ReportSubscription(models.Model):
    """A user's standing order for a report, emailed weekly or monthly for the period just
    ended (their organization's local dates). `last_period_start` is the first day of the last
    period sent: a period is sent once however often the beat job runs."""

    class Frequency(models.TextChoices):
        WEEKLY = "weekly"
        MONTHLY = "monthly"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30)
    frequency = models.CharField(max_length=8, choices=Frequency.choices)
    format = models.CharField(max_length=4, choices=ReportExport.Format.choices, default=ReportExport.Format.CSV)
    last_period_start = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "frequency", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "frequency"], name="report_subscription_once"),
        ]

    def __str__(self):
        return f"{self.frequency} {self.kind} for {self.user_id}"


class DailySummarySent(models.Model):
    """The daily summary email sent to a user for one of their organization's local days: at
    most one row, so at most one email, per user and day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "date"], name="daily_summary_once")]

    def __str__(self):
        return f"Daily summary of {self.user_id} for {self.date}"
