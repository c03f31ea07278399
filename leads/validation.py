"""Contact validation: is this email, phone and website usable, and how sure are we?

Plain functions on plain values, used on every create, edit and import row and by
`POST /api/leads/validate`. Nothing here calls out, except the optional MX look-up
(`EMAIL_MX_CHECK`), which has a short timeout and degrades to "unknown".
"""

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

import phonenumbers
from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, EmailUndeliverableError, validate_email
from email_validator.deliverability import validate_email_deliverability

from leadnexus.core.quotas import quota_consume
from leads.models import Lead

# Shared mailboxes rather than a person: fine to keep, less likely to answer.
ROLE_LOCAL_PARTS = frozenset(
    {
        "admin", "billing", "contact", "enquiries", "hello", "help", "hr", "info", "inquiries", "jobs",
        "marketing", "no-reply", "noreply", "office", "postmaster", "press", "privacy", "sales",
        "support", "team", "webmaster",
    }
)  # fmt: skip

REASONS = {
    "email_missing": "No email address.",
    "email_invalid": "The email address is not valid.",
    "email_disposable": "The email address is from a disposable mail service.",
    "email_role": "The email address is a shared mailbox (info@, sales@...), not a person.",
    "email_no_mx": "The email's domain does not receive mail.",
    "email_mx_unknown": "Whether the email's domain receives mail could not be checked.",
    "phone_missing": "No phone number.",
    "phone_invalid": "The phone number is not valid.",
    "phone_possible": "The phone number has a plausible length but is not a known valid number.",
    "website_invalid": "The website is not a valid address.",
}
# Reasons that make a reachable lead "risky" rather than "valid".
_RISKY = {"email_invalid", "email_disposable", "email_role", "email_no_mx", "phone_invalid", "phone_possible"}

_url_validator = URLValidator(schemes=["http", "https"])


@dataclass
class ContactCheck:
    email: str  # normalised when valid, else as given
    phone: str  # E.164 when parsable, else as given
    website: str  # normalised when valid, else as given
    email_ok: bool
    phone_ok: bool  # a valid or possible number
    status: str
    reasons: list[str] = field(default_factory=list)

    @property
    def problems(self) -> dict[str, list[str]]:
        """The reasons as `{field: [messages]}`, for previews and API answers."""
        by_field: dict[str, list[str]] = {}
        for reason in self.reasons:
            if not reason.endswith("_missing"):
                by_field.setdefault(reason.split("_", 1)[0], []).append(REASONS[reason])
        return by_field

    @property
    def reachable(self) -> bool:
        return self.email_ok or self.phone_ok


def contact_check(*, email: str = "", phone: str = "", website: str = "", region: str | None = None) -> ContactCheck:
    reasons: list[str] = []
    email, email_ok = _check_email((email or "").strip(), reasons)
    phone, phone_ok = _check_phone((phone or "").strip(), region or settings.PHONE_DEFAULT_REGION, reasons)
    website = _check_website((website or "").strip(), reasons)
    if not email_ok and not phone_ok:
        status = Lead.ValidationStatus.INVALID
    elif _RISKY.intersection(reasons):
        status = Lead.ValidationStatus.RISKY
    else:
        status = Lead.ValidationStatus.VALID
    return ContactCheck(email, phone, website, email_ok, phone_ok, status, reasons)


def _check_email(email: str, reasons: list[str]) -> tuple[str, bool]:
    if not email:
        reasons.append("email_missing")
        return "", False
    normalized = _normalized_email(email)
    if normalized is None:
        reasons.append("email_invalid")
        return email, False
    local, _, domain = normalized.rpartition("@")
    domain = domain.lower()
    normalized = f"{local}@{domain}"
    if is_disposable_domain(domain):
        reasons.append("email_disposable")
    # "sales+eu@" reaches the same shared mailbox as "sales@".
    if local.lower().split("+", 1)[0] in ROLE_LOCAL_PARTS:
        reasons.append("email_role")
    if settings.EMAIL_MX_CHECK:
        mx = domain_receives_mail(domain)
        if mx is None:
            reasons.append("email_mx_unknown")
        elif not mx:
            reasons.append("email_no_mx")
    return normalized, True


# A plain ASCII dot-atom local part: for these, email-validator's answer depends only on the
# domain, which files repeat thousands of times, so the domain is checked once (cached).
_PLAIN_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def _normalized_email(email: str) -> str | None:
    """email-validator's normalised address (syntax only), or None when it is not valid."""
    local, at, domain = email.rpartition("@")
    if at and email.isascii() and len(email) <= 254 and len(local) <= 64 and _PLAIN_LOCAL.match(local):
        checked_domain = _email_domain(domain)
        return f"{local}@{checked_domain}" if checked_domain else None
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


