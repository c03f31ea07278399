from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.views import View

from accounts.selectors import api_token_list
from accounts.services.tokens import api_token_create, api_token_revoke
from leadnexus.core.views import ServiceFormView

_EXPIRY_CHOICES = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Zapier” or “nightly export”.")
    expires_in_days = forms.TypedChoiceField(
        choices=_EXPIRY_CHOICES, coerce=int, empty_value=None, required=False, label="Expires"
    )


class ApiTokenListView(LoginRequiredMixin, ServiceFormView):
    """List tokens and create one; a new key is shown on the answer to the creation only."""

    template_name = "accounts/settings/api_tokens.html"
    form_class = ApiTokenForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(tokens=api_token_list(user=self.request.user), **kwargs)

    def perform(self, form):
        days = form.cleaned_data["expires_in_days"]
        issued = api_token_create(
            actor=self.request.user,
            name=form.cleaned_data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        context = self.get_context_data(form=self.form_class(), new_key=issued.key, new_token=issued.token)
        response = self.render_to_response(context)
        response.status_code = 201
        response["Cache-Control"] = "no-store"  # the key must not linger in a cache
        return response


class ApiTokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, token_id: int):
        token = api_token_revoke(actor=request.user, token_id=token_id)
        messages.success(request, f"The token “{token.name}” is revoked; requests using it are refused from now on.")
        return redirect("accounts:api-tokens")


urlpatterns = [
    path("settings/api-tokens/", ApiTokenListView.as_view(), name="api-tokens"),
    path("settings/api-tokens/<id:token_id>/revoke/", ApiTokenRevokeView.as_view(), name="api-token-revoke"),
]
