"""My profile, password and preferences. There is no id in these paths: every signed-in
user reads and writes their own, whatever their role or permission flags."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import UserOutputSerializer
from accounts.middleware import current_session_id
from accounts.models import SecuritySettings, UserPreferences
from accounts.selectors import all_preferences_of
from accounts.services import preferences as services
from leadnexus.core.api import validated
from leadnexus.core.ratelimit import rate_limit
from notifications.models import NotificationType
from notifications.services import notification_settings_update

# --- Input ------------------------------------------------------------------------


class ProfileInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200, required=False)


class PasswordChangeInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class NotificationChannelsSerializer(serializers.Serializer):
    in_app = serializers.BooleanField(help_text="Shown in the app (the bell and the notifications page).")
    email = serializers.BooleanField(help_text="Sent by email.")


def _matrix(name: str, *, required: bool, doc: str) -> type[serializers.Serializer]:
    """One field per notification type, each `{in_app, email}`."""
    fields = {
        kind.value: NotificationChannelsSerializer(required=required, help_text=str(kind.label))
        for kind in NotificationType
    }
    return type(name, (serializers.Serializer,), {**fields, "__doc__": doc})


NotificationSettingsInputSerializer = _matrix(
    "NotificationSettingsInputSerializer",
    required=False,
    doc="Replaces every type: a type left out goes back to its default.",
)
NotificationSettingsOutputSerializer = _matrix(
    "NotificationSettingsOutputSerializer", required=True, doc="Per notification type, where it reaches me."
)


class SecuritySettingsInputSerializer(serializers.Serializer):
    login_notifications = serializers.BooleanField(help_text="Email me on each new sign-in.")
    session_timeout_minutes = serializers.ChoiceField(
        choices=SecuritySettings.SessionTimeout.choices,
        help_text="Sign me out of pages after this many minutes without activity.",
    )


class AppPreferencesInputSerializer(serializers.Serializer):
    items_per_page = serializers.ChoiceField(choices=UserPreferences.ItemsPerPage.choices)
    leads_view = serializers.ChoiceField(choices=UserPreferences.LeadsView.choices)
    compact_mode = serializers.BooleanField()
    theme = serializers.ChoiceField(choices=UserPreferences.Theme.choices)
    export_format = serializers.ChoiceField(choices=UserPreferences.ExportFormat.choices)
    export_include_notes = serializers.BooleanField()


# --- Output -----------------------------------------------------------------------


class SecuritySettingsOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SecuritySettings
        fields = ["login_notifications", "session_timeout_minutes"]


class AppPreferencesOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = UserPreferences
        fields = ["items_per_page", "leads_view", "compact_mode", "theme", "export_format", "export_include_notes"]


class PreferencesOutputSerializer(serializers.Serializer):
    notifications = NotificationSettingsOutputSerializer()
    security = SecuritySettingsOutputSerializer()
    app = AppPreferencesOutputSerializer()


class PasswordChangedOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
    sessions_ended = serializers.IntegerField(help_text="How many of my other sign-ins were ended.")


# --- Views ------------------------------------------------------------------------


class ProfileView(APIView):
    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)

    @extend_schema(request=ProfileInputSerializer, responses={200: UserOutputSerializer})
    def patch(self, request):
        user = services.profile_update(actor=request.user, **validated(ProfileInputSerializer, request))
        return Response(UserOutputSerializer(user).data)


class PasswordChangeView(APIView):
    """Change my password. My other sign-ins end; this one keeps working. Signed in with a
    personal API token there is no sign-in to keep, so every session ends (tokens stay valid)."""

    @extend_schema(request=PasswordChangeInputSerializer, responses={200: PasswordChangedOutputSerializer})
    def post(self, request):
        # Guessing the current password is guessing a sign-in: the same limit applies.
        rate_limit("login", f"password-change:{request.user.pk}")
        data = validated(PasswordChangeInputSerializer, request)
        ended = services.password_change(actor=request.user, keep_session_id=current_session_id(request), **data)
        return Response(
            {"detail": "Your password has been changed. Your other sign-ins have ended.", "sessions_ended": ended}
        )


class PreferencesView(APIView):
    @extend_schema(responses={200: PreferencesOutputSerializer})
    def get(self, request):
        return Response(PreferencesOutputSerializer(all_preferences_of(user=request.user)).data)


class NotificationPreferencesView(APIView):
    @extend_schema(
        request=NotificationSettingsInputSerializer,
        responses={200: NotificationSettingsOutputSerializer},
        description="Replace my notification settings. A type left out goes back to its default.",
    )
    def put(self, request):
        data = validated(NotificationSettingsInputSerializer, request)
        channels = {kind: dict(chosen) for kind, chosen in data.items()}
        matrix = notification_settings_update(actor=request.user, channels=channels)
        return Response(NotificationSettingsOutputSerializer(matrix).data)


class SecurityPreferencesView(APIView):
    @extend_schema(request=SecuritySettingsInputSerializer, responses={200: SecuritySettingsOutputSerializer})
    def put(self, request):
        row = services.security_settings_update(
            actor=request.user, **validated(SecuritySettingsInputSerializer, request)
        )
        return Response(SecuritySettingsOutputSerializer(row).data)


class AppPreferencesView(APIView):
    @extend_schema(request=AppPreferencesInputSerializer, responses={200: AppPreferencesOutputSerializer})
    def put(self, request):
        row = services.preferences_update(actor=request.user, **validated(AppPreferencesInputSerializer, request))
        return Response(AppPreferencesOutputSerializer(row).data)


api_urlpatterns = [
    path("profile/", ProfileView.as_view(), name="profile"),
    path("profile/change-password/", PasswordChangeView.as_view(), name="profile-change-password"),
    path("profile/preferences/", PreferencesView.as_view(), name="profile-preferences"),
    path(
        "profile/preferences/notifications/",
        NotificationPreferencesView.as_view(),
        name="profile-preferences-notifications",
    ),
    path("profile/preferences/security/", SecurityPreferencesView.as_view(), name="profile-preferences-security"),
    path("profile/preferences/app/", AppPreferencesView.as_view(), name="profile-preferences-app"),
]
