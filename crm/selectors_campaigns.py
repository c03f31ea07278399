"""Reads of email campaigns: the organization's campaigns, their recipients, audiences,
previews and figures.

Every member who may view leads sees the organization's campaigns and their figures; the
recipients list and previews show a sales rep only the people they may see
(`leads.selectors.lead_scope`, `crm.selectors.contact_list`). Only campaign managers
(`crm.policy.can_manage_campaigns`, who see every record of the organization) count a
draft's audience. Another organization's campaign is not found.

An audience is a saved filter of the leads' or contacts' list (`LeadFilter`,
`ContactFilter`) over the organization's live records (never vendor inventory), less the
people who cannot be sent to: no usable email (`invalid`), an address the organization's
campaigns no longer send to (`unsubscribed`, `bounced`), or an address already in it
(`duplicate`). Those are counted, not sent."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.http import QueryDict

from accounts.models import User
from accounts.policy import permissions_of
from crm.campaign_content import Rendered, merge_fields_of, render
from crm.filters import ContactFilter
from crm.models import Campaign, CampaignMessage, CampaignRecipient, Contact, EmailSuppression
from crm.policy import require_campaign_manager
from crm.selectors import contact_list
from leadnexus.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.ids import is_db_id
from leadnexus.core.privacy import email_digest
from leads.filters import LeadFilter
from leads.models import Lead
from leads.selectors import lead_scope

FILTERS = {Campaign.AudienceKind.LEADS: LeadFilter, Campaign.AudienceKind.CONTACTS: ContactFilter}
# The values a person's merge fields and email check are read from, per audience kind.
PERSON_FIELDS = {
    Campaign.AudienceKind.LEADS: (
        "pk", "first_name", "last_name", "email", "company", "job_title", "industry", "location",
        "validation_reasons",
    ),
    Campaign.AudienceKind.CONTACTS: ("pk", "first_name", "last_name", "email", "company", "position"),
}  # fmt: skip
# A lead whose validation found these cannot be mailed.
UNMAILABLE_REASONS = {"email_missing", "email_invalid", "email_no_mx"}
EXCLUSIONS = ("unsubscribed", "bounced", "erased", "invalid", "duplicate")
MAX_FILTER_VALUE = 200
# Shown when the audience has no one yet (a draft's preview).
EXAMPLE_PERSON = {"first_name": "Alex", "last_name": "Example", "email": "alex@example.com", "company": "Example Inc."}


def _require_viewer(user: User) -> None:
    if not permissions_of(user)["can_view_leads"]:
        raise PermissionDenied("You do not have permission to view campaigns.")


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    """The organization's campaigns, newest first, with their steps and how many recipients
    they have and were sent to (two subqueries, whatever the page size)."""
    _require_viewer(user)
    recipients = CampaignRecipient.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    return (
        Campaign.objects.filter(organization_id=user.organization_id)
        .select_related("organization", "created_by", "sent_by")
        .prefetch_related("steps")
        .annotate(
            recipient_count=_count(recipients),
            sent_count=_count(recipients.filter(sent_at__isnull=False)),
        )
    )


def _count(rows: QuerySet) -> Coalesce:
    # A grouped count has no row, rather than 0, for a campaign without recipients.
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


def campaign_get(*, user: User, campaign_id: int) -> Campaign:
    campaign = campaign_list(user=user).filter(pk=campaign_id).first() if is_db_id(campaign_id) else None
    if campaign is None:
        raise NotFound("Campaign not found.")
    return campaign


def campaign_recipient_list(*, user: User, campaign_id: int) -> QuerySet[CampaignRecipient]:
    """A campaign's recipients in the order they were added; a rep sees those they may see."""
    campaign = campaign_get(user=user, campaign_id=campaign_id)
    recipients = CampaignRecipient.objects.filter(campaign=campaign).order_by("pk")
    if not permissions_of(user)["can_view_all_org_leads"] and user.role == User.Role.SALES_REP:
        recipients = recipients.filter(
            Q(lead__in=lead_scope(user=user).values("pk")) | Q(contact__in=contact_list(user=user).values("pk"))
        )
    return recipients


