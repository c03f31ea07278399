"""Goal search and saved searches through the API.

- `POST /api/search/goals/` {goal} reads a goal in plain words into a strategy and keeps it
  (quota `search_goals`); `GET` lists the caller's goals (their history), `GET …/{id}/` one,
  `PATCH …/{id}/` {strategy: {…}} edits parts of its strategy.
- `GET /api/search/results/?goal=<id>` the catalog ranked by that goal's strategy, keyset
  pages like the catalog, the catalog's Listing payload (masked alike) plus `relevance` and
  `matched`; catalog filters in the query apply and replace the strategy's part they name.
- `CRUD /api/marketplace/saved-searches/`, `GET …/{id}/matches/` (the listings that matched
  it, `?new=true` since the last visit) and `POST …/{id}/viewed/` (mark it visited).

Goal search and saved searches are for members of buyer organizations who may buy (and
staff); each member sees only their own goals and searches (anyone else's are not found).
"""

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from leadnexus.core.api import RecordViewSet, ServiceViewSet
from leadnexus.core.filters import MAX_SEARCH_LENGTH
from leadnexus.core.ids import IdField
from marketplace import selectors
from marketplace.api.catalog import CatalogPagination, ListingOutputSerializer
from marketplace.goals.parser import MAX_EMPLOYEES, MAX_TERM_LENGTH, MAX_TERMS
from marketplace.goals.results import goal_results
from marketplace.models import Listing, SavedSearch, SavedSearchMatch, SearchGoal
from marketplace.selectors_catalog import ORDERING_LABELS, CatalogFilter
from marketplace.services import saved_searches as saved_search_services
from marketplace.services import search as search_services
from marketplace.services.listings import MAX_PRICE
from marketplace.services.reveals import listings_disclose

# --- Goals ------------------------------------------------------------------------------------


def _terms(help_text: str, **kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=MAX_TERM_LENGTH),
        max_length=MAX_TERMS,
        help_text=help_text,
        **kwargs,
    )


class StrategySerializer(serializers.Serializer):
    """A search strategy: every part optional; empty lists and nulls ask nothing."""

    industries = _terms("Catalog industries, any of them.")
    locations = _terms('Places, any of them, read like the catalog\'s location filter ("CA", "Austin").')
    employee_min = serializers.IntegerField(min_value=0, max_value=MAX_EMPLOYEES, allow_null=True)
    employee_max = serializers.IntegerField(min_value=0, max_value=MAX_EMPLOYEES, allow_null=True)
    price_max = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, max_value=MAX_PRICE, allow_null=True, help_text="Price cap."
    )
    keywords = _terms("Words searched in the title, description, industry, location and company.")


class StrategyUpdateSerializer(StrategySerializer):
    """Only the parts sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class SearchGoalInputSerializer(serializers.Serializer):
    goal = serializers.CharField(
        max_length=search_services.MAX_GOAL_LENGTH,
        help_text='A business goal in plain words, e.g. "SaaS companies in California with 50+ employees under $120".',
    )


class SearchGoalUpdateInputSerializer(serializers.Serializer):
    strategy = StrategyUpdateSerializer()


class SearchGoalOutputSerializer(serializers.ModelSerializer):
    strategy = StrategySerializer(help_text="What the goal was read as (and edited to).")

    class Meta:
        model = SearchGoal
        fields = ["id", "goal", "strategy", "created_at"]


@extend_schema_view(
    list=extend_schema(summary="Your goal searches, newest first (your history)"),
    retrieve=extend_schema(summary="One of your goal searches"),
    create=extend_schema(
        summary="Read a business goal into a search strategy (quota: search_goals)",
        request=SearchGoalInputSerializer,
        responses={201: SearchGoalOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit parts of a goal's strategy (the chips above its results)",
        request=SearchGoalUpdateInputSerializer,
        responses={200: SearchGoalOutputSerializer},
    ),
)
class SearchGoalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = SearchGoalOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = SearchGoal.objects.none()
    filter_backends = []
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.search_goal_list(user=self.request.user)

    def get_object(self):
        return selectors.search_goal_get(user=self.request.user, goal_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = self.validated(SearchGoalInputSerializer)
        return self.respond(search_services.search_goal_create(actor=request.user, goal=data["goal"]), status=201)

    def partial_update(self, request, *args, **kwargs):
        changes = dict(self.validated(SearchGoalUpdateInputSerializer)["strategy"])
        return self.respond(
            search_services.search_goal_update(actor=request.user, goal_id=self.object_id, changes=changes)
        )


# --- Results ----------------------------------------------------------------------------------


class GoalResultOutputSerializer(ListingOutputSerializer):
    """A catalog listing (the Listing payload, masked alike) and how it meets the strategy."""

    # The status choice set is documented once, on ListingOutput (as the catalog's other
    # listing payloads do): a second component naming it would need a schema-wide enum name.
    status = serializers.CharField(help_text="available, sold_out or withdrawn (see ListingOutput).")
    relevance = serializers.IntegerField(help_text="How many parts of the strategy the listing matches.")
    matched = serializers.ListField(
        child=serializers.CharField(),
        help_text="The parts it matches: industries, locations, employees, price_max, and each keyword.",
    )

    def to_representation(self, listing) -> dict:
        return {**super().to_representation(listing), "relevance": listing.relevance, "matched": listing.matched}


class GoalResultsPagination(CatalogPagination):
    """The catalog's keyset pages, with the goal and the strategy in effect beside them."""

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {**self.extra, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["required"] = ["goal", "strategy", "overridden", "results"]
        envelope["properties"] = {
            "goal": {
                "type": "object",
                "required": ["id", "goal"],
                "properties": {"id": {"type": "integer"}, "goal": {"type": "string"}},
            },
            "strategy": {
                "type": "object",
                "description": "The strategy in effect: the goal's, less the parts explicit filters replaced.",
                "additionalProperties": True,
            },
            "overridden": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The strategy's parts replaced by explicit catalog filters.",
            },
            **envelope["properties"],
        }
        return envelope


