"""Goal search and saved searches, as pages under /marketplace/.

- `/marketplace/search/` (`marketplace:search`): a goal box; a goal read into its strategy,
  shown as chips above the catalog ranked by it (`?goal=<id>`, keyset pages); removing a
  chip updates the results in place with htmx (a plain form post without JavaScript); the
  strategy can also be edited as a whole; the recent goals.
- `/marketplace/saved-searches/` (`marketplace:saved-searches`): the member's saved searches
  with their new matches; `…/new/` saves catalog filters (the catalog page posts its query
  string here from `marketplace/search/_save_search.html`); `…/<id>/` opens one: its new
  matches since the previous visit; `…/<id>/edit/` and `…/<id>/delete/`.

Reads go through `marketplace.selectors` and `marketplace.goals`, writes through
`marketplace.services.search` and `marketplace.services.saved_searches`.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.generic import ListView, TemplateView

from leadnexus.core.ids import is_db_id
from leadnexus.core.pagination import preferred_page_size
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from marketplace.goals.parser import MAX_EMPLOYEES
from marketplace.goals.results import goal_results
from marketplace.selectors import require_buyer, saved_search_get, saved_search_list, search_goal_list
from marketplace.selectors_catalog import ORDERING_LABELS, catalog_page
from marketplace.services import saved_searches as saved_search_services
from marketplace.services import search as search_services
from marketplace.services.listings import MAX_PRICE
from marketplace.services.reveals import listings_disclose
from marketplace.views.catalog import FILTER_LABELS, catalog_filter_form, listing_cards

RECENT_GOALS = 10
CHIP_PARTS = ("industries", "locations", "employees", "price_max", "keywords")

# --- Forms (shape only) -------------------------------------------------------------------------


class GoalForm(forms.Form):
    goal = forms.CharField(
        max_length=search_services.MAX_GOAL_LENGTH,
        label="What are you looking for?",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. SaaS companies in California with 50+ employees under $120", "type": "search"}
        ),
    )


def _listed(text: str) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


class StrategyForm(forms.Form):
    """The whole strategy, edited by hand (lists are comma-separated)."""

    industries = forms.CharField(required=False, max_length=1100, help_text="Comma-separated.")
    locations = forms.CharField(required=False, max_length=1100, help_text='Comma-separated: "CA, Austin".')
    employee_min = forms.IntegerField(required=False, min_value=0, max_value=MAX_EMPLOYEES, label="Employees from")
    employee_max = forms.IntegerField(required=False, min_value=0, max_value=MAX_EMPLOYEES, label="Employees up to")
    price_max = forms.DecimalField(
        required=False, min_value=0, max_value=MAX_PRICE, decimal_places=2, label="Price up to"
    )
    keywords = forms.CharField(required=False, max_length=1100, help_text="Comma-separated.")

    def changes(self) -> dict:
        data = self.cleaned_data
        return {
            "industries": _listed(data["industries"]),
            "locations": _listed(data["locations"]),
            "employee_min": data["employee_min"],
            "employee_max": data["employee_max"],
            "price_max": data["price_max"],
            "keywords": _listed(data["keywords"]),
        }


def _strategy_initial(strategy: dict) -> dict:
    return {
        "industries": ", ".join(strategy.get("industries") or []),
        "locations": ", ".join(strategy.get("locations") or []),
        "employee_min": strategy.get("employee_min"),
        "employee_max": strategy.get("employee_max"),
        "price_max": strategy.get("price_max"),
        "keywords": ", ".join(strategy.get("keywords") or []),
    }


class ChipForm(forms.Form):
    part = forms.ChoiceField(choices=[(part, part) for part in CHIP_PARTS])
    value = forms.CharField(required=False, max_length=100)


class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=saved_search_services.MAX_NAME_LENGTH, label="Name")
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    notify = forms.BooleanField(required=False, initial=True, label="Tell me when new listings match")


class SavedSearchEditForm(forms.Form):
    name = forms.CharField(max_length=saved_search_services.MAX_NAME_LENGTH, label="Name")
    notify = forms.BooleanField(required=False, label="Tell me when new listings match")


class ConfirmForm(forms.Form):
    """A button: nothing to fill in but the CSRF token."""


# --- Showing strategies and filters ------------------------------------------------------------


def strategy_chips(strategy: dict) -> list[dict]:
    """The strategy as chips: {part, value, label} (value names the item a list part drops)."""
    chips = [{"part": "industries", "value": item, "label": item} for item in strategy.get("industries") or []]
    chips += [{"part": "locations", "value": item, "label": f"in {item}"} for item in strategy.get("locations") or []]
    low, high = strategy.get("employee_min"), strategy.get("employee_max")
    if low is not None or high is not None:
        if low is not None and high is not None:
            label = f"{low} to {high} employees"
        elif low is not None:
            label = f"{low}+ employees"
        else:
            label = f"up to {high} employees"
        chips.append({"part": "employees", "value": "", "label": label})
    if strategy.get("price_max") is not None:
        chips.append({"part": "price_max", "value": "", "label": f"up to {strategy['price_max']}"})
    chips += [{"part": "keywords", "value": item, "label": f"“{item}”"} for item in strategy.get("keywords") or []]
    return chips


MATCH_LABELS = {"industries": "industry", "locations": "place", "employees": "size", "price_max": "price"}


def filters_summary(filters: dict) -> str:
    """A saved search's filters in words: "Industry: Software · Price up to: 100"."""
    parts = []
    for name, value in filters.items():
        shown = ", ".join(value) if isinstance(value, list) else str(value)
        if name == "ordering":
            parts.append(f"Sorted: {ORDERING_LABELS.get(shown, shown).lower()}")
        elif name == "search":
            parts.append(f"Words: {shown}")
        elif name == "exclusive":
            parts.append("Exclusive only" if shown.lower() in ("true", "1", "yes", "on") else "Shared only")
        else:
            parts.append(f"{FILTER_LABELS.get(name, name)}: {shown}")
    return " · ".join(parts) or "Every listing"


