"""Settings pages every signed-in user has: profile and password, app preferences,
notifications, security; and the header's theme toggle."""

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from accounts.middleware import current_session_id
from accounts.models import SecuritySettings, UserPreferences
from accounts.selectors import preferences_of, security_settings_of
from accounts.services import preferences as services
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.ratelimit import rate_limit
from leadnexus.core.views import ServiceFormView
from notifications.models import NotificationType
from notifications.selectors import notification_settings_of
from notifications.services import notification_settings_update

_SWITCH = {"role": "switch"}

# --- Forms (shape only) -------------------------------------------------------------


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        max_length=200, label="Your name", widget=forms.TextInput(attrs={"autocomplete": "name"})
    )


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        max_length=128,
        strip=False,
        label="Current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        max_length=128,
        strip=False,
        label="New password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not a common password, not only digits, not like your email.",
    )
    confirm_password = forms.CharField(
        max_length=128,
        strip=False,
        label="Repeat the new password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password") != cleaned.get("confirm_password"):
            self.add_error("confirm_password", "The two passwords do not match.")
        return cleaned


class AppPreferencesForm(forms.Form):
    theme = forms.ChoiceField(choices=UserPreferences.Theme.choices, widget=forms.RadioSelect, label="Theme")
    compact_mode = forms.BooleanField(
        required=False,
        label="Compact mode",
        help_text="Tighter spacing, so more fits on the screen.",
        widget=forms.CheckboxInput(attrs=_SWITCH),
    )
    items_per_page = forms.TypedChoiceField(
        choices=UserPreferences.ItemsPerPage.choices,
        coerce=int,
        label="Items per page",
        help_text="How many rows every list shows at a time, in the app and through the API.",
    )
    leads_view = forms.ChoiceField(
        choices=[(UserPreferences.LeadsView.TABLE, "Table"), (UserPreferences.LeadsView.CARDS, "Cards")],
        widget=forms.RadioSelect,
        label="Show leads as",
    )
    export_format = forms.ChoiceField(choices=UserPreferences.ExportFormat.choices, label="Export format")
    export_include_notes = forms.BooleanField(
        required=False,
        label="Include notes in lead and contact exports",
        widget=forms.CheckboxInput(attrs=_SWITCH),
    )


class SecuritySettingsForm(forms.Form):
    login_notifications = forms.BooleanField(
        required=False,
        label="Email me on each new sign-in",
        help_text="With the device, the address and the time, so you notice a sign-in that was not you.",
        widget=forms.CheckboxInput(attrs=_SWITCH),
    )
    session_timeout_minutes = forms.TypedChoiceField(
        choices=SecuritySettings.SessionTimeout.choices,
        coerce=int,
        label="Sign me out after this long without activity",
        help_text="Applies to the web app; API clients are bound by their tokens.",
    )


class NotificationSettingsForm(forms.Form):
    """Two checkboxes per notification type: `<type>-in_app` and `<type>-email`."""

    CHANNELS = ("in_app", "email")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in NotificationType:
            for channel in self.CHANNELS:
                label = f"{kind.label}: {'in the app' if channel == 'in_app' else 'by email'}"
                self.fields[f"{kind.value}-{channel}"] = forms.BooleanField(required=False, label=label)

    def rows(self) -> list[dict]:
        return [
            {
                "type": kind.value,
                "label": kind.label,
                "in_app": self[f"{kind.value}-in_app"],
                "email": self[f"{kind.value}-email"],
            }
            for kind in NotificationType
        ]

    def channels(self) -> dict[str, dict[str, bool]]:
        return {
            kind.value: {channel: self.cleaned_data[f"{kind.value}-{channel}"] for channel in self.CHANNELS}
            for kind in NotificationType
        }


class ThemeForm(forms.Form):
    theme = forms.ChoiceField(choices=UserPreferences.Theme.choices)
    next = forms.CharField(required=False, max_length=2000)


# --- Pages --------------------------------------------------------------------------


class ProfileView(LoginRequiredMixin, ServiceFormView):
    """My name (the email is my sign-in and stays), and the password form beside it."""

    template_name = "accounts/settings/profile.html"
    form_class = ProfileForm

    def get_initial(self):
        return {"full_name": self.request.user.full_name}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("password_form", PasswordChangeForm())
        return super().get_context_data(**kwargs)

    def perform(self, form):
        services.profile_update(actor=self.request.user, full_name=form.cleaned_data["full_name"])
        messages.success(self.request, "Your profile is saved.")
        return redirect("accounts:profile")


