"""The links in campaign emails (open pixel, click redirect, one-click unsubscribe) and the
signed bounce endpoint: what they record, and that a forged or altered token or report is
refused and records nothing."""

import json

import pytest
from django.test import Client

from crm.models import CampaignMessage, CampaignRecipient, EmailSuppression
from crm.selectors_campaigns import campaign_stats
from crm.services.campaign_tracking import bounce_sign
from crm.services.campaigns import campaign_schedule
from crm.tests.campaign_support import campaign_emails, campaign_make, leads_make, link
from leadnexus.core.crypto import SIGNATURE_HEADER, signature_make
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db

R = CampaignRecipient.Status
BOUNCES = "/api/campaigns/bounces"


@pytest.fixture
def sent(manager):
    """A campaign sent to three leads: its emails by address."""
    leads = leads_make(manager.organization, 3)
    campaign_schedule(actor=manager, campaign_id=campaign_make(manager).pk)
    emails = campaign_emails()
    return [emails[lead.email][0] for lead in leads]


def _tampered(path: str) -> str:
    """The path with the first character of its token's signature changed."""
    suffix = ".gif" if path.endswith(".gif") else ""
    head, signature = path.removesuffix(suffix).rsplit(":", 1)
    return f"{head}:{'B' if signature[0] == 'A' else 'A'}{signature[1:]}{suffix}"


def _recorded() -> list:
    return list(CampaignRecipient.objects.order_by("pk").values_list("status", "opened_at", "clicked_at"))


def test_the_open_pixel_records_the_first_open(client, sent):
    response = client.get(link(sent[0], "o"))
    first = CampaignRecipient.objects.get(email=sent[0].to).opened_at
    client.get(link(sent[0], "o"))

    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a") and "no-store" in response["Cache-Control"]
    recipient = CampaignRecipient.objects.get(email=sent[0].to)
    assert recipient.status == R.OPENED and recipient.opened_at == first
    assert CampaignMessage.objects.get(email=sent[0]).opened_at == first


def test_a_click_is_recorded_as_an_open_too_and_redirects_to_the_link(client, sent):
    response = client.get(link(sent[1], "c"))

    assert response.status_code == 302 and response["Location"] == "https://example.com/offer"
    recipient = CampaignRecipient.objects.get(email=sent[1].to)
    assert recipient.status == R.CLICKED and recipient.clicked_at and recipient.opened_at
    stats = campaign_stats(user=recipient.campaign.created_by, campaign_id=recipient.campaign_id)
    assert (stats["opened"], stats["clicked"], stats["open_rate"], stats["click_rate"]) == (1, 1, 0.3333, 0.3333)


@pytest.mark.parametrize("kind", ["o", "c", "u"])
def test_a_tampered_or_forged_token_is_refused_and_records_nothing(client, sent, kind):
    before = _recorded()
    path = link(sent[0], kind)
    forged = {"o": "/t/o/eyJtIjoxfQ:1xZaEt:forged.gif", "c": "/t/c/eyJtIjoxfQ:1xZaEt:forged", "u": "/u/eyJyIjoxfQ:x:y"}

    for bad in (_tampered(path), forged[kind]):
        assert client.get(bad).status_code == 404
        assert client.post(bad).status_code in (404, 405)

    assert _recorded() == before
    assert not EmailSuppression.objects.exists()


def test_a_click_token_cannot_be_pointed_at_another_url(client, sent):
    """The target is inside the signed token: swapping in another one breaks the signature."""
    path = link(sent[0], "c")
    token = path.rsplit("/", 1)[1]
    other = token.replace(token.split(":")[0], "eyJtIjoxLCJ1IjoiaHR0cHM6Ly9ldmlsLmV4YW1wbGUifQ")

    assert client.get(f"/t/c/{other}").status_code == 404


