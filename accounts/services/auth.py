import hmac
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.exceptions import EmailNotVerified, EmailTaken, InvalidCredentials, InvalidToken
from accounts.managers import normalize_email
from accounts.models import EmailVerification, PasswordResetOTP, User
from accounts.selectors import user_find_by_email
from accounts.services.sessions import EndReason, sessions_end_all
from accounts.services.users import organization_create, password_check, user_create
from leadnexus.core.crypto import keyed_digest
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed
from notifications.services import email_queue


class AccountType:
    BUYER = "buyer"
    VENDOR = "vendor"
    BOTH = "both"
    CHOICES = (BUYER, VENDOR, BOTH)


# --- Sign-up ------------------------------------------------------------------------


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str, organization_name: str, account_type: str) -> User:
    """Sign-up: a new organization, its first management user, and a verification email."""
    if account_type not in AccountType.CHOICES:
        raise ValidationFailed(
            "Choose buyer, vendor or both.",
            details={"account_type": [f"Choose one of {', '.join(AccountType.CHOICES)}."]},
        )
    if user_find_by_email(email=email):
        raise EmailTaken()
    organization = organization_create(
        name=organization_name,
        is_buyer=account_type in (AccountType.BUYER, AccountType.BOTH),
        is_vendor=account_type in (AccountType.VENDOR, AccountType.BOTH),
    )
    user = user_create(
        email=email, password=password, full_name=full_name, organization=organization, role=User.Role.MANAGEMENT
    )
    publish(
        "accounts.user.registered",
        actor=user,
        org=organization,
        subject=user,
        data={"account_type": account_type},
    )
    email_verification_send(user=user)
    return user


# --- Email verification --------------------------------------------------------


def email_verification_send(*, user: User) -> None:
    """Email a fresh single-use link; links sent before stop working."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        EmailVerification.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        EmailVerification.objects.create(
            user=user, token_hash=keyed_digest(token), expires_at=now + settings.EMAIL_VERIFICATION_TTL
        )
        email_queue(
            to=user.email,
            template="verify_email",
            context={
                "user": user,
                "link": f"{settings.SITE_URL}/verify?token={token}",
                "hours": int(settings.EMAIL_VERIFICATION_TTL.total_seconds() // 3600),
            },
        )


@transaction.atomic
def email_verify(*, token: str) -> User:
    verification = (
        EmailVerification.objects.select_for_update()
        .select_related("user")
        .filter(token_hash=keyed_digest(token or ""), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if verification is None:
        raise InvalidToken(
            "This verification link is not valid any more. Ask for a new one.",
            details={"token": ["Invalid, used or expired token."]},
        )
    verification.used_at = timezone.now()
    verification.save(update_fields=["used_at"])
    user = verification.user
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
        publish("accounts.user.email_verified", actor=user, org=user.organization_id, subject=user)
    return user


def email_verification_resend(*, email: str) -> None:
    """Send the link again to an unverified account. Says nothing either way, so the
    answer does not reveal which emails have accounts."""
    user = user_find_by_email(email=email)
    if user is not None and user.is_active and not user.email_verified:
        email_verification_send(user=user)


# --- Sign-in and tokens ----------------------------------------------------------


def user_authenticate(*, email: str, password: str) -> User:
    user = authenticate(username=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    if not user.email_verified:
        raise EmailNotVerified()
    return user


# --- Password reset by one-time code ------------------------------------------------


def password_reset_request(*, email: str) -> None:
    """Email a 6-digit code if the account exists; the caller answers the same either way."""
    user = user_find_by_email(email=email)
    if user is None or not user.is_active:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        PasswordResetOTP.objects.filter(user=user, used_at__isnull=True).update(used_at=now)
        PasswordResetOTP.objects.create(
            user=user, code_hash=keyed_digest(f"{user.pk}:{code}"), expires_at=now + settings.PASSWORD_RESET_CODE_TTL
        )
        email_queue(
            to=user.email,
            template="password_reset_code",
            context={
                "user": user,
                "code": code,
                "minutes": int(settings.PASSWORD_RESET_CODE_TTL.total_seconds() // 60),
            },
        )


_WRONG_CODE = "This code is not correct, or it has expired or been used. Ask for a new one if needed."


def password_reset_code_verify(*, email: str, code: str) -> str:
    """Exchange a correct code for a short-lived reset token. Every wrong try counts; the
    fifth burns the code. A used code never works again."""
    user = user_find_by_email(email=email)
    otp = (
        PasswordResetOTP.objects.filter(user=user, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
        if user
        else None
    )
    if otp is None:
        raise InvalidToken(_WRONG_CODE, details={"otp": [_WRONG_CODE]})
    if not hmac.compare_digest(otp.code_hash, keyed_digest(f"{user.pk}:{code}")):
        # Counted in its own statement (autocommit), so the failure is kept though we raise.
        PasswordResetOTP.objects.filter(pk=otp.pk).update(attempts=F("attempts") + 1)
        PasswordResetOTP.objects.filter(
            pk=otp.pk, used_at__isnull=True, attempts__gte=settings.PASSWORD_RESET_CODE_MAX_ATTEMPTS
        ).update(used_at=timezone.now())
        raise InvalidToken(_WRONG_CODE, details={"otp": [_WRONG_CODE]})
    reset_token = secrets.token_urlsafe(32)
    now = timezone.now()
    claimed = PasswordResetOTP.objects.filter(pk=otp.pk, used_at__isnull=True).update(
        used_at=now,
        reset_token_hash=keyed_digest(reset_token),
        reset_token_expires_at=now + settings.PASSWORD_RESET_TOKEN_TTL,
    )
    if not claimed:  # the same code was redeemed concurrently
        raise InvalidToken(_WRONG_CODE, details={"otp": [_WRONG_CODE]})
    return reset_token


@transaction.atomic
def password_reset_complete(*, reset_token: str, new_password: str) -> User:
    otp = (
        PasswordResetOTP.objects.select_for_update()
        .select_related("user")
        .filter(
            reset_token_hash=keyed_digest(reset_token or ""),
            reset_at__isnull=True,
            reset_token_expires_at__gt=timezone.now(),
        )
        .first()
    )
    if otp is None:
        raise InvalidToken(
            "This reset has expired. Ask for a new code.", details={"reset_token": ["Invalid, used or expired token."]}
        )
    user = otp.user
    password_check(new_password, user=user, field="new_password")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    otp.reset_at = timezone.now()
    otp.save(update_fields=["reset_at"])
    sessions_end_all(user=user, reason=EndReason.PASSWORD_CHANGED)
    publish("accounts.user.password_reset", actor=user, org=user.organization_id, subject=user)
    email_queue(to=user.email, template="password_changed", context={"user": user})
    return user
