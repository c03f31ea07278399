"""How API requests prove who they are: a JWT bound to an open sign-in session, or a
personal API token. Both answer 401 the moment the session ends or the token is revoked."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings

from accounts.models import UserSession
from accounts.services.sessions import SessionEnded, session_check
from accounts.services.tokens import api_token_authenticate
from leadnexus.core.exceptions import NotAuthenticated


class SessionJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        # One query loads the session, its user and their organization.
        session = (
            UserSession.objects.select_related("user__organization")
            .filter(pk=validated_token.get("sid"), user_id=validated_token.get(api_settings.USER_ID_CLAIM))
            .first()
        )
        try:
            if session is None or not session.user.is_active:
                raise SessionEnded()
            session_check(session=session)
        except NotAuthenticated as exc:
            raise AuthenticationFailed(exc.message, code="session_ended") from exc
        return session.user


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the header as `Authorization: Token <key>`.")
        try:
            token = api_token_authenticate(key=parts[1].decode("latin-1"))
        except NotAuthenticated as exc:
            raise AuthenticationFailed(exc.message) from exc
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class SessionJWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.SessionJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token: `Token <key>`.",
        }
