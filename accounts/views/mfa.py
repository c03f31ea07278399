from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views.generic import TemplateView

from accounts import policy
from accounts.selectors import mfa_status_of
from accounts.services import mfa as services
from accounts.views import auth as auth_views
from leadnexus.core.views import ServiceFormView

# Recovery codes just made, shown on the next view of the page and then forgotten.
_NEW_CODES_SESSION_KEY = "mfa_new_recovery_codes"

_APP_CODE = {"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}


# --- Forms (shape only) -------------------------------------------------------------


class MfaSetupForm(forms.Form):
    """No fields: the button and its CSRF token."""


class MfaConfirmForm(forms.Form):
    code = forms.CharField(max_length=32, label="6-digit code from the app", widget=forms.TextInput(attrs=_APP_CODE))


class MfaRecoveryCodesForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        label="A code from the app, or a recovery code",
        widget=forms.TextInput(attrs={**_APP_CODE, "inputmode": "text"}),
    )


class MfaDisableForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        required=False,
        label="A code from the app, or a recovery code",
        widget=forms.TextInput(attrs={**_APP_CODE, "inputmode": "text"}),
    )
    password = forms.CharField(
        max_length=128,
        required=False,
        strip=False,
        label="…or your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if bool(cleaned.get("code")) == bool(cleaned.get("password")):
            raise forms.ValidationError("Enter either a code or your password.")
        return cleaned


class MfaRequirementForm(forms.Form):
    required = forms.BooleanField(required=False, label="Require two-factor sign-in for every member")


# --- Pages --------------------------------------------------------------------------


class TwoFactorPageMixin(LoginRequiredMixin):
    """The two-factor settings page, whichever of its forms was posted: a failed post shows
    the page again with that form's errors."""

    template_name = "accounts/settings/two_factor.html"
    # The name the template knows the posted form by.
    form_context_name = ""

    def get_context_data(self, **kwargs):
        user = self.request.user
        status = mfa_status_of(user=user)
        can_require = policy.can_manage_organization(user)
        if self.form_context_name and "form" in kwargs:
            kwargs[self.form_context_name] = kwargs["form"]
            # A refusal can come from a form the page no longer shows (set up again in
            # another tab, say): its message then goes above everything.
            if self.form_context_name not in _shown_forms(status, can_require):
                kwargs["refusal"] = kwargs["form"].non_field_errors()
        context = {
            "status": status,
            "provisioning": services.totp_provisioning(status.pending_device) if status.pending_device else None,
            "can_require": can_require,
            "setup_form": MfaSetupForm(prefix="setup"),
            "confirm_form": MfaConfirmForm(prefix="confirm"),
            "codes_form": MfaRecoveryCodesForm(prefix="codes"),
            "disable_form": MfaDisableForm(prefix="disable"),
            "requirement_form": MfaRequirementForm(
                prefix="requirement", initial={"required": status.required_by_organization}
            ),
            **kwargs,
        }
        return super().get_context_data(**context)


def _shown_forms(status, can_require: bool) -> set[str]:
    """The forms the two-factor page shows in this state (mirrors the template)."""
    if status.enabled:
        shown = {"codes_form"} | (set() if status.required_by_organization else {"disable_form"})
    elif status.pending_device is not None:
        shown = {"confirm_form", "setup_form"}
    else:
        shown = {"setup_form"}
    return shown | ({"requirement_form"} if can_require else set())


class TwoFactorView(TwoFactorPageMixin, TemplateView):
    def get_context_data(self, **kwargs):
        codes = self.request.session.pop(_NEW_CODES_SESSION_KEY, None)
        return super().get_context_data(new_recovery_codes=codes, **kwargs)


class TwoFactorActionView(TwoFactorPageMixin, ServiceFormView):
    http_method_names = ["post"]

    def _done(self, message: str, codes: list[str] | None = None):
        if codes:
            self.request.session[_NEW_CODES_SESSION_KEY] = codes
        messages.success(self.request, message)
        return redirect("accounts:two-factor")


class TwoFactorSetupView(TwoFactorActionView):
    form_class = MfaSetupForm
    prefix = "setup"
    form_context_name = "setup_form"

    def perform(self, form):
        services.mfa_setup(actor=self.request.user)
        return redirect("accounts:two-factor")


class TwoFactorConfirmView(TwoFactorActionView):
    form_class = MfaConfirmForm
    prefix = "confirm"
    form_context_name = "confirm_form"

    def perform(self, form):
        codes = services.mfa_confirm(actor=self.request.user, code=form.cleaned_data["code"])
        return self._done("Two-factor sign-in is on. Save your recovery codes now.", codes)


class TwoFactorRecoveryCodesView(TwoFactorActionView):
    form_class = MfaRecoveryCodesForm
    prefix = "codes"
    form_context_name = "codes_form"

    def perform(self, form):
        codes = services.mfa_recovery_codes_regenerate(actor=self.request.user, code=form.cleaned_data["code"])
        return self._done("New recovery codes are ready; the earlier ones no longer work.", codes)


class TwoFactorDisableView(TwoFactorActionView):
    form_class = MfaDisableForm
    prefix = "disable"
    form_context_name = "disable_form"

    def perform(self, form):
        services.mfa_disable(actor=self.request.user, **form.cleaned_data)
        return self._done("Two-factor sign-in is off.")


class TwoFactorRequirementView(TwoFactorActionView):
    form_class = MfaRequirementForm
    prefix = "requirement"
    form_context_name = "requirement_form"

    def perform(self, form):
        organization = services.organization_mfa_requirement_set(
            actor=self.request.user, required=form.cleaned_data["required"]
        )
        if organization.require_mfa:
            return self._done("Every member of your organization now signs in with two-factor.")
        return self._done("Two-factor sign-in is now up to each member.")


urlpatterns = [
    path("settings/two-factor/", TwoFactorView.as_view(), name="two-factor"),
    path("settings/two-factor/setup/", TwoFactorSetupView.as_view(), name="two-factor-setup"),
    path("settings/two-factor/confirm/", TwoFactorConfirmView.as_view(), name="two-factor-confirm"),
    path("settings/two-factor/recovery-codes/", TwoFactorRecoveryCodesView.as_view(), name="two-factor-recovery-codes"),
    path("settings/two-factor/disable/", TwoFactorDisableView.as_view(), name="two-factor-disable"),
    path("settings/two-factor/requirement/", TwoFactorRequirementView.as_view(), name="two-factor-requirement"),
    # The code step of a page sign-in lives with the password step in accounts.views.auth.
    path("login/code/", auth_views.LoginCodeView.as_view(), name="login-code"),
]
