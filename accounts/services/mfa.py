"""Two-factor sign-in: an authenticator app (TOTP) plus ten one-time recovery codes, both
kept the way django-otp keeps them (a `TOTPDevice`, a `StaticDevice` with `StaticToken`s).

A sign-in with two-factor on is two steps. The password step hands out a short-lived
signed `mfa_token` naming the user (the API returns it, pages keep it in the session);
the code step exchanges it and a code for a real sign-in. Every code check counts against
the per-account `mfa_check` rate limit, on top of django-otp's own back-off per device.
"""

import base64
import io
import math
import re
from dataclasses import dataclass
from datetime import timedelta

import qrcode
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathFillImage

from accounts import policy
from accounts.devices import Device
from accounts.exceptions import (
    InvalidMfaCode,
    InvalidToken,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaRequiredByOrganization,
    MfaSetupNotStarted,
    MfaSetupRequired,
)
from accounts.models import Organization, User
from accounts.selectors import mfa_enabled, totp_device_of, user_list
from accounts.services.auth import user_authenticate
from accounts.services.sessions import TokenPair, api_sign_in
from leadnexus.core.events import publish
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leadnexus.core.ratelimit import rate_limit
from notifications.models import NotificationType
from notifications.services import notification_send

RECOVERY_CODE_COUNT = 10
MFA_TOKEN_MAX_AGE = timedelta(minutes=5)
_MFA_TOKEN_SALT = "accounts.mfa.sign-in"
_TOTP_CODE = re.compile(r"^[0-9]{6}$")
_WRONG_CODE = "This code is not correct or has expired."
_STEP_EXPIRED = "This sign-in took too long. Sign in again with your password."


