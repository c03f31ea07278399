"""Catalog pages under /marketplace/: the catalog itself (filters, sort, keyset pages), one
listing, and the catalog as a file.

Anyone may browse the catalog and open a listing, signed in or not; contacts are masked
unless the viewer is the vendor, staff or an organization that bought it (each page that
shows them in full is logged). Reads go through `marketplace.selectors_catalog`, the
disclosure through `marketplace.services.reveals`.
"""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import path
from django.views import View
from django.views.generic import TemplateView

from accounts.policy import permissions_of
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.views import PreferredPageSizeMixin
from marketplace.models import Listing
from marketplace.policy import can_buy, can_search_as_buyer
from marketplace.selectors_catalog import (
    ORDERING_LABELS,
    CatalogFilter,
    catalog_page,
    catalog_search,
    listing_contacts,
    listing_get,
    listing_quality,
    score_breakdown,
)
from marketplace.services.cart import listing_in_cart, listing_in_your_leads, listing_problem
from marketplace.services.reveals import catalog_export, listings_disclose

FILTER_LABELS = {
    "industry": "Industry",
    "location": "Location",
    "price_min": "Price from",
    "price_max": "Price up to",
    "min_score": "Score from",
    "exclusive": "Exclusive",
    "vendor_quality_min": "Vendor quality from",
}


def listing_cards(listings) -> list[Listing]:
    """Disclosed listings with their contact fields as the viewer may see them
    (`listing.contacts`) and their vendor's quality (`listing.vendor_figures`), for
    `marketplace/catalog/partials/card.html`."""
    for listing in listings:
        listing.contacts = listing_contacts(listing, revealed=listing.contacts_revealed)
        listing.vendor_figures = listing_quality(listing)
    return listings


def catalog_filter_form(data):
    """The catalog's filters as a page form (the shared `CatalogFilter`, with page widgets)."""
    form = CatalogFilter(data=data or None, queryset=Listing.objects.none()).form
    fields = form.fields
    fields["search"].widget = forms.TextInput(
        attrs={"type": "search", "placeholder": "Search title, industry, location, company", "aria-label": "Search"}
    )
    for name in ("industry", "location"):
        fields[name].widget = forms.TextInput()
    fields["industry"].widget.attrs["placeholder"] = "e.g. Software"
    fields["location"].widget.attrs["placeholder"] = "e.g. CA or Austin"
    fields["exclusive"].widget = forms.Select(choices=[("", "Any"), ("true", "Exclusive only"), ("false", "Shared")])
    fields["ordering"].widget = forms.Select(choices=[("", "Best match"), *ORDERING_LABELS.items()])
    fields["ordering"].widget.attrs["aria-label"] = "Sort by"
    for name in ("price_min", "price_max"):
        fields[name].widget = forms.NumberInput(attrs={"min": 0, "step": "0.01"})
    fields["min_score"].widget = forms.NumberInput(attrs={"min": 0, "max": 100})
    fields["vendor_quality_min"].widget = forms.NumberInput(attrs={"min": 0, "step": "0.1"})
    for name, label in FILTER_LABELS.items():
        fields[name].label = label
    return form


class CatalogView(PreferredPageSizeMixin, TemplateView):
    """The catalog, filtered by the query string and paged by cursor. An htmx request (the
    filter form changing) gets only the results, for the page to swap in."""

    template_name = "marketplace/catalog/list.html"
    partial_template_name = "marketplace/catalog/partials/results.html"

    def get_template_names(self):
        request = self.request
        if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
            return [self.partial_template_name]
        return [self.template_name]

    def get(self, request, *args, **kwargs):
        form = catalog_filter_form(request.GET)
        context = {
            "filter_form": form,
            "filtered": any(value for key, value in request.GET.items() if key not in ("cursor", "ordering")),
            "can_export": request.user.is_authenticated and permissions_of(request.user)["can_export"],
            "can_save_search": can_search_as_buyer(request.user),
            "listings": [],
            "next_cursor": None,
            "previous_cursor": None,
        }
        status = 200
        try:
            catalog = catalog_search(user=request.user, params=request.GET)
        except ValidationFailed:
            form.is_valid()  # the same errors, shown on the fields
            status = 400
        else:
            page = catalog_page(catalog, cursor=request.GET.get("cursor"), size=self.get_paginate_by(None))
            listings = listings_disclose(actor=request.user, listings=page.listings, context="page")
            context.update(
                listings=listing_cards(listings),
                next_cursor=page.next_cursor,
                previous_cursor=page.previous_cursor,
                ordering=catalog.ordering,
                ordering_label=ORDERING_LABELS[catalog.ordering].lower(),
            )
        response = self.render_to_response(self.get_context_data(**context), status=status)
        response["Vary"] = "HX-Request"
        return response


class ListingDetailView(TemplateView):
    """What a buyer needs to decide: the facts, the score and its breakdown, the vendor's
    quality, the price and how many remain; the contacts masked or in full."""

    template_name = "marketplace/catalog/detail.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        listing = listing_get(user=user, listing_id=self.kwargs["pk"])
        listings_disclose(actor=user, listings=[listing], context="page")
        listing_cards([listing])
        own = user.is_authenticated and listing.vendor_id == user.organization_id
        buyer = can_buy(user) and not own
        return {
            **super().get_context_data(**kwargs),
            "listing": listing,
            "breakdown": score_breakdown(listing),
            "own": own,
            "reviewer": user.is_authenticated and user.is_staff,
            "in_cart": buyer and listing_in_cart(user=user, listing_id=listing.pk),
            "in_your_leads": buyer and listing_in_your_leads(user=user, listing=listing),
            "can_add_to_cart": buyer and listing_problem(user, listing, bought=listing.is_purchased) is None,
        }


class CatalogExportView(LoginRequiredMixin, View):
    """The catalog as a file, with the catalog page's own query string and `?format=csv|xlsx`."""

    def get(self, request):
        return catalog_export(actor=request.user, params=request.GET, format=request.GET.get("format") or None)


urlpatterns = [
    path("", CatalogView.as_view(), name="catalog"),
    path("export/", CatalogExportView.as_view(), name="catalog-export"),
    path("listings/<id:pk>/", ListingDetailView.as_view(), name="listing"),
]
