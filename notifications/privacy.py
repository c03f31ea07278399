"""The personal data notifications holds (`leadnexus.core.privacy`): the email log, and
in-app notifications naming the person. The log has no organization: an organization's
request reaches the emails its campaigns sent (`crm.privacy`) and mentions of the person in
emails to its members; a staff request reaches every email sent to the address
(transactional ones too) and every mention."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from leadnexus.core.privacy import Erasure, Holder, Person, holder_register, records, redact_rows
from notifications.models import EmailMessage, Notification


def _emails(person: Person, organization_id: int | None) -> QuerySet[EmailMessage]:
    if organization_id is not None or not person.email:
        return EmailMessage.objects.none()
    return EmailMessage.objects.filter(to__iexact=person.email)


def _to_members(organization_id: int | None) -> QuerySet[EmailMessage]:
    """The emails sent to the organization's members (every email, for staff)."""
    if organization_id is None:
        return EmailMessage.objects.all()
    members = get_user_model().objects.filter(organization_id=organization_id).values("email")
    return EmailMessage.objects.filter(to__in=members)


def _notifications(organization_id: int | None) -> QuerySet[Notification]:
    notifications = Notification.objects.all()
    return notifications if organization_id is None else notifications.filter(user__organization_id=organization_id)


def _export(person: Person, organization_id: int | None) -> dict[str, list[dict]]:
    mentioning = _notifications(organization_id).filter(person.mentioned_in("title", "message"))
    emails = _emails(person, organization_id) | _to_members(organization_id).filter(
        person.mentioned_in("subject", "text", "html")
    )
    return {
        "notifications.emailmessage": records(emails.order_by("pk")),
        "notifications.notification": records(mentioning.order_by("pk")),
    }


def _erase(person: Person, organization_id: int | None, erasure: Erasure) -> None:
    erasure.count("notifications.emailmessage", deleted=_emails(person, organization_id).delete()[1].get(
        "notifications.EmailMessage", 0
    ))  # fmt: skip
    erasure.count("notifications.emailmessage", anonymised=redact_rows(
        _to_members(organization_id), person, "subject", "text", "html"
    ))  # fmt: skip
    erasure.count("notifications.notification", anonymised=redact_rows(
        _notifications(organization_id), person, "title", "message"
    ))  # fmt: skip


holder_register(Holder(name="notifications", order=40, export=_export, erase=_erase))