# --- Audiences ---------------------------------------------------------------------------------


def audience_filter_clean(*, kind: str, filters, user: User | None) -> dict:
    """The list filters of an audience, checked as the list would check them: the known
    names only, the same choices and formats. ValidationFailed names what is wrong."""
    if kind not in FILTERS:
        raise ValidationFailed("Choose leads or contacts.", details={"audience_kind": ["Choose leads or contacts."]})
    allowed = sorted(name for name in FILTERS[kind].base_filters if name != "ordering")
    if not isinstance(filters, dict):
        raise _filter_error(f"Give the filters as an object of {', '.join(allowed)}.")
    cleaned = {}
    for name, value in filters.items():
        if name not in allowed:
            raise _filter_error(f"{name} is not a filter of {kind}. Use: {', '.join(allowed)}.")
        values = [str(item) for item in (value if isinstance(value, list) else [value]) if item not in (None, "")]
        if any(len(item) > MAX_FILTER_VALUE or "\x00" in item for item in values):
            raise _filter_error(f"{name}: at most {MAX_FILTER_VALUE} printable characters.")
        if values:
            cleaned[name] = values if isinstance(value, list) else values[0]
    form = FILTERS[kind](_query(cleaned), queryset=_base(kind, 0), **_user_kwarg(kind, user)).form
    problems = [f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()]
    if problems:
        raise _filter_error(" ".join(problems))
    return cleaned


def _filter_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"audience_filter": [message]})


def _query(filters: dict) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    return query


def _user_kwarg(kind: str, user: User | None) -> dict:
    # The leads' filter reads the organization's response target through a user.
    return {"user": user} if kind == Campaign.AudienceKind.LEADS else {}


def _base(kind: str, organization_id: int) -> QuerySet:
    if kind == Campaign.AudienceKind.LEADS:
        return Lead.objects.filter(organization_id=organization_id, is_inventory=False, deleted_at__isnull=True)
    return Contact.objects.filter(organization_id=organization_id, deleted_at__isnull=True)


@dataclass(frozen=True)
class Audience:
    people: list[dict]  # the values of PERSON_FIELDS, in list order
    excluded: dict[str, int]

    @property
    def total(self) -> int:
        return len(self.people) + sum(self.excluded.values())


@dataclass(frozen=True)
class Suppressions:
    """An organization's suppressed addresses, matched by the address while it is kept and by
    its digest: the only trace of an erased one (a new SECRET_KEY changes digests, the kept
    addresses still match)."""

    by_email: dict[str, str]
    by_digest: dict[str, str]

    def reason_of(self, email: str) -> str | None:
        return self.by_email.get(email) or self.by_digest.get(email_digest(email))


def suppressions_of(*, organization_id: int, emails: list[str] | None = None) -> Suppressions:
    """The organization's suppressions (of `emails` only, when given)."""
    rows = EmailSuppression.objects.filter(organization_id=organization_id)
    if emails is not None:
        rows = rows.filter(Q(email__in=emails) | Q(email_hash__in=[email_digest(email) for email in emails]))
    found = list(rows.values_list("email", "email_hash", "reason"))
    return Suppressions(
        by_email={email: reason for email, _, reason in found if email},
        by_digest={digest: reason for _, digest, reason in found},
    )


def audience_of(*, organization_id: int, kind: str, filters: dict, user: User | None) -> Audience:
    """Who a campaign would be sent to now, and who is left out and why."""
    rows = FILTERS[kind](_query(filters), queryset=_base(kind, organization_id), **_user_kwarg(kind, user)).qs
    suppressed = suppressions_of(organization_id=organization_id)
    excluded = dict.fromkeys(EXCLUSIONS, 0)
    people, seen = [], set()
    for person in rows.order_by("pk").values(*PERSON_FIELDS[kind]):
        email = (person["email"] or "").strip().lower()
        if not _mailable(email, person.get("validation_reasons") or ()):
            excluded["invalid"] += 1
        elif reason := suppressed.reason_of(email):
            excluded[reason] += 1
        elif email in seen:
            excluded["duplicate"] += 1
        else:
            seen.add(email)
            people.append({**person, "email": email})
    return Audience(people=people, excluded=excluded)