# Plain ASCII host names that email-validator accepts as they are (it would only lower-case
# them): checked here in microseconds; anything else (punycode, reserved names, odd hyphens,
# numeric top-level domains) goes through email-validator itself.
_PLAIN_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{1,63}$")


@lru_cache(maxsize=16384)
def _email_domain(domain: str) -> str | None:
    lowered = domain.lower()
    if _PLAIN_DOMAIN.match(lowered) and lowered.rsplit(".", 1)[-1] not in SPECIAL_USE_DOMAIN_NAMES:
        return lowered
    try:
        return validate_email(f"postmaster@{domain}", check_deliverability=False).domain
    except EmailNotValidError:
        return None


def is_disposable_domain(domain: str) -> bool:
    """The domain, or a domain it belongs to (anything.mailinator.com), is a throwaway mail service."""
    labels = domain.lower().rstrip(".").split(".")
    return any(".".join(labels[i:]) in DISPOSABLE_DOMAINS for i in range(len(labels) - 1))


# Per process, per domain: an import asks once per domain, not once per row. A definite
# answer is kept for a day; "unknown" (DNS did not answer) only briefly, so a slow DNS
# costs one timeout per domain and minute rather than one per row, and recovers soon.
_MX_KNOWN_FOR = 86400
_MX_UNKNOWN_FOR = 60
_MX_MAX_DOMAINS = 4096
_mx_answers: dict[str, tuple[bool | None, float]] = {}


def domain_receives_mail(domain: str) -> bool | None:
    """True/False from a DNS look-up with a short timeout; None when DNS did not answer."""
    now = time.monotonic()
    cached = _mx_answers.get(domain)
    if cached is not None and cached[1] > now:
        return cached[0]
    answer = _mx_look_up(domain)
    if len(_mx_answers) >= _MX_MAX_DOMAINS:
        _mx_answers.clear()
    _mx_answers[domain] = (answer, now + (_MX_UNKNOWN_FOR if answer is None else _MX_KNOWN_FOR))
    return answer


domain_receives_mail.cache_clear = _mx_answers.clear


def _mx_look_up(domain: str) -> bool | None:
    resolver = dns_resolver()
    try:
        info = validate_email_deliverability(
            domain, domain, timeout=None if resolver else settings.EMAIL_MX_TIMEOUT, dns_resolver=resolver
        )
    except EmailUndeliverableError:
        return False
    return None if "unknown-deliverability" in info else True


def dns_resolver():
    """The resolver for MX look-ups (None: dnspython's default). Tests replace it."""
    return None


def _check_phone(phone: str, region: str, reasons: list[str]) -> tuple[str, bool]:
    if not phone:
        reasons.append("phone_missing")
        return "", False
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        reasons.append("phone_invalid")
        return phone, False
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True
    if phonenumbers.is_possible_number(number):
        reasons.append("phone_possible")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True
    reasons.append("phone_invalid")
    return phone, False


def _check_website(website: str, reasons: list[str]) -> str:
    if not website:
        return ""
    normalized = _normalized_website(website)
    if normalized is None:
        reasons.append("website_invalid")
        return website
    return normalized


@lru_cache(maxsize=16384)
def _normalized_website(website: str) -> str | None:
    """The website as `https://host/path`, or None when it is not a web address. Cached: the
    rows of one company share it."""
    candidate = website if "://" in website else f"https://{website}"
    try:
        parts = urlsplit(candidate)
    except ValueError:  # e.g. an unclosed "[" read as an IPv6 address
        return None
    # Credentials in a company's address are a mistake or a trick, never its website.
    if "@" in parts.netloc:
        return None
    normalized = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))
    try:
        _url_validator(normalized)
    except DjangoValidationError:
        return None
    return normalized


def contacts_check(*, actor, items: list[dict]) -> list[ContactCheck]:
    """`POST /api/leads/validate`: check each `{email, phone, website, region}`. The actor's
    "validate" quota counts items, not calls (5,000 addresses a day by default, whether
    checked one per call or a thousand at once); a call past the quota is refused whole."""
    quota_consume(user=actor, group="validate", amount=len(items))
    return [
        contact_check(
            email=item.get("email") or "",
            phone=item.get("phone") or "",
            website=item.get("website") or "",
            region=item.get("region") or None,
        )
        for item in items
    ]
