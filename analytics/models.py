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