# --- Setting it up -------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpProvisioning:
    """What an authenticator app needs: the secret, as a link and as a QR code of that link."""

    secret: str
    otpauth_url: str
    qr_code: str  # data:image/svg+xml;base64,…

    @property
    def secret_grouped(self) -> str:
        """The secret in groups of four, for typing it into an app by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def totp_provisioning(device: TOTPDevice) -> TotpProvisioning:
    url = device.config_url
    # The filled variant paints a white background, so the code stays scannable in dark mode.
    image = qrcode.make(url, image_factory=SvgPathFillImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return TotpProvisioning(
        secret=base64.b32encode(device.bin_key).decode(),
        otpauth_url=url,
        qr_code="data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode(),
    )


@transaction.atomic
def mfa_setup(*, actor: User) -> TotpProvisioning:
    """Start (or start over) adding an authenticator app: a new secret, unconfirmed until
    the first code from the app proves it was scanned."""
    _lock(actor)
    if mfa_enabled(user=actor):
        raise MfaAlreadyEnabled()
    TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=actor, name="Authenticator app", confirmed=False)
    publish("accounts.mfa.setup_started", actor=actor, org=actor.organization_id, subject=actor)
    return totp_provisioning(device)


def mfa_confirm(*, actor: User, code: str) -> list[str]:
    """The first code from the app turns two-factor on; returns the recovery codes, which
    are shown this once."""
    rate_limit("mfa_check", _account(actor))
    device = totp_device_of(user=actor, confirmed=False)
    if device is None:
        raise MfaAlreadyEnabled() if mfa_enabled(user=actor) else MfaSetupNotStarted()
    _raise_unless_accepted(_code_check(TOTPDevice.objects.filter(pk=device.pk), _normalized(code)))
    with transaction.atomic():
        _lock(actor)
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        TOTPDevice.objects.filter(user=actor).exclude(pk=device.pk).delete()
        codes = _recovery_codes_replace(actor)
        publish(
            "accounts.mfa.enabled",
            actor=actor,
            org=actor.organization_id,
            subject=actor,
            data={"recovery_codes": len(codes)},
        )
        notification_send(
            user=actor,
            type=NotificationType.ACCOUNT,
            title="Two-factor sign-in is on",
            message="Signing in now asks for a code from your authenticator app. Keep your recovery codes safe.",
            link=reverse("accounts:two-factor"),
        )
    return codes


def mfa_disable(*, actor: User, code: str = "", password: str = "") -> None:
    """Turn two-factor off, proven with a current code (or a recovery code) or the password.
    Refused while the organization requires it."""
    if Organization.objects.filter(pk=actor.organization_id, require_mfa=True).exists():
        raise MfaRequiredByOrganization()
    if not mfa_enabled(user=actor):
        raise MfaNotEnabled()
    rate_limit("mfa_check", _account(actor))
    if password:
        if not actor.check_password(password):
            message = "The password is not correct."
            raise ValidationFailed(message, details={"password": [message]})
        method = "password"
    else:
        method = _second_factor_check(actor, code)
    with transaction.atomic():
        _lock(actor)
        TOTPDevice.objects.filter(user=actor).delete()
        StaticDevice.objects.filter(user=actor).delete()
        publish("accounts.mfa.disabled", actor=actor, org=actor.organization_id, subject=actor, data={"with": method})
        notification_send(
            user=actor,
            type=NotificationType.ACCOUNT,
            title="Two-factor sign-in was turned off",
            message="Your password alone now signs you in. If that was not you, change your password and turn it on.",
            link=reverse("accounts:two-factor"),
        )


def mfa_recovery_codes_regenerate(*, actor: User, code: str) -> list[str]:
    """A fresh set of recovery codes; the earlier ones stop working."""
    if not mfa_enabled(user=actor):
        raise MfaNotEnabled()
    rate_limit("mfa_check", _account(actor))
    _second_factor_check(actor, code)
    with transaction.atomic():
        _lock(actor)
        codes = _recovery_codes_replace(actor)
        publish(
            "accounts.mfa.recovery_codes_regenerated",
            actor=actor,
            org=actor.organization_id,
            subject=actor,
            data={"recovery_codes": len(codes)},
        )
    return codes


def organization_mfa_requirement_set(*, actor: User, required: bool) -> Organization:
    """Require two-factor sign-in from every member of the actor's organization (or stop
    requiring it). Whoever requires it must have it on, or they would be the first locked out."""
    if not policy.can_manage_organization(actor):
        raise PermissionDenied("Only management can change what the organization requires at sign-in.")
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=actor.organization_id)
        if required and not mfa_enabled(user=actor):
            raise MfaNotEnabled("Turn on two-factor sign-in for your own account first, then require it from everyone.")
        if organization.require_mfa == required:
            return organization
        organization.require_mfa = required
        organization.save(update_fields=["require_mfa"])
        publish(
            "accounts.organization.mfa_requirement_changed",
            actor=actor,
            org=organization,
            subject=organization,
            data={"required": required},
        )
        if required:
            for member in user_list(user=actor).filter(is_active=True).exclude(totpdevice__confirmed=True):
                notification_send(
                    user=member,
                    type=NotificationType.ACCOUNT,
                    title="Your organization now requires two-factor sign-in",
                    message="Set it up with an authenticator app to keep using LeadNexus.",
                    link=reverse("accounts:two-factor"),
                )
    return organization


# --- Signing in with it --------------------------------------------------------------------


@dataclass(frozen=True)
class LoginStart:
    """The password was right. With two-factor on, `mfa_token` is set and a code comes next."""

    user: User
    mfa_token: str | None = None

    @property
    def code_required(self) -> bool:
        return self.mfa_token is not None


@dataclass(frozen=True)
class ApiLogin:
    """An API sign-in: its tokens, or the `mfa_token` to send back with a code."""

    user: User
    tokens: TokenPair | None = None
    mfa_token: str | None = None


def login_start(*, email: str, password: str) -> LoginStart:
    """The password step of a sign-in."""
    user = user_authenticate(email=email, password=password)
    if mfa_enabled(user=user):
        return LoginStart(user=user, mfa_token=_mfa_token_issue(user))
    return LoginStart(user=user)


def api_login(*, email: str, password: str, device: Device) -> ApiLogin:
    """An API sign-in with the password. A member whose organization requires two-factor
    and who has not set it up is refused: there is no code to ask them for."""
    start = login_start(email=email, password=password)
    if start.code_required:
        return ApiLogin(user=start.user, mfa_token=start.mfa_token)
    if start.user.organization.require_mfa:
        raise MfaSetupRequired()
    return ApiLogin(user=start.user, tokens=api_sign_in(user=start.user, device=device))


def login_step_user(*, mfa_token: str) -> User:
    """Whom a pending sign-in is for; refused once it expired, or when the password changed since."""
    try:
        data = signing.loads(mfa_token, salt=_MFA_TOKEN_SALT, max_age=MFA_TOKEN_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken(_STEP_EXPIRED, details={"mfa_token": [_STEP_EXPIRED]}) from exc
    user = (
        User.objects.select_related("organization").filter(pk=data.get("uid"), is_active=True).first()
        if isinstance(data, dict)
        else None
    )
    if user is None or not constant_time_compare(_password_fingerprint(user), str(data.get("pw", ""))):
        raise InvalidToken(_STEP_EXPIRED, details={"mfa_token": [_STEP_EXPIRED]})
    return user


def login_code_verify(*, mfa_token: str, code: str) -> User:
    """The code step of a sign-in: a code from the app, or a recovery code (each works once)."""
    user = login_step_user(mfa_token=mfa_token)
    rate_limit("mfa_check", _account(user))
    _second_factor_check(user, code)
    return user


def api_login_code(*, mfa_token: str, code: str, device: Device) -> ApiLogin:
    user = login_code_verify(mfa_token=mfa_token, code=code)
    return ApiLogin(user=user, tokens=api_sign_in(user=user, device=device))


# --- Internals -----------------------------------------------------------------------------


def _account(user: User) -> str:
    return f"user:{user.pk}"


def _lock(user: User) -> None:
    """Serialise two-factor changes of one user (two tabs confirming at once, say)."""
    User.objects.select_for_update().filter(pk=user.pk).first()


def _normalized(code: str) -> str:
    # Apps show "123 456"; recovery codes are easier to read aloud with a dash.
    return re.sub(r"[\s-]", "", code or "").lower()


def _password_fingerprint(user: User) -> str:
    # A password change (a reset, say) voids sign-ins half-way through.
    return user.get_session_auth_hash()[:16]


def _mfa_token_issue(user: User) -> str:
    return signing.dumps({"uid": user.pk, "pw": _password_fingerprint(user)}, salt=_MFA_TOKEN_SALT)


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=token) for token in codes)
    return codes


@dataclass(frozen=True)
class _CodeCheck:
    device: TOTPDevice | StaticDevice | None
    wait_seconds: int = 0  # django-otp's back-off after wrong codes in a row


def _code_check(devices, code: str) -> _CodeCheck:
    """Try `code` on the given devices. Its own transaction: a wrong code's failure count
    (django-otp's back-off) is kept although the caller then raises."""
    wait = 0
    with transaction.atomic():
        for device in devices.select_for_update():
            allowed, info = device.verify_is_allowed()
            if not allowed:
                locked_until = (info or {}).get("locked_until")
                seconds = (locked_until - timezone.now()).total_seconds() if locked_until else 1
                wait = max(wait, math.ceil(seconds), 1)
                continue
            if device.verify_token(code):
                return _CodeCheck(device=device)
    return _CodeCheck(device=None, wait_seconds=wait)


def _raise_unless_accepted(check: _CodeCheck) -> None:
    if check.device is not None:
        return
    if check.wait_seconds:
        message = f"Too many wrong codes in a row. Wait {check.wait_seconds} seconds, then try again."
        raise InvalidMfaCode(message, details={"code": [message]})
    raise InvalidMfaCode(details={"code": [_WRONG_CODE]})


def _second_factor_check(user: User, code: str) -> str:
    """Accept a current code from the app or an unused recovery code of `user`; say which."""
    code = _normalized(code)
    if _TOTP_CODE.match(code):
        devices, method = TOTPDevice.objects.filter(user=user, confirmed=True), "authenticator"
    else:
        devices, method = StaticDevice.objects.filter(user=user, confirmed=True), "recovery_code"
    _raise_unless_accepted(_code_check(devices, code))
    if method == "recovery_code":
        left = StaticToken.objects.filter(device__user=user).count()
        publish(
            "accounts.mfa.recovery_code_used", actor=user, org=user.organization_id, subject=user, data={"left": left}
        )
    return method
