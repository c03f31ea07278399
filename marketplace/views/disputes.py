"""Pages after the sale: disputes (open one on a purchase, the vendor's response, staff's
decision), the buyer's wallet and the vendor's earnings.

- `marketplace:purchase-dispute` the form to dispute a purchase within its window.
- `marketplace:disputes` yours as buyer or vendor (staff: every one, `?buyer=` one buyer's),
  open ones first → `marketplace:dispute` with the respond form (vendor) or the decision form
  (staff).
- `marketplace:wallet` and `marketplace:earnings`: balances and movements, read from the ledger.

Writes call `marketplace.services.disputes`, as the API does.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views.generic import ListView, TemplateView

from leadnexus.core.ids import is_db_id
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from marketplace.models import Dispute
from marketplace.selectors_buying import dispute_get, dispute_list, earnings_statement, purchase_get, wallet_statement
from marketplace.services import disputes as services
from marketplace.services.checkout import wallet_available
from marketplace.views.buying import BuyerRequiredMixin


class DisputeOpenForm(forms.Form):
    reason = forms.ChoiceField(choices=Dispute.Reason.choices, widget=forms.RadioSelect)
    details = forms.CharField(
        max_length=services.MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What you found: the bounce message, who answered the phone...",
    )


class DisputeRespondForm(forms.Form):
    response = forms.CharField(max_length=services.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 4}))


class DisputeResolveForm(forms.Form):
    decision = forms.ChoiceField(choices=Dispute.Decision.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        max_length=services.MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Both sides read it.",
    )


class DisputeOpenView(BuyerRequiredMixin, ServiceFormView):
    template_name = "marketplace/disputes/open.html"
    form_class = DisputeOpenForm

    def get_context_data(self, **kwargs):
        purchase = purchase_get(user=self.request.user, purchase_id=self.kwargs["pk"])
        return {**super().get_context_data(**kwargs), "purchase": purchase}

    def perform(self, form):
        dispute = services.dispute_open(actor=self.request.user, purchase_id=self.kwargs["pk"], **form.cleaned_data)
        messages.success(self.request, "Dispute opened. The vendor and our staff are told.")
        return redirect("marketplace:dispute", dispute.pk)


class DisputeListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "marketplace/disputes/list.html"
    context_object_name = "disputes"

    def get_queryset(self):
        disputes = dispute_list(user=self.request.user)
        buyer = self.request.GET.get("buyer")
        return disputes.filter(buyer_id=buyer) if self.request.user.is_staff and is_db_id(buyer) else disputes


class DisputeDetailView(LoginRequiredMixin, ServiceFormView):
    """A dispute; its form is the vendor's response or staff's decision, whichever the
    viewer may give now (none once it is decided)."""

    template_name = "marketplace/disputes/detail.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.dispute = dispute_get(user=request.user, dispute_id=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        user, dispute = self.request.user, self.dispute
        if dispute.status not in services.OPEN_STATES:
            return None
        if user.is_staff:
            return DisputeResolveForm
        if dispute.vendor_id == user.organization_id and dispute.status == Dispute.Status.OPEN:
            return DisputeRespondForm
        return None

    def get_form(self, form_class=None):
        form_class = form_class or self.get_form_class()
        return form_class(**self.get_form_kwargs()) if form_class else None

    def post(self, request, *args, **kwargs):
        if self.get_form_class() is None:
            messages.error(request, "This dispute takes no more answers.")
            return redirect("marketplace:dispute", self.dispute.pk)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "dispute": self.dispute}

    def perform(self, form):
        if isinstance(form, DisputeResolveForm):
            services.dispute_resolve(actor=self.request.user, dispute_id=self.dispute.pk, **form.cleaned_data)
            messages.success(self.request, "Dispute resolved. Both sides are told.")
        else:
            services.dispute_respond(actor=self.request.user, dispute_id=self.dispute.pk, **form.cleaned_data)
            messages.success(self.request, "Response sent.")
        return redirect("marketplace:dispute", self.dispute.pk)


class WalletView(BuyerRequiredMixin, TemplateView):
    template_name = "marketplace/disputes/wallet.html"

    def get_context_data(self, **kwargs):
        statement = wallet_statement(user=self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "balance": statement.balances["wallet"],
            "available": wallet_available(organization_id=self.request.user.organization_id),
            "entries": statement.entries,
        }


class EarningsView(LoginRequiredMixin, TemplateView):
    template_name = "marketplace/disputes/earnings.html"

    def get_context_data(self, **kwargs):
        statement = earnings_statement(user=self.request.user)
        return {
            **super().get_context_data(**kwargs),
            "balances": statement.balances,
            "entries": statement.entries,
        }


urlpatterns = [
    path("purchases/<id:pk>/dispute/", DisputeOpenView.as_view(), name="purchase-dispute"),
    path("disputes/", DisputeListView.as_view(), name="disputes"),
    path("disputes/<id:pk>/", DisputeDetailView.as_view(), name="dispute"),
    path("wallet/", WalletView.as_view(), name="wallet"),
    path("earnings/", EarningsView.as_view(), name="earnings"),
]
