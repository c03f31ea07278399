"""What recipients do with a campaign's emails: opens (the pixel), clicks (the redirect), the
one-click unsubscribe, bounces reported by the mail service, and emails the outbox gave up
on. None needs a signed-in user: the signed token (`crm.campaign_content`) or the signed
bounce report is the credential, and a forged one records nothing.

An unsubscribe or a hard bounce suppresses the address for every later campaign of the
organization (`EmailSuppression`) and skips the recipient's messages not yet sent."""

import json
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from crm.campaign_content import token_read
from crm.models import CampaignMessage, CampaignRecipient, EmailSuppression
from leadnexus.core.crypto import signature_check, signature_make
from leadnexus.core.events import publish
from leadnexus.core.exceptions import NotFound, ValidationFailed
from leadnexus.core.ids import is_db_id
from leadnexus.core.privacy import email_digest

M = CampaignMessage.Status
R = CampaignRecipient.Status
BOUNCE_TYPES = ("hard", "soft")


def _message(payload: dict) -> CampaignMessage | None:
    message_id = payload.get("m")
    if not is_db_id(message_id):
        raise NotFound("This link is not valid.")
    return CampaignMessage.objects.filter(pk=message_id).first()


def campaign_open_record(*, token: str) -> None:
    """The first open of a message (and of its recipient). A message deleted since is no
    error: the pixel still loads."""
    message = _message(token_read("open", token))
    if message is not None:
        _opened(message, timezone.now())


def _opened(message: CampaignMessage, now: datetime) -> None:
    CampaignMessage.objects.filter(pk=message.pk, opened_at__isnull=True).update(opened_at=now)
    recipients = CampaignRecipient.objects.filter(pk=message.recipient_id)
    recipients.filter(opened_at__isnull=True).update(opened_at=now)
    recipients.filter(status=R.SENT).update(status=R.OPENED)


def campaign_click_record(*, token: str) -> str:
    """Record the first click of a message's link (a click is an open too) and answer the
    link's URL, the one signed into the token: the redirect can go nowhere else."""
    payload = token_read("click", token)
    url = payload.get("u")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise NotFound("This link is not valid.")
    message = _message(payload)
    if message is not None:
        now = timezone.now()
        with transaction.atomic():
            _opened(message, now)
            CampaignMessage.objects.filter(pk=message.pk, clicked_at__isnull=True).update(clicked_at=now)
            recipients = CampaignRecipient.objects.filter(pk=message.recipient_id)
            recipients.filter(clicked_at__isnull=True).update(clicked_at=now)
            recipients.filter(status__in=[R.SENT, R.OPENED]).update(status=R.CLICKED)
    return url


def campaign_unsubscribe_target(*, token: str) -> CampaignRecipient:
    """The recipient an unsubscribe link is for (its page asks them to confirm)."""
    recipient_id = token_read("unsubscribe", token).get("r")
    recipient = (
        CampaignRecipient.objects.select_related("campaign__organization").filter(pk=recipient_id).first()
        if is_db_id(recipient_id)
        else None
    )
    if recipient is None:
        raise NotFound("This link is not valid.")
    return recipient


def campaign_unsubscribe(*, token: str) -> CampaignRecipient:
    """Unsubscribe the recipient from the organization's campaigns, this one and every later
    one (again: nothing more happens)."""
    recipient = campaign_unsubscribe_target(token=token)
    with transaction.atomic():
        if _suppress(recipient, EmailSuppression.Reason.UNSUBSCRIBED, R.UNSUBSCRIBED, "unsubscribed_at"):
            publish(
                "crm.campaign.unsubscribed",
                org=recipient.campaign.organization_id,
                subject=recipient.campaign,
                data={"recipient_id": recipient.pk},
            )
    return recipient


def suppression_add(*, organization_id: int, email: str, reason: str, campaign=None) -> None:
    """The organization's campaigns no longer send to `email` (kept with its digest, which is
    what sending checks); suppressing an address twice keeps the first reason."""
    try:
        with transaction.atomic():
            EmailSuppression.objects.get_or_create(
                organization_id=organization_id,
                email_hash=email_digest(email),
                defaults={"email": email.strip().lower(), "reason": reason, "campaign": campaign},
            )
    except IntegrityError:  # suppressed meanwhile by another request: just as good
        pass