class PasswordChangeView(LoginRequiredMixin, ServiceFormView):
    """The password form of the profile page. This browser stays signed in; every other
    sign-in of mine ends."""

    template_name = "accounts/settings/profile.html"
    form_class = PasswordChangeForm

    def get(self, request, *args, **kwargs):
        return redirect("accounts:profile")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["password_form"] = context.pop("form")
        context["form"] = ProfileForm(initial={"full_name": self.request.user.full_name})
        return context

    def _stay_signed_in(self) -> str:
        update_session_auth_hash(self.request, self.request.user)  # gives the browser a new session key
        return self.request.session.session_key

    def perform(self, form):
        # Guessing the current password is guessing a sign-in: the same limit applies.
        rate_limit("login", f"password-change:{self.request.user.pk}")
        ended = services.password_change(
            actor=self.request.user,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["new_password"],
            keep_session_id=current_session_id(self.request),
            rehash_page_session=self._stay_signed_in,
        )
        others = f" {ended} other sign-in{'s' if ended != 1 else ''} ended." if ended else ""
        messages.success(self.request, f"Your password has been changed.{others}")
        return redirect("accounts:profile")


class PreferencesView(LoginRequiredMixin, ServiceFormView):
    template_name = "accounts/settings/preferences.html"
    form_class = AppPreferencesForm

    def get_initial(self):
        saved = preferences_of(user=self.request.user)
        return {field: getattr(saved, field) for field in AppPreferencesForm.base_fields}

    def perform(self, form):
        services.preferences_update(actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, "Your preferences are saved.")
        return redirect("accounts:preferences")


class NotificationSettingsView(LoginRequiredMixin, ServiceFormView):
    template_name = "accounts/settings/notifications.html"
    form_class = NotificationSettingsForm

    def get_initial(self):
        matrix = notification_settings_of(user=self.request.user)
        return {
            f"{kind}-{channel}": getattr(chosen, channel)
            for kind, chosen in matrix.items()
            for channel in NotificationSettingsForm.CHANNELS
        }

    def perform(self, form):
        notification_settings_update(actor=self.request.user, channels=form.channels())
        messages.success(self.request, "Your notification settings are saved.")
        return redirect("accounts:notification-settings")


class SecuritySettingsView(LoginRequiredMixin, ServiceFormView):
    template_name = "accounts/settings/security.html"
    form_class = SecuritySettingsForm

    def get_initial(self):
        saved = security_settings_of(user=self.request.user)
        return {field: getattr(saved, field) for field in SecuritySettingsForm.base_fields}

    def perform(self, form):
        services.security_settings_update(actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, "Your security settings are saved.")
        return redirect("accounts:security")


class ThemeView(LoginRequiredMixin, View):
    """The header's theme toggle: remembered per user, so every device of theirs shows it.
    static/js/theme.js posts here in the background (204); without scripts the form posts
    and comes back to the page it was on."""

    def get(self, request):
        # Lands here after signing in again from a toggle that had been signed out.
        return redirect("accounts:preferences")

    def post(self, request):
        form = ThemeForm(request.POST)
        if not form.is_valid():
            raise ValidationFailed(
                "Choose light, dark or system.", details={field: list(errors) for field, errors in form.errors.items()}
            )
        services.theme_update(actor=request.user, theme=form.cleaned_data["theme"])
        if request.headers.get("X-Requested-With") == "fetch":
            return HttpResponse(status=204)
        target = form.cleaned_data["next"]
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            return redirect(target)
        return redirect("accounts:preferences")


urlpatterns = [
    path("settings/profile/", ProfileView.as_view(), name="profile"),
    path("settings/profile/password/", PasswordChangeView.as_view(), name="password-change"),
    path("settings/preferences/", PreferencesView.as_view(), name="preferences"),
    path("settings/notifications/", NotificationSettingsView.as_view(), name="notification-settings"),
    path("settings/security/", SecuritySettingsView.as_view(), name="security"),
    path("settings/theme/", ThemeView.as_view(), name="theme"),
]
