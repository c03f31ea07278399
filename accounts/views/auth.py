from django import forms as django_forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views import View
from django.views.generic import TemplateView

from accounts import forms
from accounts.exceptions import InvalidToken
from accounts.middleware import page_sign_in, page_sign_out
from accounts.services import auth as services
from accounts.services import mfa as mfa_services
from leadnexus.core.ratelimit import client_ip, rate_limit
from leadnexus.core.views import ServiceFormView

_RESET_TOKEN_SESSION_KEY = "password_reset_token"
# A sign-in waiting for its second factor: the signed `mfa_token` (the user's id and when the
# password was right), where to go afterwards and the email to show. Nobody is signed in yet.
_LOGIN_PENDING_SESSION_KEY = "login_pending"


class LoginCodeForm(django_forms.Form):
    code = django_forms.CharField(
        max_length=32,
        label="6-digit code",
        widget=django_forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "spellcheck": "false"}
        ),
    )


class SignupView(ServiceFormView):
    template_name = "accounts/signup.html"
    form_class = forms.SignupForm

    def perform(self, form):
        rate_limit("register", client_ip(self.request))
        user = services.user_register(**form.cleaned_data)
        return redirect(f"{reverse('accounts:signup-done')}?{urlencode({'email': user.email})}")


class SignupDoneView(TemplateView):
    template_name = "accounts/signup_done.html"

    def get_context_data(self, **kwargs):
        email = self.request.GET.get("email", "")
        return super().get_context_data(email=email, resend_form=forms.EmailForm(initial={"email": email}), **kwargs)


class VerifyEmailView(View):
    """The link in the verification email lands here."""

    def get(self, request):
        rate_limit("verify", client_ip(request))
        try:
            user = services.email_verify(token=request.GET.get("token", ""))
        except InvalidToken as exc:
            return render(
                request,
                "accounts/verify_failed.html",
                {"message": exc.message, "resend_form": forms.EmailForm()},
                status=exc.status,
            )
        messages.success(request, "Your email is verified. Sign in to get started.")
        return redirect(f"{reverse('accounts:login')}?{urlencode({'email': user.email})}")


class ResendVerificationView(ServiceFormView):
    template_name = "accounts/resend_verification.html"
    form_class = forms.EmailForm

    def perform(self, form):
        rate_limit("verify_resend", form.cleaned_data["email"])
        services.email_verification_resend(email=form.cleaned_data["email"])
        messages.info(self.request, "If that account waits for verification, a new link is on its way.")
        return redirect("accounts:login")


class LoginView(ServiceFormView):
    template_name = "accounts/login.html"
    form_class = forms.LoginForm

    def get_initial(self):
        return {"email": self.request.GET.get("email", "")}

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if form.initial.get("email"):  # coming back from a verify or reset link: type the password
            form.fields["email"].widget.attrs.pop("autofocus", None)
            form.fields["password"].widget.attrs["autofocus"] = True
        return form

    def perform(self, form):
        rate_limit("login", client_ip(self.request))
        start = mfa_services.login_start(**form.cleaned_data)
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if start.code_required:
            self.request.session[_LOGIN_PENDING_SESSION_KEY] = {
                "mfa_token": start.mfa_token,
                "next": target,
                "email": start.user.email,
            }
            return redirect("accounts:login-code")
        page_sign_in(self.request, start.user)
        return _after_sign_in(self.request, target)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.request.GET.get("next", ""), resend_form=forms.EmailForm(), **kwargs)


class LoginCodeView(ServiceFormView):
    """The second step of a sign-in with two-factor on: a code from the app, or (`?recovery=1`)
    a recovery code. Either is accepted in either field; the label only guides."""

    template_name = "accounts/login_code.html"
    form_class = LoginCodeForm

    def get(self, request, *args, **kwargs):
        pending = request.session.get(_LOGIN_PENDING_SESSION_KEY)
        try:
            mfa_services.login_step_user(mfa_token=(pending or {}).get("mfa_token", ""))
        except InvalidToken as exc:
            return self._start_over(exc.message if pending else "Sign in with your email and password first.")
        return super().get(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if self._recovery:
            form.fields["code"].label = "Recovery code"
            form.fields["code"].widget.attrs.update(inputmode="text", autocomplete="off")
        return form

    def perform(self, form):
        rate_limit("login", client_ip(self.request))
        pending = self.request.session.get(_LOGIN_PENDING_SESSION_KEY) or {}
        try:
            user = mfa_services.login_code_verify(
                mfa_token=pending.get("mfa_token", ""), code=form.cleaned_data["code"]
            )
        except InvalidToken as exc:
            return self._start_over(exc.message)
        page_sign_in(self.request, user)
        self.request.session.pop(_LOGIN_PENDING_SESSION_KEY, None)
        return _after_sign_in(self.request, pending.get("next", ""))

    def get_context_data(self, **kwargs):
        pending = self.request.session.get(_LOGIN_PENDING_SESSION_KEY) or {}
        return super().get_context_data(email=pending.get("email", ""), recovery=self._recovery, **kwargs)

    @property
    def _recovery(self) -> bool:
        return self.request.GET.get("recovery") == "1"

    def _start_over(self, message: str):
        self.request.session.pop(_LOGIN_PENDING_SESSION_KEY, None)
        messages.info(self.request, message)
        return redirect("accounts:login")


def _after_sign_in(request, target: str):
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("analytics:dashboard")


class LogoutView(View):
    def post(self, request):
        page_sign_out(request)
        messages.info(request, "You are signed out.")
        return redirect("core:landing")


class ForgotPasswordView(ServiceFormView):
    template_name = "accounts/forgot_password.html"
    form_class = forms.EmailForm

    def perform(self, form):
        email = form.cleaned_data["email"]
        rate_limit("forgot_password", email)
        services.password_reset_request(email=email)
        messages.info(self.request, "If an account uses that email, a 6-digit code is on its way.")
        return redirect(f"{reverse('accounts:reset-code')}?{urlencode({'email': email})}")


class ResetCodeView(ServiceFormView):
    template_name = "accounts/reset_code.html"
    form_class = forms.ResetCodeForm

    def get_initial(self):
        return {"email": self.request.GET.get("email", "")}

    def perform(self, form):
        email = form.cleaned_data["email"]
        rate_limit("code_check", email)
        reset_token = services.password_reset_code_verify(email=email, code=form.cleaned_data["otp"])
        self.request.session[_RESET_TOKEN_SESSION_KEY] = reset_token
        return redirect("accounts:reset-password")


class ResetPasswordView(ServiceFormView):
    template_name = "accounts/reset_password.html"
    form_class = forms.NewPasswordForm
    success_url = reverse_lazy("accounts:login")

    def get(self, request, *args, **kwargs):
        if _RESET_TOKEN_SESSION_KEY not in request.session:
            messages.warning(request, "Enter the code from the email first.")
            return redirect("accounts:forgot-password")
        return super().get(request, *args, **kwargs)

    def perform(self, form):
        user = services.password_reset_complete(
            reset_token=self.request.session.get(_RESET_TOKEN_SESSION_KEY, ""),
            new_password=form.cleaned_data["new_password"],
        )
        self.request.session.pop(_RESET_TOKEN_SESSION_KEY, None)
        messages.success(self.request, "Your password has been changed. Sign in with the new one.")
        return redirect(f"{reverse('accounts:login')}?{urlencode({'email': user.email})}")