def catalog_link(filters: dict) -> str:
    query = saved_search_services.filters_query(filters).urlencode()
    return reverse("marketplace:catalog") + (f"?{query}" if query else "")


# --- Goal search --------------------------------------------------------------------------------


class _GoalPageMixin(LoginRequiredMixin):
    """The goal search page's context: the recent goals and, for a goal, its chips and one
    page of its ranked results. An htmx request gets the results part only."""

    template_name = "marketplace/search/goal.html"
    partial_template_name = "marketplace/search/partials/results.html"

    def goal_id(self):
        return None

    def get_template_names(self):
        request = self.request
        if request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request"):
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["recent_goals"] = list(search_goal_list(user=user)[:RECENT_GOALS])
        goal_id = self.goal_id()
        if goal_id is None:
            return context
        results = goal_results(user=user, goal_id=goal_id, params=self.request.GET)
        page = catalog_page(results.catalog, cursor=self.request.GET.get("cursor"), size=preferred_page_size(user))
        listings = results.mark(listings_disclose(actor=user, listings=page.listings, context="page"))
        for listing in listings:
            listing.matched_labels = [MATCH_LABELS.get(name, f"“{name}”") for name in listing.matched]
        context.update(
            goal=results.goal,
            chips=strategy_chips(results.strategy),
            overridden=results.overridden,
            listings=listing_cards(listings),
            next_cursor=page.next_cursor,
            previous_cursor=page.previous_cursor,
            strategy_form=context.get("strategy_form") or StrategyForm(initial=_strategy_initial(results.strategy)),
        )
        return context


class GoalSearchView(_GoalPageMixin, ServiceFormView):
    """The page itself; posting a goal reads it and shows its results."""

    form_class = GoalForm

    def goal_id(self):
        raw = self.request.GET.get("goal")
        return int(raw) if raw and raw.isdigit() and is_db_id(int(raw)) else None

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Vary"] = "HX-Request"
        return response

    def get_initial(self):
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if "goal" in context and not self.request.POST:
            context["form"] = GoalForm(initial={"goal": context["goal"].goal})
        return context

    def perform(self, form):
        goal = search_services.search_goal_create(actor=self.request.user, goal=form.cleaned_data["goal"])
        return redirect(_goal_url(goal.pk))


def _goal_url(goal_id: int) -> str:
    return f"{reverse('marketplace:search')}?goal={goal_id}"


class _GoalActionView(_GoalPageMixin, ServiceFormView):
    """A change to one goal's strategy; a refusal shows on the goal's page with its status."""

    http_method_names = ["post"]

    def goal_id(self):
        return self.kwargs["pk"]


class GoalStrategyView(_GoalActionView):
    form_class = StrategyForm

    def get_context_data(self, **kwargs):
        # The strategy form, with its errors, where the page shows it; the goal box above.
        context = super().get_context_data(strategy_form=kwargs.get("form"), **kwargs)
        context["form"] = GoalForm(initial={"goal": context["goal"].goal})
        return context

    def perform(self, form):
        search_services.search_goal_update(actor=self.request.user, goal_id=self.kwargs["pk"], changes=form.changes())
        messages.success(self.request, "The strategy was updated.")
        return redirect(_goal_url(self.kwargs["pk"]))


class GoalChipRemoveView(_GoalActionView):
    """Remove one chip. Posted by htmx, the answer is a redirect to the goal's results, which
    htmx follows and swaps in; without JavaScript the whole page reloads."""

    form_class = ChipForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = GoalForm(initial={"goal": context["goal"].goal})
        return context

    def perform(self, form):
        search_services.search_goal_chip_remove(
            actor=self.request.user,
            goal_id=self.kwargs["pk"],
            part=form.cleaned_data["part"],
            value=form.cleaned_data["value"],
        )
        return redirect(_goal_url(self.kwargs["pk"]))


# --- Saved searches -----------------------------------------------------------------------------


