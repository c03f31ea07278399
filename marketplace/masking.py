"""Masked contact data for catalog viewers who have not bought the listing.

One function per kind of value, each keeping just enough to judge a lead (initials, the
email's domain initial and ending, the phone's last four digits, the legal suffix of the
company) and nothing to contact the person with: `J*** S***`, `j***@a***.com`,
`+1 ***-***-4567`, `A*** Inc.`, `a***.com`.
"""

import re

_LEGAL_SUFFIX = re.compile(
    r"(?i)[\s,]+(inc\.?|incorporated|llc|l\.l\.c\.|ltd\.?|limited|plc|gmbh|ag|s\.?a\.?|sas|bv|nv|corp\.?|co\.?)$"
)
_STARS = "***"


def _initial(word: str) -> str:
    return f"{word[0]}{_STARS}" if word else ""


def mask_name(name: str) -> str:
    return " ".join(_initial(part) for part in (name or "").split())


def mask_email(email: str) -> str:
    local, at, domain = (email or "").rpartition("@")
    if not at:
        return _initial(email)
    host, dot, ending = domain.rpartition(".")
    masked_domain = f"{_initial(host)}.{ending}" if dot else _initial(domain)
    return f"{_initial(local)}@{masked_domain}"


def mask_phone(phone: str) -> str:
    """E.164 `+14155554567` → `+1 ***-***-4567`; anything else keeps only its last four digits."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    last_four = digits[-4:]
    if (phone or "").startswith("+1") and len(digits) == 11:
        return f"+1 ***-***-{last_four}"
    if (phone or "").startswith("+") and len(digits) > 4:
        country = digits[: max(len(digits) - 10, 1)]
        return f"+{country} ***-{last_four}"
    return f"***-{last_four}"


def mask_company(company: str) -> str:
    company = (company or "").strip()
    match = _LEGAL_SUFFIX.search(company)
    suffix = match.group(0) if match else ""
    core = company[: match.start()] if match else company
    return f"{mask_name(core)}{suffix}" if core else ""


def mask_website(website: str) -> str:
    host = re.sub(r"^[a-z]+://", "", website or "", flags=re.I).split("/", 1)[0]
    host = re.sub(r"^www\.", "", host, flags=re.I)
    name, dot, ending = host.rpartition(".")
    return f"{_initial(name)}.{ending}" if dot else _initial(host)