def _mailable(email: str, reasons) -> bool:
    if not email or UNMAILABLE_REASONS.intersection(reasons):
        return False
    try:
        validate_email(email)
    except DjangoValidationError:
        return False
    return True


def audience_summary(*, user: User, kind: str, filters) -> Audience:
    """A draft's audience as it stands, for its author (the live count of the form)."""
    require_campaign_manager(user)
    cleaned = audience_filter_clean(kind=kind, filters=filters, user=user)
    return audience_of(organization_id=user.organization_id, kind=kind, filters=cleaned, user=user)


# --- Previews -------------------------------------------------------------------------------------


def campaign_preview(
    *, user: User, campaign_id: int, recipient_id: int | None = None, position: int = 1, variant: str = "a"
) -> tuple[dict, Rendered]:
    """A step of the campaign as one person of its audience would get it (the lead or
    contact `recipient_id`, which the user must be able to see; else the first of the
    audience, or an example person): (their values, the email without tracking links)."""
    campaign = campaign_get(user=user, campaign_id=campaign_id)
    step = next((step for step in campaign.steps.all() if step.position == position), None)
    if step is None:
        raise NotFound("Step not found.")
    person = _preview_person(user, campaign, recipient_id)
    subject, body = step.content(variant if step.position == 1 and campaign.ab_test else Campaign.Variant.A)
    rendered = render(
        subject=subject,
        body=body,
        fields=merge_fields_of(person),
        sender=campaign.organization.name,
        tracking=None,
    )
    return person, rendered


def _preview_person(user: User, campaign: Campaign, recipient_id: int | None) -> dict:
    kind = campaign.audience_kind
    visible = lead_scope(user=user) if kind == Campaign.AudienceKind.LEADS else contact_list(user=user)
    audience = FILTERS[kind](_query(campaign.audience_filter), queryset=visible, **_user_kwarg(kind, user)).qs
    fields = [name for name in PERSON_FIELDS[kind] if name != "validation_reasons"]
    if recipient_id is None:
        return audience.order_by("pk").values(*fields).first() or {"pk": None, **EXAMPLE_PERSON}
    person = audience.filter(pk=recipient_id).values(*fields).first() if is_db_id(recipient_id) else None
    if person is None:
        raise NotFound("That person is not in the campaign's audience, or you may not see them.")
    return person


