"""The organization's own settings (edited by its management users) and what staff change
from the admin: plan, plan status, verification. Every change is recorded as an event."""

import zoneinfo
from functools import cache

import phonenumbers
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse

from accounts import policy
from accounts.models import Organization, User
from accounts.selectors import organization_get
from accounts.services.users import organization_create
from leadnexus.core.events import publish
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from notifications.models import NotificationType
from notifications.services import notification_send

COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")

# What a management user may change; the rest (plan, verification...) is for staff.
MEMBER_EDITABLE = ("name", "company_size", "industry", "website", "phone", "time_zone", "response_target_minutes")
# Speed-to-lead: from five minutes to a week; None turns the target off.
RESPONSE_TARGET_RANGE = (5, 7 * 24 * 60)
STAFF_EDITABLE = (
    *MEMBER_EDITABLE,
    "is_buyer",
    "is_vendor",
    "verified",
    "plan",
    "plan_status",
    "require_mfa",
)
_PLAN_FIELDS = ("plan", "plan_status")


@cache
def time_zone_choices() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: [message]})


def _clean_text(field: str, value, *, max_length: int, required: bool = False) -> str:
    value = str(value or "").strip()
    if required and not value:
        raise _invalid(field, "This field is required.")
    if len(value) > max_length:
        raise _invalid(field, f"Use at most {max_length} characters.")
    return value


def _clean_website(value) -> str:
    value = str(value or "").strip()
    if not value:
        return ""
    if "://" not in value:
        value = f"https://{value}"
    try:
        URLValidator(schemes=["http", "https"])(value)
    except DjangoValidationError as exc:
        raise _invalid("website", "Enter a web address such as https://example.com.") from exc
    if len(value) > 200:
        raise _invalid("website", "Use at most 200 characters.")
    return value


