from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import api, views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("signup/done/", views.SignupDoneView.as_view(), name="signup-done"),
    path("verify", views.VerifyEmailView.as_view(), name="verify"),
    path("verify/resend/", views.ResendVerificationView.as_view(), name="verify-resend"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("forgot-password/", views.ForgotPasswordView.as_view(), name="forgot-password"),
    path("forgot-password/code/", views.ResetCodeView.as_view(), name="reset-code"),
    path("forgot-password/new/", views.ResetPasswordView.as_view(), name="reset-password"),
]

router = SimpleRouter()
router.register("users", api.UserViewSet, basename="user")

api_urlpatterns = [
    path("auth/register/", api.RegisterView.as_view(), name="auth-register"),
    path("auth/verify/", api.VerifyEmailView.as_view(), name="auth-verify"),
    path("auth/verify/resend/", api.ResendVerificationView.as_view(), name="auth-verify-resend"),
    path("auth/login/", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh/", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout/", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/me/", api.MeView.as_view(), name="auth-me"),
    path("auth/forgot-password/", api.ForgotPasswordView.as_view(), name="auth-forgot-password"),
    path("auth/verify-otp/", api.VerifyOtpView.as_view(), name="auth-verify-otp"),
    path("auth/reset-password/", api.ResetPasswordView.as_view(), name="auth-reset-password"),
    *router.urls,
]
