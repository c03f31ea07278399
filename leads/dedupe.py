"""Duplicate detection by three keys per lead:

- the email, lower-cased, with `+tags` dropped and, at Gmail, dots in the name ignored
  (the provider delivers those variants to one mailbox);
- the phone in E.164;
- the person's name with the company (accents, punctuation and legal suffixes removed).

A match on the email or phone key is a duplicate. A match on name + company alone is a
*possible* duplicate, flagged but not merged or skipped, unless one of the two leads has
neither email nor phone: then nothing else could tell them apart, so it is a duplicate.
"""

import re
import unicodedata
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from leads.models import Lead

_DOTLESS_PROVIDERS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
_LEGAL_SUFFIXES = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|plc|gmbh|ag|sa|sas|sarl|bv|nv|srl|spa|oy|ab|as|corp|corporation|co|company|pty)\b"
)
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class DedupeKeys:
    email: str = ""
    phone: str = ""
    name_company: str = ""

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone)

    @property
    def empty(self) -> bool:
        return not (self.email or self.phone or self.name_company)


@dataclass(frozen=True)
class DuplicateMatch:
    lead_id: int
    certain: bool  # a duplicate; False: a possible duplicate (name + company only)
    on: str  # "email", "phone" or "name_company"
    deleted: bool


def email_key(email: str) -> str:
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return ""
    local = local.split("+", 1)[0]
    if domain in _DOTLESS_PROVIDERS:
        local, domain = local.replace(".", ""), _DOTLESS_PROVIDERS[domain]
    return f"{local}@{domain}" if local else ""


def _plain(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode().lower()
    return " ".join(_NOT_WORD.sub(" ", ascii_text).split())


def name_company_key(first_name: str, last_name: str, company: str) -> str:
    person = _plain(f"{first_name} {last_name}")
    organization = " ".join(_LEGAL_SUFFIXES.sub(" ", _plain(company)).split())
    return f"{person}|{organization}" if person and organization else ""


def dedupe_keys(*, email: str, phone_e164: str, first_name: str, last_name: str, company: str) -> DedupeKeys:
    """The keys of one lead; `phone_e164` is the validated phone ("" when it was not parsable)."""
    return DedupeKeys(
        email=email_key(email),
        phone=phone_e164 if phone_e164.startswith("+") else "",
        name_company=name_company_key(first_name, last_name, company),
    )


def _judge(keys: DedupeKeys, lead: Lead) -> DuplicateMatch | None:
    deleted = lead.deleted_at is not None
    if keys.email and lead.email_key == keys.email:
        return DuplicateMatch(lead.pk, True, "email", deleted)
    if keys.phone and lead.phone_key == keys.phone:
        return DuplicateMatch(lead.pk, True, "phone", deleted)
    if keys.name_company and lead.name_company_key == keys.name_company:
        other_has_contact = bool(lead.email_key or lead.phone_key)
        return DuplicateMatch(lead.pk, not (keys.has_contact and other_has_contact), "name_company", deleted)
    return None


def duplicates_best(*, candidates: QuerySet[Lead], keys: list[DedupeKeys]) -> list[tuple[DuplicateMatch, Lead] | None]:
    """For each set of keys, the best match among `candidates` (in their order: a certain
    duplicate before a possible one, a live lead before a deleted one) and the lead matched.
    One query for the whole list; callers scope `candidates` and may annotate them."""
    emails = {k.email for k in keys if k.email}
    phones = {k.phone for k in keys if k.phone}
    names = {k.name_company for k in keys if k.name_company}
    if not (emails or phones or names):
        return [None] * len(keys)
    rows = candidates.filter(Q(email_key__any=emails) | Q(phone_key__any=phones) | Q(name_company_key__any=names)).only(
        "pk", "email_key", "phone_key", "name_company_key", "deleted_at"
    )
    by_key: dict[tuple[str, str], list[Lead]] = {}
    for lead in rows:
        for on, value in (("email", lead.email_key), ("phone", lead.phone_key), ("name", lead.name_company_key)):
            if value:
                by_key.setdefault((on, value), []).append(lead)
    results: list[tuple[DuplicateMatch, Lead] | None] = []
    for key in keys:
        pool = by_key.get(("email", key.email), []) + by_key.get(("phone", key.phone), [])
        pool += by_key.get(("name", key.name_company), [])
        matches = [(m, lead) for m, lead in ((_judge(key, lead), lead) for lead in pool) if m is not None]
        matches.sort(key=lambda pair: (not pair[0].certain, pair[0].deleted))
        results.append(matches[0] if matches else None)
    return results


def duplicates_find_many(
    *, organization_id: int, keys: list[DedupeKeys], is_inventory: bool = False, exclude_id: int | None = None
) -> list[DuplicateMatch | None]:
    """For each set of keys, the best match among the organization's leads (deleted ones
    included, so they can be restored): a certain duplicate before a possible one. One query
    for the whole list."""
    candidates = (
        Lead.objects.filter(organization_id=organization_id, is_inventory=is_inventory)
        .exclude(pk=exclude_id)
        # live leads first (NULLs sort last on PostgreSQL unless told), then the oldest
        .order_by(F("deleted_at").asc(nulls_first=True), "pk")
    )
    return [best[0] if best else None for best in duplicates_best(candidates=candidates, keys=keys)]


def duplicate_find(
    *, organization_id: int, keys: DedupeKeys, is_inventory: bool = False, exclude_id: int | None = None
) -> DuplicateMatch | None:
    return duplicates_find_many(
        organization_id=organization_id, keys=[keys], is_inventory=is_inventory, exclude_id=exclude_id
    )[0]


def keys_of(lead: Lead) -> DedupeKeys:
    """The keys stored on a lead."""
    return DedupeKeys(email=lead.email_key, phone=lead.phone_key, name_company=lead.name_company_key)


def duplicate_candidates(*, leads: QuerySet[Lead], keys: DedupeKeys, exclude_id: int | None = None, limit: int = 20):
    """The leads of `leads` (a queryset already scoped to the viewer) sharing a key with
    `keys`, each with how it matches: certain duplicates first, then possible ones, oldest
    first. One query."""
    condition = Q()
    for name, value in (("email_key", keys.email), ("phone_key", keys.phone), ("name_company_key", keys.name_company)):
        if value:
            condition |= Q(**{name: value})
    if not condition:
        return []
    found = []
    for lead in leads.filter(condition).exclude(pk=exclude_id).order_by("pk")[: limit * 2]:
        match = _judge(keys, lead)
        if match is not None:
            found.append((lead, match))
    found.sort(key=lambda pair: (not pair[1].certain, pair[0].pk))
    return found[:limit]
