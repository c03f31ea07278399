"""The organization's settings page: every member sees it, management users edit it."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path

from accounts.policy import can_manage_organization
from accounts.selectors import OrganizationOverview, organization_overview
from accounts.services import organization as services
from leadnexus.core.views import ServiceFormView

# --- Form (shape only; the service normalizes the phone and website) ----------------------


def _time_zone_choices():
    return [(zone, zone.replace("_", " ")) for zone in services.time_zone_choices()]


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organization name")
    industry = forms.CharField(max_length=100, required=False)
    company_size = forms.ChoiceField(
        choices=[("", "Not set"), *((size, f"{size} people") for size in services.COMPANY_SIZES)],
        required=False,
    )
    website = forms.CharField(
        max_length=200, required=False, widget=forms.URLInput(attrs={"placeholder": "https://example.com"})
    )
    phone = forms.CharField(
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+1 415 555 0123"}),
        help_text="With the country code.",
    )
    time_zone = forms.ChoiceField(
        choices=_time_zone_choices, help_text="Dates in dashboards and reports follow this time zone."
    )
    response_target_minutes = forms.IntegerField(
        min_value=services.RESPONSE_TARGET_RANGE[0],
        max_value=services.RESPONSE_TARGET_RANGE[1],
        required=False,
        label="Response target (minutes)",
        help_text="New leads nobody contacts within this time are flagged and their owner told. Empty: no target.",
    )


# --- Page ------------------------------------------------------------------------------------


class OrganizationView(LoginRequiredMixin, ServiceFormView):
    template_name = "accounts/settings/organization.html"
    form_class = OrganizationForm

    def get_overview(self) -> OrganizationOverview:
        if not hasattr(self, "_overview"):
            self._overview = organization_overview(user=self.request.user)
        return self._overview

    def get_initial(self):
        organization = self.get_overview().organization
        return {field: getattr(organization, field) for field in services.MEMBER_EDITABLE}

    def perform(self, form):
        services.organization_update(actor=self.request.user, changes=form.cleaned_data)
        messages.success(self.request, "The organization's settings were saved.")
        return redirect("accounts:organization")

    def get_context_data(self, **kwargs):
        overview = self.get_overview()
        return super().get_context_data(
            overview=overview,
            organization=overview.organization,
            can_edit=can_manage_organization(self.request.user),
            **kwargs,
        )


urlpatterns = [
    path("settings/organization/", OrganizationView.as_view(), name="organization"),
]
