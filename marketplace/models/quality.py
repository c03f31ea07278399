"""Vendor quality: what happened to the leads a vendor sold, once they reached their buyers'
pipelines. The figures are computed by analytics (`analytics.quality`, where they are
defined) and stored here through `marketplace.services.quality.vendor_quality_store`; the
score is copied onto the vendor's listings (`Listing.vendor_quality`) for the catalog."""

from django.db import models

RATE = {"max_digits": 5, "decimal_places": 4}


class VendorQuality(models.Model):
    """A vendor's quality figures over its sold leads: how many were sold (the sample), and
    of those how many were contacted, won and disputed, as counts and as shares (0 to 1).
    `score` (0 to 5) is null until the sample reaches `VENDOR_QUALITY_MIN_SAMPLE`."""

    vendor = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="quality")
    sold = models.PositiveIntegerField(default=0)
    contacted = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    disputed = models.PositiveIntegerField(default=0)
    contact_rate = models.DecimalField(**RATE, null=True, blank=True)
    win_rate = models.DecimalField(**RATE, null=True, blank=True)
    dispute_rate = models.DecimalField(**RATE, null=True, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "vendor qualities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contacted__lte=models.F("sold"))
                & models.Q(won__lte=models.F("sold"))
                & models.Q(disputed__lte=models.F("sold")),
                name="vendor_quality_counts_within_sample",
            ),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=5),
                name="vendor_quality_score_0_5",
            ),
        ]

    def __str__(self):
        return f"Quality of {self.vendor_id}: {self.score if self.score is not None else 'not rated'}"
