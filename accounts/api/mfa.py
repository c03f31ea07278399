from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import auth as auth_api
from accounts.selectors import mfa_status_of
from accounts.services import mfa as services
from leadnexus.core.api import validated

# --- Input ------------------------------------------------------------------------


class MfaCodeInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=32, help_text="A 6-digit code from the authenticator app, or an unused recovery code."
    )


class MfaConfirmInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, help_text="The 6-digit code the authenticator app shows now.")


class MfaDisableInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32, required=False, help_text="A code from the app or a recovery code.")
    password = serializers.CharField(
        max_length=128, required=False, trim_whitespace=False, style={"input_type": "password"}
    )

    def validate(self, attrs):
        if bool(attrs.get("code")) == bool(attrs.get("password")):
            raise serializers.ValidationError("Give either a current code or your password.")
        return attrs


class MfaRequirementInputSerializer(serializers.Serializer):
    required = serializers.BooleanField()


# --- Output -----------------------------------------------------------------------


class MfaStatusOutputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    enabled_at = serializers.DateTimeField(allow_null=True)
    recovery_codes_left = serializers.IntegerField()
    required_by_organization = serializers.BooleanField()
    setup_started = serializers.BooleanField(help_text="An authenticator app was added but not confirmed yet.")


class MfaSetupOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The shared secret, base32, for typing into the app.")
    otpauth_url = serializers.CharField(help_text="The otpauth:// link the QR code holds.")
    qr_code = serializers.CharField(help_text="The QR code as an image: a data:image/svg+xml;base64 URI.")


class RecoveryCodesOutputSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(), help_text="One-time codes for when the app is not at hand. Shown only now."
    )


class MfaRequirementOutputSerializer(serializers.Serializer):
    required = serializers.BooleanField()


def _status(user) -> dict:
    status = mfa_status_of(user=user)
    return MfaStatusOutputSerializer(
        {
            "enabled": status.enabled,
            "enabled_at": status.enabled_at,
            "recovery_codes_left": status.recovery_codes_left,
            "required_by_organization": status.required_by_organization,
            "setup_started": status.pending_device is not None,
        }
    ).data


# --- Views ------------------------------------------------------------------------


class MfaStatusView(APIView):
    """Whether two-factor sign-in is on for me, and whether my organization requires it."""

    @extend_schema(responses={200: MfaStatusOutputSerializer})
    def get(self, request):
        return Response(_status(request.user))


class MfaSetupView(APIView):
    """Start adding an authenticator app (again): scan the QR code, then confirm a code."""

    @extend_schema(request=None, responses={200: MfaSetupOutputSerializer})
    def post(self, request):
        provisioning = services.mfa_setup(actor=request.user)
        return Response(MfaSetupOutputSerializer(provisioning).data)


class MfaConfirmView(APIView):
    """The first code from the app turns two-factor sign-in on and returns the recovery codes."""

    @extend_schema(request=MfaConfirmInputSerializer, responses={200: RecoveryCodesOutputSerializer})
    def post(self, request):
        codes = services.mfa_confirm(actor=request.user, **validated(MfaConfirmInputSerializer, request))
        return Response(RecoveryCodesOutputSerializer({"recovery_codes": codes}).data)


class MfaDisableView(APIView):
    """Turn two-factor sign-in off, with a current code or the password."""

    @extend_schema(request=MfaDisableInputSerializer, responses={200: MfaStatusOutputSerializer})
    def post(self, request):
        services.mfa_disable(actor=request.user, **validated(MfaDisableInputSerializer, request))
        return Response(_status(request.user))


class MfaRecoveryCodesView(APIView):
    """A fresh set of recovery codes; the earlier ones stop working."""

    @extend_schema(request=MfaCodeInputSerializer, responses={200: RecoveryCodesOutputSerializer})
    def post(self, request):
        codes = services.mfa_recovery_codes_regenerate(actor=request.user, **validated(MfaCodeInputSerializer, request))
        return Response(RecoveryCodesOutputSerializer({"recovery_codes": codes}).data)


class MfaRequirementView(APIView):
    """Whether every member of my organization must sign in with two-factor (management may change it)."""

    @extend_schema(responses={200: MfaRequirementOutputSerializer})
    def get(self, request):
        return Response({"required": request.user.organization.require_mfa})

    @extend_schema(request=MfaRequirementInputSerializer, responses={200: MfaRequirementOutputSerializer})
    def post(self, request):
        organization = services.organization_mfa_requirement_set(
            actor=request.user, **validated(MfaRequirementInputSerializer, request)
        )
        return Response(MfaRequirementOutputSerializer({"required": organization.require_mfa}).data)

    @extend_schema(request=MfaRequirementInputSerializer, responses={200: MfaRequirementOutputSerializer})
    def put(self, request):
        return self.post(request)


api_urlpatterns = [
    # The code step of an API sign-in lives with the password step in accounts.api.auth.
    path("auth/login/mfa/", auth_api.LoginMfaView.as_view(), name="auth-login-mfa"),
    path("auth/mfa/", MfaStatusView.as_view(), name="auth-mfa"),
    path("auth/mfa/setup/", MfaSetupView.as_view(), name="auth-mfa-setup"),
    path("auth/mfa/confirm/", MfaConfirmView.as_view(), name="auth-mfa-confirm"),
    path("auth/mfa/disable/", MfaDisableView.as_view(), name="auth-mfa-disable"),
    path("auth/mfa/recovery-codes/", MfaRecoveryCodesView.as_view(), name="auth-mfa-recovery-codes"),
    path("organization/mfa-requirement/", MfaRequirementView.as_view(), name="organization-mfa-requirement"),
]