class GoalResultsQuerySerializer(serializers.Serializer):
    goal = IdField(help_text="One of your goals (POST search/goals).")


class GoalResultsView(GenericAPIView):
    """The catalog ranked by one of the caller's goals."""

    serializer_class = GoalResultOutputSerializer
    # Names the model for schema introspection only: goal_results() scopes every request.
    queryset = Listing.objects.none()
    pagination_class = GoalResultsPagination
    # For the documentation of the catalog filters this endpoint also takes.
    filter_backends = [DjangoFilterBackend]
    filterset_class = CatalogFilter

    @extend_schema(
        summary="The catalog ranked by a goal's strategy (keyset pages)",
        description="Listings matching more parts of the strategy first, then by score, among the best-scored "
        "candidates. Any catalog filter given applies as in the catalog and replaces the strategy's part it "
        "names (industry, location, price_max, search); `ordering` does not apply here.",
        parameters=[OpenApiParameter("goal", OpenApiTypes.INT, required=True, description="One of your goals.")],
        responses={200: GoalResultOutputSerializer(many=True)},
    )
    def get(self, request):
        query = GoalResultsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        results = goal_results(user=request.user, goal_id=query.validated_data["goal"], params=request.query_params)
        listings = self.paginator.paginate_catalog(results.catalog, request)
        listings = results.mark(listings_disclose(actor=request.user, listings=listings, context="api"))
        self.paginator.extra = {
            "goal": {"id": results.goal.pk, "goal": results.goal.goal},
            "strategy": results.strategy,
            "overridden": results.overridden,
        }
        return self.get_paginated_response(GoalResultOutputSerializer(listings, many=True).data)


# --- Saved searches ---------------------------------------------------------------------------


class SavedSearchFiltersSerializer(serializers.Serializer):
    """Catalog filters, as `GET /api/marketplace/listings/` takes them."""

    industry = _terms("Any of these industries.", required=False)
    location = _terms("Any of these places.", required=False)
    price_min = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, max_value=MAX_PRICE, required=False
    )
    price_max = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, max_value=MAX_PRICE, required=False
    )
    min_score = serializers.IntegerField(min_value=0, max_value=100, required=False)
    exclusive = serializers.BooleanField(required=False)
    vendor_quality_min = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=999, required=False
    )
    search = serializers.CharField(max_length=MAX_SEARCH_LENGTH, required=False, allow_blank=True)
    ordering = serializers.ChoiceField(choices=list(ORDERING_LABELS), required=False)


class SavedSearchInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=saved_search_services.MAX_NAME_LENGTH)
    filters = SavedSearchFiltersSerializer(required=False, default=dict)
    notify = serializers.BooleanField(
        required=False, default=True, help_text="Be told when newly approved listings match."
    )


class SavedSearchUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=saved_search_services.MAX_NAME_LENGTH, required=False)
    filters = SavedSearchFiltersSerializer(required=False, help_text="Replaces the filters as a whole.")
    notify = serializers.BooleanField(required=False)


def _filters(data: dict) -> dict:
    """Typed filters as the catalog's query values (what the service checks and stores)."""
    values = {}
    for name, value in data.items():
        if isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, list):
            values[name] = [str(item) for item in value]
        else:
            values[name] = str(value)
    return values


class SavedSearchOutputSerializer(serializers.ModelSerializer):
    filters = SavedSearchFiltersSerializer()
    new_matches = serializers.IntegerField(
        read_only=True, help_text="Listings approved since your last visit that match it and are still for sale."
    )
    query = serializers.SerializerMethodField(help_text="The filters as the catalog's query string.")

    class Meta:
        model = SavedSearch
        fields = ["id", "name", "filters", "notify", "new_matches", "last_viewed_at", "created_at", "query"]

    def get_query(self, saved_search) -> str:
        return saved_search_services.filters_query(saved_search.filters).urlencode()


class SavedSearchMatchOutputSerializer(serializers.ModelSerializer):
    listing = ListingOutputSerializer()
    is_new = serializers.BooleanField(help_text="Matched since the search's last visit.")

    class Meta:
        model = SavedSearchMatch
        fields = ["listing", "matched_at", "is_new"]


class MatchesQuerySerializer(serializers.Serializer):
    new = serializers.BooleanField(required=False, default=False)


_NEW = OpenApiParameter("new", OpenApiTypes.BOOL, description="true: only the matches since the last visit.")


@extend_schema_view(
    list=extend_schema(summary="Your saved searches, each with its new matches since your last visit"),
    retrieve=extend_schema(summary="One of your saved searches"),
    create=extend_schema(
        summary="Save catalog filters (alerts on by default)",
        request=SavedSearchInputSerializer,
        responses={201: SavedSearchOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Rename a saved search, change its filters or switch its alerts",
        request=SavedSearchUpdateInputSerializer,
        responses={200: SavedSearchOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete a saved search", responses={204: OpenApiResponse(description="Deleted")}),
)
class SavedSearchViewSet(RecordViewSet):
    serializer_class = SavedSearchOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = SavedSearch.objects.none()
    filter_backends = []

    def get_queryset(self):
        return selectors.saved_search_list(user=self.request.user)

    def get_object(self):
        return selectors.saved_search_get(user=self.request.user, saved_search_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = self.validated(SavedSearchInputSerializer)
        saved_search = saved_search_services.saved_search_create(
            actor=request.user, name=data["name"], filters=_filters(data["filters"]), notify=data["notify"]
        )
        return self.respond(saved_search, status=201)

    def partial_update(self, request, *args, **kwargs):
        changes = dict(self.validated(SavedSearchUpdateInputSerializer))
        if "filters" in changes:
            changes["filters"] = _filters(changes["filters"])
        return self.respond(
            saved_search_services.saved_search_update(
                actor=request.user, saved_search_id=self.object_id, changes=changes
            )
        )

    def destroy(self, request, *args, **kwargs):
        saved_search_services.saved_search_delete(actor=request.user, saved_search_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The catalog listings that matched this saved search, newest first",
        parameters=[_NEW],
        responses={200: SavedSearchMatchOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def matches(self, request, pk=None):
        query = MatchesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        new = query.validated_data["new"]
        matches = selectors.saved_search_match_list(user=request.user, saved_search_id=self.object_id, new=new)
        page = self.paginate_queryset(matches)
        listings_disclose(actor=request.user, listings=[match.listing for match in page], context="api")
        return self.get_paginated_response(SavedSearchMatchOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Mark a saved search visited: its matches so far are no longer new",
        request=None,
        responses={200: SavedSearchOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def viewed(self, request, pk=None):
        return self.respond(
            saved_search_services.saved_search_viewed(actor=request.user, saved_search_id=self.object_id)
        )


router = SimpleRouter()
router.register("search/goals", SearchGoalViewSet, basename="search-goal")
router.register("marketplace/saved-searches", SavedSearchViewSet, basename="saved-search")

api_urlpatterns = [
    path("search/results/", GoalResultsView.as_view(), name="search-results"),
    *router.urls,
]