# --- Figures ------------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _figures(recipients: QuerySet) -> dict:
    """Counts over recipients; rates over those delivered (sent, not bounced, not failed)."""
    row = recipients.aggregate(
        recipients=Count("pk"),
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        delivered=Count(
            "pk", filter=Q(sent_at__isnull=False, bounced_at__isnull=True) & ~Q(status=CampaignRecipient.Status.FAILED)
        ),
        failed=Count("pk", filter=Q(status=CampaignRecipient.Status.FAILED)),
        bounced=Count("pk", filter=Q(bounced_at__isnull=False)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("pk", filter=Q(unsubscribed_at__isnull=False)),
    )
    return {
        **row,
        "open_rate": _rate(row["opened"], row["delivered"]),
        "click_rate": _rate(row["clicked"], row["delivered"]),
    }


def campaign_stats(*, user: User, campaign_id: int) -> dict:
    """A campaign's figures: totals, the A/B test's variants and winner, each step's
    progress, and what happened day by day (the organization's days)."""
    campaign = campaign_get(user=user, campaign_id=campaign_id)
    recipients = CampaignRecipient.objects.filter(campaign=campaign)
    return {
        "campaign": campaign,
        **_figures(recipients),
        "excluded": {name: campaign.excluded.get(name, 0) for name in EXCLUSIONS},
        "ab": _ab_figures(campaign) if campaign.ab_test else None,
        "steps": campaign_progress(campaign),
        "timeline": _timeline(campaign, recipients),
    }


def ab_sample_figures(campaign: Campaign) -> dict[str, dict]:
    """The A/B sample's figures per variant, from the first step's emails alone (what later
    steps drew from the same people does not count): what decides the test and what its
    stats show."""
    M = CampaignMessage.Status
    messages = CampaignMessage.objects.filter(step__campaign=campaign, step__position=1, recipient__in_sample=True)
    bounced = Q(recipient__bounced_at__isnull=False)
    delivered = Q(status=M.SENT) & ~bounced
    rows = {
        row["variant"]: row
        for row in messages.order_by()
        .values("variant")
        .annotate(
            recipients=Count("pk"),
            sent=Count("pk", filter=Q(sent_at__isnull=False)),
            delivered=Count("pk", filter=delivered),
            failed=Count("pk", filter=Q(status=M.FAILED)),
            bounced=Count("pk", filter=Q(sent_at__isnull=False) & bounced),
            opened=Count("pk", filter=delivered & Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=delivered & Q(clicked_at__isnull=False)),
            unsubscribed=Count("pk", filter=Q(recipient__unsubscribed_at__isnull=False)),
        )
    }
    empty = dict.fromkeys(
        ("recipients", "sent", "delivered", "failed", "bounced", "opened", "clicked", "unsubscribed"), 0
    )
    figures = {}
    for variant in Campaign.Variant.values:
        row = {name: rows.get(variant, empty)[name] for name in empty}
        row["open_rate"] = _rate(row["opened"], row["delivered"])
        row["click_rate"] = _rate(row["clicked"], row["delivered"])
        figures[variant] = row
    return figures


def _ab_figures(campaign: Campaign) -> dict:
    step = next(iter(campaign.steps.all()), None)
    figures = ab_sample_figures(campaign)
    variants = [
        {"variant": variant, "subject": step.content(variant)[0] if step is not None else "", **figures[variant]}
        for variant in Campaign.Variant.values
    ]
    return {
        "metric": campaign.ab_metric,
        "sample_percent": campaign.ab_sample_percent,
        "wait_hours": campaign.ab_wait_hours,
        "winner": campaign.ab_winner,
        "decided_at": campaign.ab_decided_at,
        "variants": variants,
    }


def campaign_progress(campaign: Campaign) -> list[dict]:
    """Each step's messages by status, and how many of them were opened and clicked."""
    M = CampaignMessage.Status
    counts = {
        row["step_id"]: row
        for row in CampaignMessage.objects.filter(step__campaign=campaign)
        .order_by()
        .values("step_id")
        .annotate(
            messages=Count("pk"),
            pending=Count("pk", filter=Q(status=M.PENDING)),
            sent=Count("pk", filter=Q(status=M.SENT)),
            failed=Count("pk", filter=Q(status=M.FAILED)),
            skipped=Count("pk", filter=Q(status=M.SKIPPED)),
            opened=Count("pk", filter=Q(opened_at__isnull=False)),
            clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        )
    }
    empty = dict.fromkeys(("messages", "pending", "sent", "failed", "skipped", "opened", "clicked"), 0)
    rows = []
    for step in campaign.steps.all():
        row = {name: counts.get(step.pk, empty)[name] for name in empty}
        done = row["sent"] + row["failed"] + row["skipped"]
        rows.append({"step": step, **row, "percent": round(100 * done / row["messages"]) if row["messages"] else 0})
    return rows


def _timeline(campaign: Campaign, recipients: QuerySet) -> list[dict]:
    zone = campaign.organization.zone
    series = {
        "sent": CampaignMessage.objects.filter(step__campaign=campaign),
        "opened": recipients,
        "clicked": recipients,
        "bounced": recipients,
        "unsubscribed": recipients,
    }
    days: dict = {}
    for name, rows in series.items():
        field = f"{name}_at"
        by_day = (
            rows.filter(**{f"{field}__isnull": False})
            .annotate(day=TruncDate(field, tzinfo=zone))
            .order_by()
            .values("day")
            .annotate(n=Count("pk"))
        )
        for row in by_day:
            days.setdefault(row["day"], dict.fromkeys(series, 0))[name] = row["n"]
    return [{"date": day, **days[day]} for day in sorted(days)]


def campaign_sent_since(*, organization_id: int, since: datetime) -> int:
    """How many campaign emails the organization was sent since `since` (its daily cap)."""
    return CampaignMessage.objects.filter(step__campaign__organization_id=organization_id, sent_at__gte=since).count()
