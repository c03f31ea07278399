"""Outbound webhooks among the settings pages (managers and management):

- `crm:webhooks` the organization's endpoints, and registering one (its secret is shown on
  that answer only);
- `crm:webhook` one endpoint and its deliveries, newest first, with the answer of each one's
  latest attempt; `webhook-active` turns it off or back on, `webhook-test` pings it,
  `webhook-delete` deletes it.

Reads go through `crm.selectors`, writes through `crm.services.webhooks`; a domain error
becomes a form error or a message.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views import View
from django.views.generic import ListView

from crm.models import WebhookDelivery
from crm.selectors import webhook_delivery_list, webhook_endpoint_get, webhook_endpoint_list
from crm.services import webhooks as services
from crm.webhook_events import EVENT_CHOICES
from leadnexus.core.exceptions import ApplicationError
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView


class WebhookForm(forms.Form):
    url = forms.CharField(max_length=1000, label="URL", widget=forms.URLInput(attrs={"placeholder": "https://"}))
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)
    description = forms.CharField(max_length=200, required=False)
    secret = forms.CharField(
        min_length=16, max_length=200, required=False, help_text="Leave empty to have one made for you."
    )


class WebhookListView(LoginRequiredMixin, ServiceFormView):
    template_name = "crm/webhooks.html"
    form_class = WebhookForm

    def get_context_data(self, **kwargs):
        return super().get_context_data(endpoints=webhook_endpoint_list(user=self.request.user), **kwargs)

    def perform(self, form):
        endpoint = services.webhook_endpoint_create(actor=self.request.user, **form.cleaned_data)
        response = self.render_to_response(self.get_context_data(form=self.form_class(), new_endpoint=endpoint))
        response.status_code = 201
        response["Cache-Control"] = "no-store"  # the secret must not linger in a cache
        return response


class WebhookDetailView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "crm/webhook.html"
    context_object_name = "deliveries"

    def get_queryset(self):
        return webhook_delivery_list(user=self.request.user, endpoint_id=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        endpoint = webhook_endpoint_get(user=self.request.user, endpoint_id=self.kwargs["pk"])
        return {**super().get_context_data(**kwargs), "endpoint": endpoint}


class WebhookActiveView(LoginRequiredMixin, View):
    def post(self, request, pk):
        turn_on = request.POST.get("is_active") == "true"
        try:
            services.webhook_endpoint_update(actor=request.user, endpoint_id=pk, data={"is_active": turn_on})
            messages.success(request, "Webhook turned on." if turn_on else "Webhook turned off.")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("crm:webhook", pk)


class WebhookTestView(LoginRequiredMixin, View):
    def post(self, request, pk):
        try:
            delivery = services.webhook_endpoint_test(actor=request.user, endpoint_id=pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("crm:webhook", pk)
        if delivery.status == WebhookDelivery.Status.SUCCEEDED:
            messages.success(request, f"Ping delivered: the endpoint answered {delivery.response_code}.")
        elif delivery.attempts:
            messages.error(request, f"The ping failed: {delivery.error} It is tried again later.")
        else:
            messages.success(request, "Ping sent.")
        return redirect("crm:webhook", pk)


class WebhookDeleteView(LoginRequiredMixin, View):
    def post(self, request, pk):
        try:
            services.webhook_endpoint_delete(actor=request.user, endpoint_id=pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("crm:webhook", pk)
        messages.success(request, "Webhook deleted.")
        return redirect("crm:webhooks")


urlpatterns = [
    path("webhooks/", WebhookListView.as_view(), name="webhooks"),
    path("webhooks/<id:pk>/", WebhookDetailView.as_view(), name="webhook"),
    path("webhooks/<id:pk>/active/", WebhookActiveView.as_view(), name="webhook-active"),
    path("webhooks/<id:pk>/test/", WebhookTestView.as_view(), name="webhook-test"),
    path("webhooks/<id:pk>/delete/", WebhookDeleteView.as_view(), name="webhook-delete"),
]
