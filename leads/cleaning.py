"""From raw values (a form, a JSON body, a spreadsheet row) to a lead's fields.

`lead_clean` is the one place that parses, bounds and validates a lead's fields; create,
edit, every import row and the validate endpoint go through it. It never raises: it
returns the values it could keep, the contact check, the dedupe keys and the problems
found, and each caller decides what a problem means for it.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from leads.dedupe import DedupeKeys, dedupe_keys
from leads.models import Lead
from leads.validation import ContactCheck, contact_check

TEXT_FIELDS = {
    "first_name": 100,
    "last_name": 100,
    "company": 200,
    "job_title": 200,
    "industry": 100,
    "location": 200,
}
CONTACT_FIELDS = ("email", "phone", "website")
LEAD_FIELDS = (
    *TEXT_FIELDS,
    *CONTACT_FIELDS,
    "employee_count",
    "annual_revenue",
    "customer_category",
    "notes",
)
_NUMBER_NOISE = re.compile(r"[\s,$€£_]")
_CATEGORY_BY_TEXT = {
    **{value: value for value in Lead.CustomerCategory.values},
    **{label.lower(): value for value, label in Lead.CustomerCategory.choices},
    **{value.replace("_", " "): value for value in Lead.CustomerCategory.values},
}
_MAX_REVENUE = Decimal("99999999999999.99")
# An unusable email or phone is kept as given (so the user sees what came in), cut to its column.
_CONTACT_LIMITS = {name: Lead._meta.get_field(name).max_length for name in CONTACT_FIELDS}


@dataclass
class CleanLead:
    values: dict  # only the fields that were given
    check: ContactCheck
    keys: DedupeKeys
    problems: dict[str, list[str]] = field(default_factory=dict)

    def add_problem(self, name: str, message: str) -> None:
        self.problems.setdefault(name, []).append(message)


def _text(value) -> str:
    if value is None:
        return ""
    return " ".join(str(value).replace("\x00", "").split())


def lead_clean(raw: dict, *, current: Lead | None = None, region: str | None = None) -> CleanLead:
    """Clean the lead fields present in `raw`; fields it does not name keep `current`'s
    values for the contact check and dedupe keys (an edit of one field)."""
    values: dict = {}
    problems: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    for name, limit in TEXT_FIELDS.items():
        if name in raw:
            text = _text(raw[name])
            if len(text) > limit:
                problem(name, f"Longer than {limit} characters; cut to fit.")
                text = text[:limit]
            values[name] = text
    if "notes" in raw:
        values["notes"] = str(raw["notes"] or "").replace("\x00", "")[:10000]
    if "employee_count" in raw:
        values["employee_count"] = _whole_number(raw["employee_count"], "employee_count", problem)
    if "annual_revenue" in raw:
        values["annual_revenue"] = _money(raw["annual_revenue"], "annual_revenue", problem)
    if "customer_category" in raw:
        text = _text(raw["customer_category"]).lower()
        category = _CATEGORY_BY_TEXT.get(text, "")
        if text and not category:
            known = ", ".join(Lead.CustomerCategory.values)
            problem("customer_category", f"Not a known category: choose one of {known}.")
        values["customer_category"] = category

    def given_or_current(name: str) -> str:
        if name in raw:
            return _text(raw[name])
        return getattr(current, name, "") if current is not None else ""

    check = contact_check(
        email=given_or_current("email"),
        phone=given_or_current("phone"),
        website=given_or_current("website"),
        region=region,
    )
    for name in CONTACT_FIELDS:
        if name in raw:
            values[name] = getattr(check, name)[: _CONTACT_LIMITS[name]]
    if "website_invalid" in check.reasons and "website" in values:
        # Kept only as a problem: the website is rendered as a link, and "javascript:..." is not one.
        values["website"] = ""
    for name, messages in check.problems.items():
        problems.setdefault(name, []).extend(messages)

    def final(name: str) -> str:
        return values.get(name, getattr(current, name, "") if current is not None else "")

    keys = dedupe_keys(
        email=check.email if check.email_ok else "",
        phone_e164=check.phone if check.phone_ok else "",
        first_name=final("first_name"),
        last_name=final("last_name"),
        company=final("company"),
    )
    return CleanLead(values=values, check=check, keys=keys, problems=problems)


def _whole_number(value, name, problem) -> int | None:
    text = _NUMBER_NOISE.sub("", str(value if value is not None else ""))
    if not text:
        return None
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():  # NaN and infinities parse as Decimals
        problem(name, "Not a whole number.")
        return None
    if number < 0 or number > 10_000_000:
        problem(name, "Must be between 0 and 10,000,000.")
        return None
    return int(number)


def _money(value, name, problem) -> Decimal | None:
    text = _NUMBER_NOISE.sub("", str(value if value is not None else ""))
    if not text:
        return None
    try:
        amount = Decimal(text)
        # NaN and infinities are numbers to Decimal, not amounts.
        amount = amount.quantize(Decimal("0.01")) if amount.is_finite() else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None:
        problem(name, "Not an amount.")
        return None
    if amount < 0 or amount > _MAX_REVENUE:
        problem(name, "Must be a positive amount below 100 trillion.")
        return None
    return amount


def apply_clean(lead: Lead, clean: CleanLead) -> list[str]:
    """Write the cleaned values, contact check and keys onto `lead`; the names of the fields
    whose value changed."""
    changed = [name for name, value in clean.values.items() if getattr(lead, name) != value]
    for name, value in clean.values.items():
        setattr(lead, name, value)
    lead.validation_status = clean.check.status
    lead.validation_reasons = clean.check.reasons
    lead.email_key = clean.keys.email
    lead.phone_key = clean.keys.phone
    lead.name_company_key = clean.keys.name_company
    return changed
