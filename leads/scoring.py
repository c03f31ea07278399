"""Explainable lead scoring: a rule-based score from 0 to 100 and the breakdown behind it.

The weights are the most points each factor can give; they sum to 100 and live only here
(`WEIGHTS`):

================  ====  ====================================================================
factor            max   how the points are earned
================  ====  ====================================================================
completeness       20   the share of the 12 profile fields filled in (name, email, phone,
                        company, title, industry, location, website, size, revenue...)
email_quality      20   a valid address 20; domain not checkable 16; a shared mailbox
                        (info@, sales@) 10; disposable, invalid, no mail server or none 0
phone_validity     15   a valid number 15; a number of plausible length only 8; else 0
company_size       15   employees (1+ 2, 10+ 4, 50+ 6, 200+ 8, 1,000+ 10) plus annual
                        revenue (any 1, 1M+ 3, 10M+ 4, 100M+ 5)
seniority          20   from the job title: C-level, founder or owner 20, VP 16, director
                        or head of 12, manager or lead 8, any other title 3, none 0
recency            10   age of the lead: a week 10, a month 7, a quarter 4, half a year 2
================  ====  ====================================================================

The breakdown stored on the lead (`Lead.score_breakdown`) is a list of
`{factor, points, max, why}`, one per factor in the order above, and its points add up to
`Lead.score`. Contact quality is read from the lead's stored validation (never a DNS call).

`score_lead(lead)` computes without saving (the import engine scores its batches with
it); `leads_score(lead_ids=...)` is the service behind the `leads.tasks.leads_score` task
and the `leads_rescore` command: it saves changed scores in bulk, publishes
`leads.lead.scored` for each score that moved, and tells the owner once when a lead
crosses `HOT_LEAD_SCORE` upwards. Recency decays with time, so a periodic
`manage.py leads_rescore` keeps old leads' scores honest.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from leadnexus.core.events import publish_many
from leads.events import LEAD_SCORED
from leads.models import Lead
from notifications.models import NotificationType
from notifications.services import notification_send

WEIGHTS = {
    "completeness": 20,
    "email_quality": 20,
    "phone_validity": 15,
    "company_size": 15,
    "seniority": 20,
    "recency": 10,
}
if sum(WEIGHTS.values()) != 100:  # a broken table must fail at start-up, not score wrongly
    raise ImproperlyConfigured("leads.scoring.WEIGHTS must sum to 100.")

PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "industry",
    "location",
    "website",
    "employee_count",
    "annual_revenue",
    "customer_category",
)

_EMPLOYEE_TIERS = ((1000, 10), (200, 8), (50, 6), (10, 4), (1, 2))
_REVENUE_TIERS = ((Decimal(100_000_000), 5), (Decimal(10_000_000), 4), (Decimal(1_000_000), 3), (Decimal("0.01"), 1))
_RECENCY_TIERS = ((timedelta(days=7), 10), (timedelta(days=30), 7), (timedelta(days=90), 4), (timedelta(days=180), 2))

# Job titles, after `_plain_title` (lower case, no accents, dots dropped, other punctuation
# as spaces). Checked in this order: "vice president" before "president", "managing
# director" before "director", assistants before the boss they assist.
_SENIORITY = (
    (
        "other",
        3,
        r"\b(assistant to|executive assistant|personal assistant|intern|internship|trainee|student|apprentice|"
        r"product owner|process owner|lead generation)\b",
    ),
    ("vp", 16, r"\b(vice president|vice pres|vp|svp|evp|avp)\b"),
    (
        "c_level",
        20,
        r"\b(chief|c level|c suite|ceo|cfo|cto|coo|cmo|cio|ciso|cro|cpo|cso|cxo|founder|co founder|"
        r"cofounder|owner|president|managing director|managing partner|general partner|geschaftsfuhrer|pdg|"
        r"directeur general|director general)\b",
    ),
    ("director", 12, r"\b(director|directeur|direktor|directora|dir|head|leiter|leiterin)\b"),
    ("manager", 8, r"\b(manager|mgr|supervisor|team lead|team leader|tech lead|group lead|leader|gerente)\b"),
)
_SENIORITY_RULES = tuple((level, points, re.compile(pattern)) for level, points, pattern in _SENIORITY)
_SENIORITY_LABELS = {
    "c_level": "a C-level, founder or owner title",
    "vp": "a vice-president title",
    "director": "a director or head-of title",
    "manager": "a manager or team-lead title",
    "other": "a title below management",
}


def _plain_title(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_title.replace(".", "")).split())


def seniority_of(title: str) -> str | None:
    """c_level, vp, director, manager or other; None when there is no title."""
    plain = _plain_title(title)
    if not plain:
        return None
    for level, _, pattern in _SENIORITY_RULES:
        if pattern.search(plain):
            return level
    return "other"


def _row(factor: str, points: int, why: str) -> dict:
    return {"factor": factor, "points": points, "max": WEIGHTS[factor], "why": why}


def _completeness(lead: Lead) -> dict:
    missing = [name for name in PROFILE_FIELDS if getattr(lead, name) in (None, "")]
    filled = len(PROFILE_FIELDS) - len(missing)
    points = round(WEIGHTS["completeness"] * filled / len(PROFILE_FIELDS))
    why = f"{filled} of {len(PROFILE_FIELDS)} profile fields filled"
    if missing:
        why += "; missing " + ", ".join(name.replace("_", " ") for name in missing[:4])
        why += "..." if len(missing) > 4 else ""
    return _row("completeness", points, why + ".")


def _email_quality(lead: Lead) -> dict:
    reasons = set(lead.validation_reasons or [])
    top = WEIGHTS["email_quality"]
    if not lead.email or "email_missing" in reasons:
        return _row("email_quality", 0, "No email address.")
    for reason, why in (
        ("email_invalid", "The email address is not valid."),
        ("email_disposable", "A disposable email address."),
        ("email_no_mx", "The email's domain does not receive mail."),
    ):
        if reason in reasons:
            return _row("email_quality", 0, why)
    if lead.validation_status == Lead.ValidationStatus.PENDING:
        return _row("email_quality", top // 2, "The email address is not validated yet.")
    if "email_role" in reasons:
        return _row("email_quality", top // 2, "A shared mailbox (info@, sales@...), not a person.")
    if "email_mx_unknown" in reasons:
        return _row("email_quality", top * 4 // 5, "A valid address; its mail server could not be checked.")
    return _row("email_quality", top, "A valid personal email address.")


def _phone_validity(lead: Lead) -> dict:
    reasons = set(lead.validation_reasons or [])
    top = WEIGHTS["phone_validity"]
    if not lead.phone or "phone_missing" in reasons:
        return _row("phone_validity", 0, "No phone number.")
    if "phone_invalid" in reasons:
        return _row("phone_validity", 0, "The phone number is not valid.")
    if "phone_possible" in reasons:
        return _row("phone_validity", 8, "The phone number has a plausible length but is not a known number.")
    if lead.validation_status == Lead.ValidationStatus.PENDING:
        return _row("phone_validity", 8, "The phone number is not validated yet.")
    return _row("phone_validity", top, "A valid phone number.")


def _company_size(lead: Lead) -> dict:
    employees = next((p for floor, p in _EMPLOYEE_TIERS if (lead.employee_count or 0) >= floor), 0)
    revenue = next((p for floor, p in _REVENUE_TIERS if (lead.annual_revenue or 0) >= floor), 0)
    parts = [
        f"{lead.employee_count:,} employees" if lead.employee_count else "employees unknown",
        f"revenue {lead.annual_revenue:,.0f}" if lead.annual_revenue else "revenue unknown",
    ]
    return _row("company_size", employees + revenue, f"{parts[0].capitalize()}, {parts[1]}.")


def _seniority(lead: Lead) -> dict:
    level = seniority_of(lead.job_title)
    if level is None:
        return _row("seniority", 0, "No job title.")
    points = next(p for name, p, _ in _SENIORITY_RULES if name == level)
    return _row("seniority", points, f"“{lead.job_title[:60]}” reads as {_SENIORITY_LABELS[level]}.")


def _recency(lead: Lead, now: datetime) -> dict:
    age = now - (lead.created_at or now)
    points = next((p for limit, p in _RECENCY_TIERS if age <= limit), 0)
    days = max(0, age.days)
    return _row("recency", points, "Added today." if days == 0 else f"Added {days} day{'s' * (days != 1)} ago.")


def score_lead(lead: Lead, *, now: datetime | None = None) -> tuple[int, list[dict]]:
    """The lead's score and its breakdown, from the lead's fields as they are (not saved)."""
    now = now or timezone.now()
    breakdown = [
        _completeness(lead),
        _email_quality(lead),
        _phone_validity(lead),
        _company_size(lead),
        _seniority(lead),
        _recency(lead, now),
    ]
    return sum(row["points"] for row in breakdown), breakdown


@dataclass(frozen=True)
class ScoreResult:
    scored: int  # leads looked at
    changed: int  # leads whose score or breakdown was saved
    hot: list[int]  # leads that crossed the hot-lead threshold


def leads_score(*, lead_ids: list[int], now: datetime | None = None) -> ScoreResult:
    """Score these leads (deleted ones are skipped) and save what changed: one query to
    load, one bulk update, the `leads.lead.scored` events in one insert, and one
    notification per owner whose leads turned hot. Safe to run twice: the rows are locked
    while scored, and a second run finds nothing changed."""
    now = now or timezone.now()
    with transaction.atomic():
        leads = list(
            Lead.objects.filter(pk__in=set(lead_ids), deleted_at__isnull=True)
            .select_related("assigned_to", "created_by")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        changed: list[Lead] = []
        moves: list[tuple[Lead, int]] = []
        hot: list[Lead] = []
        for lead in leads:
            score, breakdown = score_lead(lead, now=now)
            if score == lead.score and breakdown == lead.score_breakdown:
                continue
            previous, lead.score, lead.score_breakdown = lead.score, score, breakdown
            changed.append(lead)
            if score != previous:
                moves.append((lead, previous))
                if previous < settings.HOT_LEAD_SCORE <= score:
                    hot.append(lead)
        Lead.objects.bulk_update(changed, ["score", "score_breakdown"], batch_size=1000)
        _publish_scored(moves)
        _notify_hot(hot)
    return ScoreResult(scored=len(leads), changed=len(changed), hot=[lead.pk for lead in hot])


def leads_rescore(*, organization_id: int | None = None, batch_size: int = 1000, progress=None) -> ScoreResult:
    """Rescore every live lead (or one organization's) in batches, each its own transaction,
    walking the ids upwards so it can be stopped and run again at any time. Nightly, so
    recency keeps decaying; and after the weights change."""
    leads = Lead.objects.filter(deleted_at__isnull=True)
    if organization_id is not None:
        leads = leads.filter(organization_id=organization_id)
    scored = changed = 0
    hot: list[int] = []
    last_id = 0
    while ids := list(leads.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size]):
        result = leads_score(lead_ids=ids)
        scored, changed, hot = scored + result.scored, changed + result.changed, hot + result.hot
        last_id = ids[-1]
        if progress is not None:
            progress(last_id, scored)
    return ScoreResult(scored=scored, changed=changed, hot=hot)


def _publish_scored(moves: list[tuple[Lead, int]]) -> None:
    """`leads.lead.scored` for every lead whose score moved, in one insert: an import
    rescoring 100,000 leads must not cost 100,000 round trips."""
    publish_many(
        LEAD_SCORED,
        [
            {"org": lead.organization_id, "subject": lead, "data": {"from": previous, "to": lead.score}}
            for lead, previous in moves
        ],
    )


def _notify_hot(hot: list[Lead]) -> None:
    """One notification per owner (the assignee, else whoever added the lead), however many
    of their leads turned hot in this run."""
    by_owner: dict[int, list[Lead]] = {}
    owners = {}
    for lead in hot:
        owner = lead.assigned_to or lead.created_by
        # Vendor stock is for sale, not for anyone to call.
        if owner is not None and owner.is_active and not lead.is_inventory:
            owners[owner.pk] = owner
            by_owner.setdefault(owner.pk, []).append(lead)
    for owner_id, leads in by_owner.items():
        if len(leads) == 1:
            lead = leads[0]
            title = f"Hot lead: {lead} scored {lead.score}"
            message = " · ".join(part for part in (lead.company, lead.job_title) if part)
            link = f"/leads/{lead.pk}/"
        else:
            title = f"{len(leads)} of your leads are now hot"
            message = ", ".join(str(lead) for lead in leads[:5]) + ("..." if len(leads) > 5 else "")
            link = f"/leads/?score_min={settings.HOT_LEAD_SCORE}"
        notification_send(
            user=owners[owner_id], type=NotificationType.HOT_LEAD, title=title, message=message, link=link
        )