class SavedSearchListView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "marketplace/search/saved_list.html"
    context_object_name = "saved_searches"

    def get_queryset(self):
        return saved_search_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for saved_search in context["saved_searches"]:
            saved_search.summary = filters_summary(saved_search.filters)
            saved_search.catalog_url = catalog_link(saved_search.filters)
        return context


class SavedSearchCreateView(LoginRequiredMixin, ServiceFormView):
    """Save catalog filters: posted by the catalog's "Save this search" form with its query
    string; opened directly, the form takes the filters from this page's own query string."""

    template_name = "marketplace/search/saved_new.html"
    form_class = SaveSearchForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_buyer(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"query": self.request.GET.urlencode(), "notify": True}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        query = form.data.get("query", "") if form.is_bound else form.initial.get("query", "")
        filters = saved_search_services.filters_from_query(QueryDict(query))
        context.update(filters_summary=filters_summary(filters), catalog_url=catalog_link(filters))
        return context

    def perform(self, form):
        saved_search = saved_search_services.saved_search_create(
            actor=self.request.user,
            name=form.cleaned_data["name"],
            filters=saved_search_services.filters_from_query(form.cleaned_data["query"]),
            notify=form.cleaned_data["notify"],
        )
        alerts = " We will tell you when new listings match." if saved_search.notify else ""
        messages.success(self.request, f"“{saved_search.name}” was saved.{alerts}")
        return redirect("marketplace:saved-searches")


class SavedSearchDetailView(LoginRequiredMixin, TemplateView):
    """Open a saved search: the listings that matched since the previous visit."""

    template_name = "marketplace/search/saved_detail.html"

    def get_context_data(self, **kwargs):
        visit = saved_search_services.saved_search_open(actor=self.request.user, saved_search_id=self.kwargs["pk"])
        saved_search = visit.saved_search
        return {
            **super().get_context_data(**kwargs),
            "saved_search": saved_search,
            "visit": visit,
            "listings": listing_cards(visit.new_listings),
            "summary": filters_summary(saved_search.filters),
            "catalog_url": catalog_link(saved_search.filters),
        }


class _SavedSearchMixin(LoginRequiredMixin):
    def get_saved_search(self):
        if not hasattr(self, "_saved_search"):
            self._saved_search = saved_search_get(user=self.request.user, saved_search_id=self.kwargs["pk"])
        return self._saved_search

    def get_context_data(self, **kwargs):
        return super().get_context_data(saved_search=self.get_saved_search(), **kwargs)


class SavedSearchEditView(_SavedSearchMixin, ServiceFormView):
    """Rename, switch alerts, and change the filters (the catalog's own filter fields)."""

    template_name = "marketplace/search/saved_edit.html"
    form_class = SavedSearchEditForm

    def get_initial(self):
        saved_search = self.get_saved_search()
        return {"name": saved_search.name, "notify": saved_search.notify}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.method == "POST":
            filter_form = catalog_filter_form(self.request.POST)
            filter_form.is_valid()  # its errors show on its fields
        else:
            filter_form = catalog_filter_form(saved_search_services.filters_query(self.get_saved_search().filters))
        context["filter_form"] = filter_form
        return context

    def perform(self, form):
        saved_search = saved_search_services.saved_search_update(
            actor=self.request.user,
            saved_search_id=self.kwargs["pk"],
            changes={
                "name": form.cleaned_data["name"],
                "notify": form.cleaned_data["notify"],
                "filters": saved_search_services.filters_from_query(self.request.POST),
            },
        )
        messages.success(self.request, f"“{saved_search.name}” was saved.")
        return redirect("marketplace:saved-search", saved_search.pk)


class SavedSearchDeleteView(_SavedSearchMixin, ServiceFormView):
    """Asks first (GET), deletes on POST."""

    template_name = "marketplace/search/saved_delete.html"
    form_class = ConfirmForm

    def perform(self, form):
        saved_search = saved_search_services.saved_search_delete(
            actor=self.request.user, saved_search_id=self.kwargs["pk"]
        )
        messages.success(self.request, f"“{saved_search.name}” was deleted.")
        return redirect("marketplace:saved-searches")


urlpatterns = [
    path("search/", GoalSearchView.as_view(), name="search"),
    path("search/<id:pk>/strategy/", GoalStrategyView.as_view(), name="search-strategy"),
    path("search/<id:pk>/chips/remove/", GoalChipRemoveView.as_view(), name="search-chip-remove"),
    path("saved-searches/", SavedSearchListView.as_view(), name="saved-searches"),
    path("saved-searches/new/", SavedSearchCreateView.as_view(), name="saved-search-new"),
    path("saved-searches/<id:pk>/", SavedSearchDetailView.as_view(), name="saved-search"),
    path("saved-searches/<id:pk>/edit/", SavedSearchEditView.as_view(), name="saved-search-edit"),
    path("saved-searches/<id:pk>/delete/", SavedSearchDeleteView.as_view(), name="saved-search-delete"),
]