def _clean_phone(value) -> str:
    """Stored in E.164 (+14155550123); the number must carry its country code."""
    value = str(value or "").strip()
    if not value:
        return ""
    message = "Enter a valid phone number with its country code, such as +1 415 555 0123."
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise _invalid("phone", message) from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid("phone", message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _clean_choice(field: str, value, choices) -> str:
    if value not in choices:
        raise _invalid(field, f"Choose one of: {', '.join(str(choice) for choice in choices if choice)}.")
    return value


def _clean_response_target(value) -> int | None:
    if value in (None, ""):
        return None
    low, high = RESPONSE_TARGET_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid("response_target_minutes", f"Give a whole number of minutes from {low} to {high}, or none.")
    return value


def _clean_bool(field: str, value) -> bool:
    if not isinstance(value, bool):
        raise _invalid(field, "Must be true or false.")
    return value


_CLEANERS = {
    "name": lambda value: _clean_text("name", value, max_length=200, required=True),
    "industry": lambda value: _clean_text("industry", value, max_length=100),
    "website": _clean_website,
    "phone": _clean_phone,
    "company_size": lambda value: _clean_choice("company_size", value or "", ("", *COMPANY_SIZES)),
    "time_zone": lambda value: _clean_choice("time_zone", value, time_zone_choices()),
    "response_target_minutes": _clean_response_target,
    "plan": lambda value: _clean_choice("plan", value, Organization.Plan.values),
    "plan_status": lambda value: _clean_choice("plan_status", value, Organization.PlanStatus.values),
    "is_buyer": lambda value: _clean_bool("is_buyer", value),
    "is_vendor": lambda value: _clean_bool("is_vendor", value),
    "verified": lambda value: _clean_bool("verified", value),
    "require_mfa": lambda value: _clean_bool("require_mfa", value),
}


def organization_changes_clean(changes: dict, *, allowed: tuple[str, ...] = MEMBER_EDITABLE) -> dict:
    """Normalize proposed changes (phone to E.164, website with its scheme...), reporting every
    invalid field at once. Also used by the admin's form, so staff see the same messages."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationFailed(
            "These fields cannot be changed here.",
            details={field: ["This field cannot be changed here."] for field in unknown},
        )
    cleaned, problems = {}, {}
    for field, value in changes.items():
        try:
            cleaned[field] = _CLEANERS[field](value)
        except ValidationFailed as exc:
            problems.update(exc.details)
    if problems:
        message = next(iter(problems.values()))[0] if len(problems) == 1 else "Some fields are not valid."
        raise ValidationFailed(message, details=problems)
    return cleaned


def _apply(organization: Organization, changes: dict) -> dict:
    """Set the changed values; returns `{field: {"from", "to"}}` of those that really changed."""
    diff = {}
    for field, value in changes.items():
        before = getattr(organization, field)
        if before != value:
            diff[field] = {"from": before, "to": value}
            setattr(organization, field, value)
    if diff:
        organization.save(update_fields=list(diff))
    return diff


def _locked(organization_id: int) -> Organization:
    return Organization.objects.select_for_update().get(pk=organization_id)


@transaction.atomic
def organization_update(*, actor: User, changes: dict) -> Organization:
    """A management user edits their organization's profile and time zone."""
    if not policy.can_manage_organization(actor):
        raise PermissionDenied("Only management users can change the organization's settings.")
    cleaned = organization_changes_clean(changes)
    organization = _locked(organization_get(user=actor, organization_id=actor.organization_id).pk)
    diff = _apply(organization, cleaned)
    if diff:
        publish(
            "accounts.organization.updated", actor=actor, org=organization, subject=organization, data={"changes": diff}
        )
    return organization


@transaction.atomic
def organization_update_by_staff(*, actor: User, organization_id: int, changes: dict) -> Organization:
    """Staff change any organization (plan, verification, profile) from the admin. The change is
    recorded field by field; a new plan or plan status is announced to the org's management."""
    if not policy.can_administer_organizations(actor):
        raise PermissionDenied("Only staff can change another organization.")
    cleaned = organization_changes_clean(changes, allowed=STAFF_EDITABLE)
    organization = _locked(organization_get(user=actor, organization_id=organization_id).pk)
    diff = _apply(organization, cleaned)
    if not diff:
        return organization
    publish(
        "accounts.organization.updated",
        actor=actor,
        org=organization,
        subject=organization,
        data={"changes": diff, "by_staff": True},
    )
    if any(field in diff for field in _PLAN_FIELDS):
        before = {
            field: diff[field]["from"] if field in diff else getattr(organization, field) for field in _PLAN_FIELDS
        }
        after = {field: getattr(organization, field) for field in _PLAN_FIELDS}
        publish(
            "accounts.organization.plan_changed",
            actor=actor,
            org=organization,
            subject=organization,
            data={"from": before, "to": after},
        )
        _announce_plan(organization=organization, plan_changed="plan" in diff)
    return organization


def _announce_plan(*, organization: Organization, plan_changed: bool) -> None:
    plan = Organization.Plan(organization.plan).label
    status = organization.plan_status
    if status == Organization.PlanStatus.CANCELED:
        title = f"Your {plan} plan is canceled"
        message = "The Free plan's limits apply until the subscription is renewed."
    elif status == Organization.PlanStatus.PAST_DUE:
        title = f"Your {plan} plan is past due"
        message = "Update the payment details to keep the plan's features and seats."
    elif plan_changed:
        title = f"Your plan is now {plan}"
        message = f"{organization.name} is on the {plan} plan from now on."
    else:
        title = f"Your {plan} plan is active again"
        message = f"{organization.name} has every feature and seat of the {plan} plan again."
    managers = User.objects.filter(organization=organization, role=User.Role.MANAGEMENT, is_active=True)
    link = reverse("accounts:organization")
    for manager in managers:
        notification_send(user=manager, type=NotificationType.ACCOUNT, title=title, message=message, link=link)


@transaction.atomic
def organization_create_by_staff(*, actor: User, name: str, changes: dict) -> Organization:
    """Staff add an organization from the admin (customers normally sign up themselves)."""
    if not policy.can_administer_organizations(actor):
        raise PermissionDenied("Only staff can create organizations.")
    cleaned = organization_changes_clean({"name": name, **changes}, allowed=STAFF_EDITABLE)
    organization = organization_create(
        name=cleaned.pop("name"),
        is_buyer=cleaned.pop("is_buyer", False),
        is_vendor=cleaned.pop("is_vendor", False),
    )
    _apply(organization, cleaned)
    publish(
        "accounts.organization.created",
        actor=actor,
        org=organization,
        subject=organization,
        data={"name": organization.name, "plan": organization.plan, "by_staff": True},
    )
    return organization
