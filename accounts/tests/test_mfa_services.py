"""Two-factor sign-in through its service functions: setup, confirmation, recovery codes,
turning it off, the organization-wide requirement, and the code check at sign-in.

`app_code` and `mfa_on` are shared with the API, page and browser tests of two-factor sign-in."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import TOTP, hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.exceptions import (
    InvalidMfaCode,
    InvalidToken,
    MfaAlreadyEnabled,
    MfaNotEnabled,
    MfaRequiredByOrganization,
    MfaSetupNotStarted,
)
from accounts.models import User
from accounts.selectors import mfa_enabled, mfa_status_of
from accounts.services import mfa as services
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory
from leadnexus.core.exceptions import PermissionDenied, RateLimited, ValidationFailed
from leadnexus.core.models import Event
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def app_code(user: User) -> str:
    """What the user's authenticator app shows: the current code, or the next one when the
    current one was already used (django-otp accepts each time step once, and one step ahead)."""
    device = TOTPDevice.objects.filter(user=user).latest("pk")
    now_step = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).t()
    step = max(now_step, device.last_t + 1)
    return f"{hotp(device.bin_key, step, digits=device.digits):0{device.digits}d}"


def wrong_code(user: User) -> str:
    return f"{(int(app_code(user)) + 500_000) % 1_000_000:06d}"


def mfa_on(user: User) -> list[str]:
    """Turn two-factor sign-in on for `user` as they would; returns the recovery codes."""
    services.mfa_setup(actor=user)
    return services.mfa_confirm(actor=user, code=app_code(user))


def events(name: str) -> list[Event]:
    return list(Event.objects.filter(name=name).order_by("pk"))


def back_off_passed(user: User) -> None:
    """django-otp makes a device wait after a wrong code (1 s, then 2, 4…): let that time pass."""
    earlier = timezone.now() - timedelta(hours=1)
    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=earlier)
    StaticDevice.objects.filter(user=user).update(throttling_failure_timestamp=earlier)


# --- Setup and confirmation -----------------------------------------------------------------


def test_setup_then_confirm_turns_it_on_with_ten_recovery_codes(user):
    # given the user starts the setup
    provisioning = services.mfa_setup(actor=user)
    assert provisioning.otpauth_url.startswith("otpauth://totp/LeadNexus%3A")
    assert f"secret={provisioning.secret}" in provisioning.otpauth_url
    assert provisioning.qr_code.startswith("data:image/svg+xml;base64,")
    assert not mfa_enabled(user=user)

    # when the first code from the app is confirmed
    codes = services.mfa_confirm(actor=user, code=app_code(user))

    # then two-factor is on, with ten distinct one-time codes stored the django-otp way
    assert mfa_enabled(user=user)
    assert len(codes) == len(set(codes)) == 10
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(codes)
    status = mfa_status_of(user=user)
    assert status.enabled and status.recovery_codes_left == 10 and status.pending_device is None
    assert [e.data for e in events("accounts.mfa.enabled")] == [{"recovery_codes": 10}]
    assert Notification.objects.filter(user=user, title="Two-factor sign-in is on").exists()


def test_setting_up_again_replaces_the_unconfirmed_secret(user):
    first = services.mfa_setup(actor=user)
    second = services.mfa_setup(actor=user)

    assert first.secret != second.secret
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert services.mfa_confirm(actor=user, code=app_code(user))


def test_a_wrong_first_code_leaves_it_off(user):
    services.mfa_setup(actor=user)

    with pytest.raises(InvalidMfaCode):
        services.mfa_confirm(actor=user, code=wrong_code(user))

    assert not mfa_enabled(user=user)
    assert mfa_status_of(user=user).pending_device is not None


def test_confirming_needs_a_setup_and_setting_up_needs_it_off(user):
    with pytest.raises(MfaSetupNotStarted):
        services.mfa_confirm(actor=user, code="123456")
    mfa_on(user)
    with pytest.raises(MfaAlreadyEnabled):
        services.mfa_setup(actor=user)
    with pytest.raises(MfaAlreadyEnabled):
        services.mfa_confirm(actor=user, code=app_code(user))


# --- Recovery codes and turning it off --------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(user):
    old = mfa_on(user)

    new = services.mfa_recovery_codes_regenerate(actor=user, code=app_code(user))

    assert set(new).isdisjoint(old) and len(new) == 10
    token = services.login_start(email=user.email, password=PASSWORD).mfa_token
    with pytest.raises(InvalidMfaCode):
        services.login_code_verify(mfa_token=token, code=old[0])
    back_off_passed(user)
    assert services.login_code_verify(mfa_token=token, code=new[0]) == user
    assert len(events("accounts.mfa.recovery_codes_regenerated")) == 1


def test_regenerating_needs_two_factor_on_and_a_right_code(user):
    with pytest.raises(MfaNotEnabled):
        services.mfa_recovery_codes_regenerate(actor=user, code="123456")
    codes = mfa_on(user)
    with pytest.raises(InvalidMfaCode):
        services.mfa_recovery_codes_regenerate(actor=user, code=wrong_code(user))
    assert StaticToken.objects.filter(device__user=user).count() == 10
    # a recovery code proves it too (and is spent)
    back_off_passed(user)
    assert len(services.mfa_recovery_codes_regenerate(actor=user, code=codes[0])) == 10


def test_turning_it_off_with_a_code_or_the_password(user):
    mfa_on(user)
    services.mfa_disable(actor=user, code=app_code(user))
    assert not mfa_enabled(user=user)
    assert not StaticDevice.objects.filter(user=user).exists()

    mfa_on(user)
    with pytest.raises(ValidationFailed) as wrong:
        services.mfa_disable(actor=user, password="not-my-password")
    assert wrong.value.details == {"password": ["The password is not correct."]}
    services.mfa_disable(actor=user, password=PASSWORD)
    assert not mfa_enabled(user=user)

    assert [e.data for e in events("accounts.mfa.disabled")] == [{"with": "authenticator"}, {"with": "password"}]
    assert Notification.objects.filter(user=user, title="Two-factor sign-in was turned off").count() == 2


def test_it_cannot_be_turned_off_while_the_organization_requires_it(user):
    mfa_on(user)
    services.organization_mfa_requirement_set(actor=user, required=True)

    with pytest.raises(MfaRequiredByOrganization):
        services.mfa_disable(actor=user, password=PASSWORD)
    assert mfa_enabled(user=user)


# --- The organization-wide requirement ---------------------------------------------------


def test_management_requires_it_for_the_organization_and_members_are_told(user):
    mfa_on(user)
    member = SubUserFactory(parent=user)
    protected = SubUserFactory(parent=user)
    mfa_on(protected)

    organization = services.organization_mfa_requirement_set(actor=user, required=True)

    assert organization.require_mfa
    assert [e.data for e in events("accounts.organization.mfa_requirement_changed")] == [{"required": True}]
    told = Notification.objects.filter(title="Your organization now requires two-factor sign-in")
    assert set(told.values_list("user_id", flat=True)) == {member.pk}
    # asking again changes nothing and records nothing
    services.organization_mfa_requirement_set(actor=user, required=True)
    assert len(events("accounts.organization.mfa_requirement_changed")) == 1

    services.organization_mfa_requirement_set(actor=user, required=False)
    user.organization.refresh_from_db()
    assert not user.organization.require_mfa


def test_requiring_it_needs_it_on_for_oneself(user):
    with pytest.raises(MfaNotEnabled, match="your own account first"):
        services.organization_mfa_requirement_set(actor=user, required=True)
    user.organization.refresh_from_db()
    assert not user.organization.require_mfa
    # turning the requirement off needs nothing
    services.organization_mfa_requirement_set(actor=user, required=False)


@pytest.mark.parametrize("role", [User.Role.SALES_MANAGER, User.Role.SALES_REP])
def test_only_management_changes_the_requirement(user, role):
    colleague = UserFactory(organization=user.organization, role=role)
    mfa_on(colleague)

    with pytest.raises(PermissionDenied):
        services.organization_mfa_requirement_set(actor=colleague, required=True)


# --- Signing in ------------------------------------------------------------------------------


def test_sign_in_asks_for_a_code_only_when_two_factor_is_on(user):
    assert not services.login_start(email=user.email, password=PASSWORD).code_required

    mfa_on(user)
    start = services.login_start(email=user.email, password=PASSWORD)

    assert start.code_required and start.user == user
    assert services.login_code_verify(mfa_token=start.mfa_token, code=app_code(user)) == user


def test_a_recovery_code_signs_in_once(user):
    codes = mfa_on(user)
    token = services.login_start(email=user.email, password=PASSWORD).mfa_token

    # read back with a dash and in capitals, as people type them
    typed = f"{codes[3][:4]}-{codes[3][4:]}".upper()
    assert services.login_code_verify(mfa_token=token, code=typed) == user
    assert events("accounts.mfa.recovery_code_used")[0].data == {"left": 9}

    with pytest.raises(InvalidMfaCode):
        services.login_code_verify(mfa_token=token, code=codes[3])


def test_an_app_code_works_once(user):
    mfa_on(user)
    token = services.login_start(email=user.email, password=PASSWORD).mfa_token
    code = app_code(user)
    services.login_code_verify(mfa_token=token, code=code)

    with pytest.raises(InvalidMfaCode):
        services.login_code_verify(mfa_token=token, code=code)


def test_right_after_a_wrong_code_the_device_asks_to_wait(user):
    mfa_on(user)
    token = services.login_start(email=user.email, password=PASSWORD).mfa_token
    with pytest.raises(InvalidMfaCode):
        services.login_code_verify(mfa_token=token, code=wrong_code(user))

    # django-otp's back-off holds even a right code for a moment, and says so
    with pytest.raises(InvalidMfaCode, match=r"Wait \d+ seconds"):
        services.login_code_verify(mfa_token=token, code=app_code(user))

    back_off_passed(user)
    assert services.login_code_verify(mfa_token=token, code=app_code(user)) == user


def test_code_checks_are_rate_limited_per_account(user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "mfa_check": "3/15minute"}
    mfa_on(user)  # one check
    token = services.login_start(email=user.email, password=PASSWORD).mfa_token
    for _ in range(2):
        with pytest.raises(InvalidMfaCode):
            services.login_code_verify(mfa_token=token, code=wrong_code(user))

    back_off_passed(user)
    with pytest.raises(RateLimited) as limited:
        services.login_code_verify(mfa_token=token, code=app_code(user))
    assert 0 < limited.value.retry_after <= 15 * 60

    # another account is not affected
    other = UserFactory()
    mfa_on(other)
    other_token = services.login_start(email=other.email, password=PASSWORD).mfa_token
    assert services.login_code_verify(mfa_token=other_token, code=app_code(other)) == other


def test_a_sign_in_step_is_void_after_a_password_change_or_tampering(user):
    mfa_on(user)
    token = services.login_start(email=user.email, password=PASSWORD).mfa_token

    with pytest.raises(InvalidToken):
        services.login_step_user(mfa_token=token + "x")
    user.set_password("brand-new-passphrase-7")
    user.save()
    with pytest.raises(InvalidToken, match="took too long"):
        services.login_step_user(mfa_token=token)