def test_unsubscribe_asks_then_holds_and_one_click_needs_no_page_or_cookie(sent):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(link(sent[0], "u"))
    assert page.status_code == 200 and b"Unsubscribe?" in page.content
    assert CampaignRecipient.objects.get(email=sent[0].to).status == R.SENT

    # the mail client's RFC 8058 POST: no CSRF token, no cookie
    one_click = browser.post(link(sent[0], "u"), {"List-Unsubscribe": "One-Click"})
    again = browser.post(link(sent[0], "u"), {"List-Unsubscribe": "One-Click"})

    assert one_click.status_code == again.status_code == 200 and b"You are unsubscribed" in one_click.content
    recipient = CampaignRecipient.objects.get(email=sent[0].to)
    assert recipient.status == R.UNSUBSCRIBED and recipient.unsubscribed_at
    suppression = EmailSuppression.objects.get()
    assert (suppression.email, suppression.reason) == (sent[0].to, "unsubscribed")
    assert recipient.campaign.organization_id == suppression.organization_id


# --- Bounces --------------------------------------------------------------------------------------


def _bounce(client, report: dict, *, signature: str | None = None, body: bytes | None = None):
    body = body if body is not None else json.dumps(report).encode()
    headers = {SIGNATURE_HEADER: signature if signature is not None else bounce_sign(body)}
    return client.post(BOUNCES, body, content_type="application/json", headers=headers)


def test_a_hard_bounce_marks_the_recipient_and_suppresses_the_address(api_client, sent):
    message = CampaignMessage.objects.get(email=sent[0])

    response = _bounce(api_client, {"message": sent[0].headers["LeadNexus-Campaign-Message"], "type": "hard"})
    again = _bounce(api_client, {"email": sent[0].to.upper(), "type": "hard"})

    assert response.status_code == 200 and response.json() == {"received": True, "outcome": "bounced"}
    assert again.json()["outcome"] == "already_bounced"
    recipient = CampaignRecipient.objects.get(pk=message.recipient_id)
    assert recipient.status == R.BOUNCED and recipient.bounced_at
    assert EmailSuppression.objects.get().reason == "bounced"
    stats = campaign_stats(user=recipient.campaign.created_by, campaign_id=recipient.campaign_id)
    assert (stats["sent"], stats["bounced"], stats["delivered"]) == (3, 1, 2)


def test_a_soft_bounce_or_an_unknown_address_changes_nothing(api_client, sent):
    assert _bounce(api_client, {"email": sent[1].to, "type": "soft"}).json()["outcome"] == "soft"
    assert _bounce(api_client, {"email": "stranger@example.com", "type": "hard"}).json()["outcome"] == "unknown"
    assert _bounce(api_client, {"message": "99999999", "type": "hard"}).json()["outcome"] == "unknown"
    assert not CampaignRecipient.objects.filter(status=R.BOUNCED).exists()
    assert not EmailSuppression.objects.exists()


def test_an_unsigned_forged_or_stale_bounce_is_refused_with_the_error_envelope(api_client, sent):
    report = {"email": sent[0].to, "type": "hard"}
    body = json.dumps(report).encode()

    assert_error(_bounce(api_client, report, signature=""), 400, "validation_error")
    assert_error(_bounce(api_client, report, signature="t=1,v1=deadbeef"), 400, "validation_error")
    assert_error(_bounce(api_client, report, signature=bounce_sign(body, timestamp=1)), 400, "validation_error")
    tampered = json.dumps({"email": sent[1].to, "type": "hard"}).encode()
    assert_error(_bounce(api_client, report, signature=bounce_sign(body), body=tampered), 400, "validation_error")
    assert_error(_bounce(api_client, {"type": "hard"}), 400, "validation_error")
    assert_error(_bounce(api_client, {}, body=b"[1, 2]"), 400, "validation_error")
    assert not CampaignRecipient.objects.filter(status=R.BOUNCED).exists()


def test_the_bounce_secret_comes_from_the_setting(api_client, sent, settings):
    settings.CAMPAIGN_BOUNCE_SECRET = "whsec_bounces_from_the_mail_service"
    body = json.dumps({"email": sent[0].to, "type": "hard"}).encode()
    signed = signature_make(b"whsec_bounces_from_the_mail_service", body)

    assert _bounce(api_client, {}, body=body, signature=signed).json()["outcome"] == "bounced"