def _suppress(recipient: CampaignRecipient, reason: str, status: str, stamp: str) -> bool:
    """Suppress the recipient's address for the organization and mark them; whether this
    changed anything."""
    now = timezone.now()
    suppression_add(
        organization_id=recipient.campaign.organization_id, email=recipient.email, reason=reason,
        campaign=recipient.campaign,
    )  # fmt: skip
    marked = CampaignRecipient.objects.filter(pk=recipient.pk, **{f"{stamp}__isnull": True}).update(
        status=status, **{stamp: now}
    )
    CampaignMessage.objects.filter(recipient=recipient, status=M.PENDING).update(status=M.SKIPPED)
    return bool(marked)


# --- Reports from the mail service ----------------------------------------------------------------


def _bounce_secret() -> bytes:
    if settings.CAMPAIGN_BOUNCE_SECRET:
        return settings.CAMPAIGN_BOUNCE_SECRET.encode()
    return salted_hmac("leadnexus.campaigns.bounces", "signing").hexdigest().encode()


def bounce_sign(body: bytes, *, timestamp: int | None = None) -> str:
    """The `LeadNexus-Signature` header the mail service sends with a bounce report."""
    return signature_make(_bounce_secret(), body, timestamp=timestamp)


def campaign_bounce_receive(*, body: bytes, signature: str) -> str:
    """A signed bounce report `{"message": "<LeadNexus-Campaign-Message header>" | "email":
    "<address>", "type": "hard"|"soft"}`. A hard bounce marks the recipient bounced and
    suppresses the address; a soft one (the mail service retries) changes nothing. The
    outcome: bounced, already_bounced, soft or unknown (nothing of ours was sent there)."""
    signature_check(_bounce_secret(), body, signature, tolerance=settings.CAMPAIGN_BOUNCE_TOLERANCE)
    try:
        report = json.loads(body)
    except ValueError:
        report = None
    if not isinstance(report, dict):
        raise ValidationFailed("The report is not a JSON object.")
    problems = {}
    if report.get("type") not in BOUNCE_TYPES:
        problems["type"] = ["hard or soft."]
    message_ref, email = report.get("message"), report.get("email")
    if not message_ref and not email:
        problems["message"] = ["Give the message (its LeadNexus-Campaign-Message header) or the email address."]
    if problems:
        raise ValidationFailed("The bounce report is not valid.", details=problems)
    message = _bounced_message(message_ref, email)
    if message is None:
        return "unknown"
    if report["type"] == "soft":
        return "soft"
    recipient = message.recipient
    with transaction.atomic():
        if not _suppress(recipient, EmailSuppression.Reason.BOUNCED, R.BOUNCED, "bounced_at"):
            return "already_bounced"
        publish(
            "crm.campaign.bounced",
            org=recipient.campaign.organization_id,
            subject=recipient.campaign,
            data={"recipient_id": recipient.pk, "message_id": message.pk},
        )
    return "bounced"


def _bounced_message(message_ref, email) -> CampaignMessage | None:
    """The sent message a report names, or the latest one sent to its address."""
    sent = CampaignMessage.objects.filter(status=M.SENT).select_related("recipient__campaign")
    if message_ref:
        message_id = int(message_ref) if str(message_ref).isdigit() and len(str(message_ref)) < 20 else None
        return sent.filter(pk=message_id).first() if is_db_id(message_id) else None
    if not isinstance(email, str) or len(email) > 254:
        return None
    return sent.filter(recipient__email=email.strip().lower()).order_by("-sent_at", "-pk").first()


def campaign_email_failed(*, email_id: int) -> None:
    """The outbox gave up on a message's email: the message failed, and its recipient with
    it unless they got further."""
    message = CampaignMessage.objects.filter(email_id=email_id).first()
    if message is None:
        return
    with transaction.atomic():
        CampaignMessage.objects.filter(pk=message.pk).update(status=M.FAILED)
        CampaignRecipient.objects.filter(pk=message.recipient_id, status__in=[R.QUEUED, R.SENT]).update(
            status=R.FAILED, failed_at=timezone.now()
        )
