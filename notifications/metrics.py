"""The email log's figures at /metrics, read from the database at each scrape."""

from django.db.models import Count
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from leadnexus.core.metrics import scrape_source
from notifications.models import EmailMessage


@scrape_source
def emails() -> list[Metric]:
    counts = dict(EmailMessage.objects.order_by().values_list("status").annotate(count=Count("id")))
    family = GaugeMetricFamily(
        "leadnexus_emails",
        "Emails in the email log by status: queued, sending, sent, failed (gave up after EMAIL_MAX_ATTEMPTS).",
        labels=["status"],
    )
    for status in EmailMessage.Status.values:
        family.add_metric([status], counts.get(status, 0))
    return [family]
