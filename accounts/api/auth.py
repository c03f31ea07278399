from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import LoginOutputSerializer, TokenPairOutputSerializer, UserOutputSerializer
from accounts.devices import Device
from accounts.services import auth as services
from accounts.services import mfa as mfa_services
from accounts.services import sessions
from leadnexus.core.api import PublicAPIView, validated
from leadnexus.core.ratelimit import client_ip, rate_limit

# --- Input ------------------------------------------------------------------------


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=200)
    organization_name = serializers.CharField(max_length=200)
    account_type = serializers.ChoiceField(choices=services.AccountType.CHOICES)


class TokenInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class EmailInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class LoginMfaInputSerializer(serializers.Serializer):
    mfa_token = serializers.CharField(max_length=500, help_text="The `mfa_token` the password step answered with.")
    code = serializers.CharField(
        max_length=32, help_text="A 6-digit code from the authenticator app, or an unused recovery code."
    )


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=2000)


class VerifyOtpInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    otp = serializers.RegexField(r"^[0-9]{6}$", error_messages={"invalid": "Enter the 6-digit code from the email."})


class ResetPasswordInputSerializer(serializers.Serializer):
    reset_token = serializers.CharField(max_length=200)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


_DETAIL = inline_serializer("Detail", {"detail": serializers.CharField()})


# --- Views --------------------------------------------------------------------------


class RegisterView(PublicAPIView):
    @extend_schema(
        request=RegisterInputSerializer,
        responses={
            201: inline_serializer("Registered", {"id": serializers.IntegerField(), "email": serializers.EmailField()})
        },
    )
    def post(self, request):
        rate_limit("register", client_ip(request))
        user = services.user_register(**validated(RegisterInputSerializer, request))
        return Response({"id": user.pk, "email": user.email}, status=status.HTTP_201_CREATED)


class VerifyEmailView(PublicAPIView):
    @extend_schema(
        request=TokenInputSerializer,
        responses={200: inline_serializer("EmailVerified", {"email_verified": serializers.BooleanField()})},
    )
    def post(self, request):
        rate_limit("verify", client_ip(request))
        services.email_verify(**validated(TokenInputSerializer, request))
        return Response({"email_verified": True})


class ResendVerificationView(PublicAPIView):
    @extend_schema(request=EmailInputSerializer, responses={202: _DETAIL})
    def post(self, request):
        data = validated(EmailInputSerializer, request)
        rate_limit("verify_resend", data["email"])
        services.email_verification_resend(email=data["email"])
        return Response(
            {"detail": "If that account waits for verification, a new link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class MfaChallengeOutputSerializer(serializers.Serializer):
    mfa_required = serializers.BooleanField(help_text="Always true: send a code to auth/login/mfa next.")
    mfa_token = serializers.CharField(help_text="Names this sign-in for the code step; expires after 5 minutes.")


_LOGIN_RESULT = PolymorphicProxySerializer(
    component_name="LoginResult",
    serializers=[LoginOutputSerializer, MfaChallengeOutputSerializer],
    resource_type_field_name=None,
)


def _login_answer(login: mfa_services.ApiLogin) -> Response:
    if login.tokens is None:
        return Response(MfaChallengeOutputSerializer({"mfa_required": True, "mfa_token": login.mfa_token}).data)
    pair = {"access": login.tokens.access, "refresh": login.tokens.refresh, "user": login.user}
    return Response(LoginOutputSerializer(pair).data)


class LoginView(PublicAPIView):
    """Sign in with email and password: tokens, or (two-factor on) an `mfa_token` for the code step."""

    @extend_schema(request=LoginInputSerializer, responses={200: _LOGIN_RESULT})
    def post(self, request):
        rate_limit("login", client_ip(request))
        login = mfa_services.api_login(**validated(LoginInputSerializer, request), device=Device.of(request))
        return _login_answer(login)


class LoginMfaView(PublicAPIView):
    """The code step of a sign-in with two-factor on: a code from the app or a recovery code."""

    @extend_schema(request=LoginMfaInputSerializer, responses={200: LoginOutputSerializer})
    def post(self, request):
        rate_limit("login", client_ip(request))
        login = mfa_services.api_login_code(**validated(LoginMfaInputSerializer, request), device=Device.of(request))
        return _login_answer(login)


class RefreshView(PublicAPIView):
    @extend_schema(request=RefreshInputSerializer, responses={200: TokenPairOutputSerializer})
    def post(self, request):
        tokens = sessions.jwt_refresh(**validated(RefreshInputSerializer, request))
        return Response(TokenPairOutputSerializer(tokens).data)


class LogoutView(PublicAPIView):
    # The access token may already have expired; holding the refresh token is the proof.
    @extend_schema(request=RefreshInputSerializer, responses={204: None})
    def post(self, request):
        sessions.api_sign_out(**validated(RefreshInputSerializer, request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: UserOutputSerializer})
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class ForgotPasswordView(PublicAPIView):
    @extend_schema(request=EmailInputSerializer, responses={202: _DETAIL})
    def post(self, request):
        data = validated(EmailInputSerializer, request)
        rate_limit("forgot_password", data["email"])
        services.password_reset_request(email=data["email"])
        return Response(
            {"detail": "If an account uses that email, a 6-digit code is on its way."}, status=status.HTTP_202_ACCEPTED
        )


class VerifyOtpView(PublicAPIView):
    @extend_schema(
        request=VerifyOtpInputSerializer,
        responses={200: inline_serializer("ResetToken", {"reset_token": serializers.CharField()})},
    )
    def post(self, request):
        data = validated(VerifyOtpInputSerializer, request)
        rate_limit("code_check", data["email"])
        reset_token = services.password_reset_code_verify(email=data["email"], code=data["otp"])
        return Response({"reset_token": reset_token})


class ResetPasswordView(PublicAPIView):
    @extend_schema(request=ResetPasswordInputSerializer, responses={200: _DETAIL})
    def post(self, request):
        services.password_reset_complete(**validated(ResetPasswordInputSerializer, request))
        return Response({"detail": "Your password has been changed. Sign in with the new one."})
