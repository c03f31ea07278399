"""Accounts routes. Each feature module keeps its own list (`urlpatterns` for pages,
`api_urlpatterns` for the API); this file only puts them together."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import auth as auth_api
from accounts.api import mfa as mfa_api
from accounts.api import organization as organization_api
from accounts.api import preferences as preferences_api
from accounts.api import privacy as privacy_api
from accounts.api import sessions as sessions_api
from accounts.api import team as team_api
from accounts.api import tokens as tokens_api
from accounts.api import users as users_api
from accounts.views import auth as auth_views
from accounts.views import mfa as mfa_views
from accounts.views import organization as organization_views
from accounts.views import preferences as preferences_views
from accounts.views import privacy as privacy_views
from accounts.views import sessions as sessions_views
from accounts.views import team as team_views
from accounts.views import tokens as tokens_views

app_name = "accounts"

urlpatterns = [
    path("signup/", auth_views.SignupView.as_view(), name="signup"),
    path("signup/done/", auth_views.SignupDoneView.as_view(), name="signup-done"),
    path("verify", auth_views.VerifyEmailView.as_view(), name="verify"),
    path("verify/resend/", auth_views.ResendVerificationView.as_view(), name="verify-resend"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("forgot-password/", auth_views.ForgotPasswordView.as_view(), name="forgot-password"),
    path("forgot-password/code/", auth_views.ResetCodeView.as_view(), name="reset-code"),
    path("forgot-password/new/", auth_views.ResetPasswordView.as_view(), name="reset-password"),
    *mfa_views.urlpatterns,
    *preferences_views.urlpatterns,
    *sessions_views.urlpatterns,
    *tokens_views.urlpatterns,
    *team_views.urlpatterns,
    *organization_views.urlpatterns,
    *privacy_views.urlpatterns,
]

router = SimpleRouter()
router.register("users", users_api.UserViewSet, basename="user")

api_urlpatterns = [
    path("auth/register/", auth_api.RegisterView.as_view(), name="auth-register"),
    path("auth/verify/", auth_api.VerifyEmailView.as_view(), name="auth-verify"),
    path("auth/verify/resend/", auth_api.ResendVerificationView.as_view(), name="auth-verify-resend"),
    path("auth/login/", auth_api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh/", auth_api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout/", auth_api.LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", auth_api.MeView.as_view(), name="auth-me"),
    path("auth/forgot-password/", auth_api.ForgotPasswordView.as_view(), name="auth-forgot-password"),
    path("auth/verify-otp/", auth_api.VerifyOtpView.as_view(), name="auth-verify-otp"),
    path("auth/reset-password/", auth_api.ResetPasswordView.as_view(), name="auth-reset-password"),
    *mfa_api.api_urlpatterns,
    *sessions_api.api_urlpatterns,
    *preferences_api.api_urlpatterns,
    *tokens_api.api_urlpatterns,
    *team_api.api_urlpatterns,
    *organization_api.api_urlpatterns,
    *privacy_api.api_urlpatterns,
    *router.urls,
]
