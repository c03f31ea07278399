from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import auth as auth_api
from accounts.api import users as users_api
from accounts.views import auth as auth_views

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
    *router.urls,
]
