"""The catalog ranked by a goal's strategy."""

from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict

from accounts.models import User
from marketplace.goals.parser import strategy_empty
from marketplace.models import Listing
from marketplace.selectors import search_goal_get
from marketplace.selectors_catalog import (
    Catalog,
    CatalogFilter,
    catalog_search,
    industry_q,
    location_q,
    plain_search_q,
)
from marketplace.services.listings import SEARCH_CONFIG

# --- Ranking the catalog by a strategy -------------------------------------------------------

# How many catalog listings a goal ranks: the best-scored ones that match every part of the
# strategy, and the best-scored ones that match any part. Ranking a few hundred rows is cheap
# whatever the catalog's size; ranking every listing that shares a common industry is not.
# The pages after those are the catalog's, with its filters.
RESULT_CANDIDATES = 500

# Explicit catalog filters that replace a part of the strategy; the others only narrow it.
OVERRIDES = {"industry": "industries", "location": "locations", "price_max": "price_max", "search": "keywords"}


def _keyword_q(word: str) -> Q:
    # The catalog's search on one word: the stored search vector on PostgreSQL (stemmed), a
    # plain match over the same fields elsewhere.
    if connection.vendor == "postgresql":
        return Q(search_vector=SearchQuery(word, search_type="plain", config=SEARCH_CONFIG))
    return plain_search_q([word])


def strategy_criteria(strategy: dict) -> list[tuple[str, Q]]:
    """Each part of the strategy as a condition on listings, with the name results report it
    by: industries, locations, employees, price_max, and each keyword."""
    criteria = []
    if strategy.get("industries"):
        criteria.append(("industries", industry_q(strategy["industries"])))
    if strategy.get("locations"):
        criteria.append(("locations", location_q(strategy["locations"])))
    size = Q()
    if strategy.get("employee_min") is not None:
        size &= Q(employee_count__gte=strategy["employee_min"])
    if strategy.get("employee_max") is not None:
        size &= Q(employee_count__lte=strategy["employee_max"])
    if size:
        criteria.append(("employees", size))
    if strategy.get("price_max") is not None:
        criteria.append(("price_max", Q(price__lte=Decimal(strategy["price_max"]))))
    criteria.extend((word, _keyword_q(word)) for word in strategy.get("keywords") or [])
    return criteria


def strategy_ranked(base: QuerySet, criteria: list[tuple[str, Q]]) -> QuerySet:
    """The candidates of `base` for these criteria, each annotated with `match_<n>` (0 or 1 per
    criterion), `relevance` (how many it matches) and `rank` (relevance, then score, as one
    number for keyset pages: `relevance * 100000 + catalog_score`, the listing score in
    hundredths that blends in the vendor's quality)."""
    conditions = [condition for _, condition in criteria]
    if not conditions:
        pools = [base]
    elif len(conditions) == 1:
        pools = [base.filter(conditions[0])]
    else:
        pools = [base.filter(reduce(and_, conditions)), base.filter(reduce(or_, conditions))]
    candidates = reduce(
        or_, (Q(pk__in=pool.order_by("-catalog_score", "-pk").values("pk")[:RESULT_CANDIDATES]) for pool in pools)
    )
    flags = {
        f"match_{index}": Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())
        for index, condition in enumerate(conditions)
    }
    relevance = reduce(lambda total, name: total + F(name), flags, Value(0))
    return (
        Listing.objects.filter(candidates)
        .annotate(**flags)
        .annotate(relevance=relevance)
        .annotate(rank=F("relevance") * 100000 + F("catalog_score"))
    )


@dataclass(frozen=True)
class GoalResults:
    """A goal's ranked listings (`catalog`, paged like the catalog by `catalog_page`), the
    strategy in effect (explicit filters replace their parts) and the criterion names."""

    goal: object
    strategy: dict
    overridden: list[str]
    criteria: list[str]
    catalog: Catalog

    def mark(self, listings) -> list:
        """Give each listing of a page `matched`: the names of the criteria it meets."""
        for listing in listings:
            listing.matched = [name for index, name in enumerate(self.criteria) if getattr(listing, f"match_{index}")]
        return listings


def _explicit_filters(params) -> QueryDict:
    explicit = QueryDict(mutable=True)
    for name in CatalogFilter.base_filters:
        if name == "ordering":
            continue
        values = params.getlist(name) if hasattr(params, "getlist") else params.get(name)
        values = values if isinstance(values, list) else [] if values in (None, "") else [values]
        values = [value for value in values if str(value).strip()]
        if values:
            explicit.setlist(name, values)
    # Ranked by the strategy: the catalog's own ordering (and its relevance pages) do not apply.
    explicit["ordering"] = "-score"
    return explicit


def goal_results(*, user: User, goal_id: int, params) -> GoalResults:
    """The catalog ranked by one of the user's goals: listings matching more of its strategy
    first, then by score, among a bounded set of candidates (see `RESULT_CANDIDATES`). Catalog
    filters in `params` apply as in the catalog and replace the strategy's part they name."""
    goal = search_goal_get(user=user, goal_id=goal_id)
    catalog = catalog_search(user=user, params=_explicit_filters(params))
    overridden = [part for name, part in OVERRIDES.items() if name in catalog.filters]
    strategy = {**strategy_empty(), **goal.strategy}
    for part in overridden:
        strategy[part] = None if part == "price_max" else []
    criteria = strategy_criteria(strategy)
    return GoalResults(
        goal=goal,
        strategy=strategy,
        overridden=overridden,
        criteria=[name for name, _ in criteria],
        catalog=Catalog(
            build=lambda: strategy_ranked(catalog.queryset, criteria),
            ordering="relevance",
            field="rank",
            descending=True,
            filters=catalog.filters,
        ),
    )
