import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from email_validator import EmailNotValidError, validate_email

from accounts.exceptions import EmailTaken
from accounts.managers import normalize_email
from accounts.models import Organization, User
from accounts.services.sessions import EndReason, sessions_end_all
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed


def email_clean(email: str, *, field: str = "email") -> str:
    try:
        return normalize_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise ValidationFailed(str(exc), details={field: [str(exc)]}) from exc


def password_check(password: str, *, user: User, field: str) -> None:
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], details={field: exc.messages}) from exc


def organization_create(*, name: str, is_buyer: bool, is_vendor: bool, is_platform: bool = False) -> Organization:
    name = name.strip()
    if not name:
        raise ValidationFailed(
            "Give the organization a name.", details={"organization_name": ["This field is required."]}
        )
    base = slugify(name)[:200] or "org"
    slug = base
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return Organization.objects.create(
        name=name, slug=slug, is_buyer=is_buyer, is_vendor=is_vendor, is_platform=is_platform
    )


def user_create(
    *,
    email: str,
    password: str | None,
    organization: Organization,
    full_name: str = "",
    role: str = User.Role.MANAGEMENT,
    parent: User | None = None,
    email_verified: bool = False,
    is_staff: bool = False,
) -> User:
    email = email_clean(email)
    user = User(
        email=email,
        full_name=full_name.strip(),
        organization=organization,
        role=role,
        parent=parent,
        email_verified=email_verified,
        is_staff=is_staff,
        is_superuser=is_staff,
    )
    if password is None:
        user.set_unusable_password()
    else:
        password_check(password, user=user, field="password")
        user.set_password(password)
    if User.objects.filter(email=email).exists():
        raise EmailTaken()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent sign-up with the same email won the race
        raise EmailTaken() from exc
    return user


def staff_user_create(*, email: str, password: str | None, full_name: str = "") -> User:
    """A verified staff user in the platform organization (what `createsuperuser` makes)."""
    with transaction.atomic():
        platform = Organization.objects.filter(is_platform=True).first() or organization_create(
            name=settings.PLATFORM_ORGANIZATION_NAME, is_buyer=False, is_vendor=False, is_platform=True
        )
        user = user_create(
            email=email,
            password=password,
            full_name=full_name or "Staff",
            organization=platform,
            email_verified=True,
            is_staff=True,
        )
        publish("accounts.user.staff_created", org=platform, subject=user)
    return user


def user_save_by_staff(*, actor: User, user: User, changed: list[str]) -> User:
    """Save what staff changed on a user in the admin, record it, and end every sign-in of a
    user they deactivated."""
    with transaction.atomic():
        user.save()
        if changed:
            publish(
                "accounts.user.updated_by_staff",
                actor=actor,
                org=user.organization_id,
                subject=user,
                data={"fields": sorted(changed)},
            )
        if "is_active" in changed and not user.is_active:
            sessions_end_all(user=user, reason=EndReason.DEACTIVATED)
    return user
