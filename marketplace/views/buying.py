"""Buying pages under /marketplace/: the cart, the checkout (pay with wallet credit and/or a
card), orders, purchases, and a vendor's sales.

- `marketplace:cart` the cart with stale items flagged and a warning where a listing's person
  is already one of the organization's leads; `cart-add` (from a listing's page) and
  `cart-remove`; its checkout button freezes the cart into an order and opens `pay`.
- `marketplace:pay` the order's amount due and a card form (the mock provider's test cards
  are named on the page); a declined card is a form error, and another card can be tried.
- `marketplace:orders` → `order` (items, payment, the leads delivered);
  `marketplace:purchases` every purchase with its lead; `marketplace:sales` (vendors).

Every write calls the checkout and cart services the API calls; a domain error becomes a
form error or a message.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.views import View
from django.views.generic import ListView, TemplateView

from leadnexus.core.exceptions import ApplicationError, PermissionDenied
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from marketplace.models import Payment
from marketplace.payments.mock import DECLINES
from marketplace.policy import can_buy
from marketplace.selectors_buying import order_get, order_list, purchase_list, sale_list
from marketplace.services import cart as cart_services
from marketplace.services import checkout as checkout_services

TEST_CARDS = [
    ("4242424242424242", "succeeds"),
    *((number, code.replace("_", " ")) for number, (code, _) in DECLINES.items()),
]


class BuyerRequiredMixin(LoginRequiredMixin):
    """Pages of the buying side: members of a buyer organization allowed to buy."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_buy(request.user):
            raise PermissionDenied("Buying is for members of a buyer organization allowed to buy.")
        return super().dispatch(request, *args, **kwargs)


class CheckoutForm(forms.Form):
    use_wallet_credit = forms.BooleanField(required=False, label="Pay with wallet credit first")


class CardForm(forms.Form):
    card_number = forms.CharField(
        max_length=30,
        required=False,
        label="Card number",
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )


# --- The cart ----------------------------------------------------------------------------------


class CartView(BuyerRequiredMixin, ServiceFormView):
    template_name = "marketplace/buying/cart.html"
    form_class = CheckoutForm

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "cart": cart_services.cart_view(user=user),
            "wallet_available": checkout_services.wallet_available(organization_id=user.organization_id),
        }

    def perform(self, form):
        order = checkout_services.checkout_create_intent(
            actor=self.request.user, use_wallet_credit=form.cleaned_data["use_wallet_credit"]
        )
        return redirect("marketplace:pay", order.pk)


class CartAddView(BuyerRequiredMixin, View):
    def post(self, request, pk):
        try:
            item = cart_services.cart_add(actor=request.user, listing_id=pk)
        except ApplicationError as exc:
            # Back to the catalog: the listing's own page may be gone with it (sold out).
            messages.error(request, exc.message)
            return redirect("marketplace:catalog")
        messages.success(request, f"“{item.listing.title}” is in your cart.")
        return redirect("marketplace:cart")


class CartRemoveView(BuyerRequiredMixin, View):
    def post(self, request, pk):
        try:
            cart_services.cart_remove(actor=request.user, item_id=pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("marketplace:cart")


# --- Paying ------------------------------------------------------------------------------------


class PayView(BuyerRequiredMixin, ServiceFormView):
    template_name = "marketplace/buying/pay.html"
    form_class = CardForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and can_buy(request.user):
            self.order = order_get(user=request.user, order_id=kwargs["pk"])
            if self.order.payment.status == Payment.Status.SUCCEEDED:
                return redirect("marketplace:order", self.order.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "order": self.order,
            "payment": self.order.payment,
            "test_cards": TEST_CARDS if settings.PAYMENTS_PROVIDER == "mock" else [],
        }

    def perform(self, form):
        order = checkout_services.checkout_confirm(
            actor=self.request.user,
            intent_id=self.order.payment.intent_id,
            card_number=form.cleaned_data["card_number"],
        )
        messages.success(self.request, "Paid. The leads are in your pipeline.")
        return redirect("marketplace:order", order.pk)


# --- Orders, purchases, sales ----------------------------------------------------------------------


class OrderListView(BuyerRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "marketplace/buying/orders.html"
    context_object_name = "orders"

    def get_queryset(self):
        return order_list(user=self.request.user)


class OrderDetailView(BuyerRequiredMixin, TemplateView):
    template_name = "marketplace/buying/order_detail.html"

    def get_context_data(self, **kwargs):
        order = order_get(user=self.request.user, order_id=self.kwargs["pk"])
        return {**super().get_context_data(**kwargs), "order": order, "payment": order.payment}


class PurchaseListView(BuyerRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "marketplace/buying/purchases.html"
    context_object_name = "purchases"

    def get_queryset(self):
        return purchase_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "now": timezone.now()}


class SaleListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "marketplace/buying/sales.html"
    context_object_name = "sales"

    def get_queryset(self):
        return sale_list(user=self.request.user)


urlpatterns = [
    path("cart/", CartView.as_view(), name="cart"),
    path("cart/add/<id:pk>/", CartAddView.as_view(), name="cart-add"),
    path("cart/items/<id:pk>/remove/", CartRemoveView.as_view(), name="cart-remove"),
    path("orders/", OrderListView.as_view(), name="orders"),
    path("orders/<id:pk>/", OrderDetailView.as_view(), name="order"),
    path("orders/<id:pk>/pay/", PayView.as_view(), name="pay"),
    path("purchases/", PurchaseListView.as_view(), name="purchases"),
    path("sales/", SaleListView.as_view(), name="sales"),
]
