"""A Celery worker (a real `celery worker` process on the private Redis and the test's
PostgreSQL) killed with SIGKILL in the middle of an import, a campaign send and a webhook
delivery. After a fresh worker starts and the beat jobs run (called here, as beat would),
each finishes with no lead, email or delivery twice. The time beat would wait for a claim
to go stale is shortened through settings, or skipped by dating the claim back."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db.models import Count

from accounts.tests.factories import UserFactory
from crm.models import Campaign, CampaignMessage, WebhookDelivery
from crm.services.campaign_sending import campaigns_advance
from crm.services.campaigns import campaign_schedule
from crm.services.webhooks import webhook_deliver, webhook_deliveries_retry
from crm.tests.campaign_support import campaign_make, leads_make
from crm.tests.factories import WebhookEndpointFactory
from leads.imports import services as imports
from leads.models import ImportJob, ImportRow, Lead
from leads.services.records import lead_create
from leads.tests.factories import spreadsheet_upload
from notifications.models import EmailMessage
from notifications.services import emails_resume_stale
from tests.faults.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

STALE_SECONDS = 2


@pytest.fixture
def worker_env(on_private_redis, settings):
    """What every worker of these tests is started with."""
    settings.IMPORT_STALE_AFTER = timedelta(seconds=STALE_SECONDS)
    return {
        "IMPORT_BATCH_SIZE": "10",
        "IMPORT_STALE_AFTER_SECONDS": str(STALE_SECONDS),
        "CAMPAIGN_BATCH_SIZE": "4",
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_TIMEOUT_SECONDS": "30",
    }


def test_an_import_finishes_after_its_worker_is_killed_with_each_lead_once(workers, worker_env):
    user = UserFactory()
    rows = 300
    content = "Email,First name,Company\n" + "".join(f"p{n}@import.example,P{n},Co {n}\n" for n in range(rows))
    upload = imports.import_upload(actor=user, kind=ImportJob.Kind.LEADS, file=spreadsheet_upload("l.csv", content))
    job = ImportJob.objects.filter(pk=upload.job.pk)

    first = workers.start(**worker_env)
    imports.import_confirm(actor=user, kind=ImportJob.Kind.LEADS, job_id=upload.job.pk)
    wait_for(lambda: job.get().processed > 0, timeout=30, what="the first batches", interval=0.01)
    first.kill()
    killed_at = job.get()
    assert killed_at.status == ImportJob.Status.PROCESSING and 0 < killed_at.processed < rows

    workers.start(**worker_env)
    time.sleep(STALE_SECONDS + 0.5)  # the dead worker's claim goes stale
    assert imports.imports_resume_stale() == 1
    wait_for(lambda: job.get().status == ImportJob.Status.DONE, timeout=60, what="the import to finish")

    done = job.get()
    assert (done.processed, done.created, done.duplicates, done.invalid) == (rows, rows, 0, 0)
    leads = Lead.objects.filter(organization=user.organization)
    assert leads.count() == rows and leads.values("email").distinct().count() == rows
    assert not ImportRow.objects.filter(job=done, outcome=ImportRow.Outcome.PENDING).exists()


def test_a_campaign_finishes_after_two_workers_are_killed_with_each_email_once(
    workers, worker_env, smtp_server, settings
):
    manager = UserFactory()
    recipients = 40
    leads_make(manager.organization, recipients)
    smtp_server.script = ["accept"] * 3 + ["hang"]  # the fourth email waits for an answer

    # the first worker dies between two batches of the campaign
    first = workers.start(**worker_env)
    campaign = campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    messages = CampaignMessage.objects.filter(step__campaign=campaign)
    wait_for(lambda: messages.filter(status="sent").count() >= 8, timeout=30, what="two batches", interval=0.01)
    first.kill()
    assert messages.filter(status="pending").exists()

    # the second dies in the middle of an SMTP conversation
    second = workers.start(**worker_env)
    assert campaigns_advance() == 1
    wait_for(lambda: "hang" in smtp_server.answered, timeout=30, what="the hanging email")
    second.kill()
    assert EmailMessage.objects.filter(status=EmailMessage.Status.SENDING).count() == 1

    # a third worker and the beat jobs finish it
    workers.start(**worker_env)
    settings.EMAIL_STALE_AFTER = timedelta(0)
    assert emails_resume_stale() >= 1
    campaigns_advance()

    def finished():
        if messages.filter(status="pending").exists():
            campaigns_advance()
            return False
        return not EmailMessage.objects.exclude(status=EmailMessage.Status.SENT).exists()

    wait_for(finished, timeout=90, what="every campaign email sent", interval=0.5)
    delivered = [message["To"] for message in smtp_server.received]
    assert len(delivered) == len(set(delivered)) == recipients
    assert EmailMessage.objects.filter(template="campaign").count() == recipients
    assert not messages.values("recipient").annotate(n=Count("id")).filter(n__gt=1).exists()
    campaigns_advance()
    wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT, timeout=30, what="sent")


class HangingReceiver:
    """A webhook receiver that never answers its first request and answers 200 to the rest."""

    def __init__(self):
        self.requests: list[dict] = []
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": json.loads(body)})
                if len(receiver.requests) == 1:
                    receiver.released.wait(60)
                    return
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hanging_receiver():
    receiver = HangingReceiver()
    yield receiver
    receiver.close()


def test_a_webhook_is_delivered_once_after_its_worker_is_killed_mid_request(workers, worker_env, hanging_receiver):
    manager = UserFactory()
    WebhookEndpointFactory(created_by=manager, url=hanging_receiver.url)

    first = workers.start(**worker_env)
    lead_create(actor=manager, data={"first_name": "Ada", "email": "ada@hooks.example"})
    wait_for(lambda: hanging_receiver.requests, timeout=30, what="the first attempt")
    first.kill()

    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.PENDING, 1)
    # the attempt's lease runs out (WEBHOOK_TIMEOUT_SECONDS + 60 s), then the retry job sends it again
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.next_attempt_at - timedelta(hours=1))
    workers.start(**worker_env)
    assert webhook_deliveries_retry() == 1
    wait_for(
        lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == WebhookDelivery.Status.SUCCEEDED,
        timeout=30,
        what="the delivery",
    )

    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.response_code == 200
    assert webhook_deliver(delivery_id=delivery.pk, attempt=1) is None  # the lost task, redelivered late
    assert WebhookDelivery.objects.count() == 1
    ids = {request["headers"]["LeadNexus-Delivery"] for request in hanging_receiver.requests}
    assert ids == {str(delivery.pk)} and len(hanging_receiver.requests) == 2  # one answered
    assert {request["body"]["type"] for request in hanging_receiver.requests} == {"lead.created"}
