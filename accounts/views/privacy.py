"""The data protection page (settings): export one person's data, or erase it. For management
users allowed to (`accounts.policy`); staff use the admin for every organization."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.urls import path

from accounts import policy
from accounts.forms import PersonForm
from accounts.services import privacy as services
from leadnexus.core.views import ServiceFormView


class PrivacyView(LoginRequiredMixin, ServiceFormView):
    template_name = "accounts/settings/privacy.html"
    form_class = PersonForm

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (
            policy.can_export_personal_data(user) or policy.can_erase_personal_data(user)
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        # The organization's own data, staff included (they reach every one from the admin).
        person = {
            "email": form.cleaned_data["email"],
            "phone": form.cleaned_data["phone"],
            "organization_id": self.request.user.organization_id,
        }
        if self.request.POST.get("action") != "erase":
            return services.person_export(actor=self.request.user, **person).download()
        if not form.cleaned_data["confirm"]:
            form.add_error("confirm", "Tick this box to erase.")
            return self.form_invalid(form)
        erasure = services.person_erase(actor=self.request.user, **person)
        return self.render_to_response(self.get_context_data(form=self.form_class(), erasure=erasure))

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            can_export=policy.can_export_personal_data(user), can_erase=policy.can_erase_personal_data(user), **kwargs
        )


urlpatterns = [
    path("settings/privacy/", PrivacyView.as_view(), name="privacy"),
]
