"""The catalog: the listings a viewer may browse and open, filtered, searched and paged.

Everything the catalog filters and sorts on is stored on the listing itself (score,
employee count, vendor quality, industry, location, the search vector), so a catalog page
is one query on the listing table joined only to its vendor and its lead (for the masked
contact fields), whatever the filters. Its rows are read as tuples (`CatalogRow`), not
model instances, and the pages every viewer shares are kept in the cache until the catalog
changes (`marketplace.catalog_cache`); contacts are disclosed per viewer after either.

Pages are keyset pages: each whitelisted ordering seeks on `(value, id)` with a row
comparison, which PostgreSQL answers from the partial composite indexes of
`Listing.Meta.indexes` (`catalog_score_idx`, `catalog_price_idx`, `catalog_created_idx`),
so page 5,000 costs what page 1 costs, and nothing is counted.

Full-text search (PostgreSQL): the stored `search_vector` (title A; industry, location and
company B; description C) matched with `websearch_to_tsquery`. Ranking every match would
cost as much as there are matches (a common word matches hundreds of thousands of
listings), so relevance ranks a bounded candidate set: the `RELEVANCE_CANDIDATES`
best-scored matches, taken in score order (for a common word PostgreSQL walks the score
index and stops after that many matches; for a rare one it reads the few matches from the
GIN index). Only those are ranked; the relevance cursor carries the rank. Any other
ordering pages through every match on its index, unranked. On SQLite, search is a plain
case-insensitive match over the same fields and relevance falls back to the score.
"""

import base64
import json
import math
from collections import namedtuple
from collections.abc import Callable, Iterator
from copy import copy
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cache, cached_property, reduce
from operator import and_, or_

import django_filters
from django import forms
from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.db.models.functions import Cast
from drf_spectacular.utils import extend_schema_field

from accounts.models import User
from leadnexus.core.exceptions import NotAuthenticated, NotFound, ValidationFailed
from leadnexus.core.filters import TextFilter
from leadnexus.core.ids import is_db_id
from marketplace.catalog_cache import catalog_cached
from marketplace.masking import mask_company, mask_email, mask_name, mask_phone, mask_website
from marketplace.models import CATALOG, Listing, Purchase, VendorQuality
from marketplace.services.listings import MAX_PRICE, SEARCH_CONFIG

# Public ordering name → (field, descending). "relevance" exists only while searching.
ORDERINGS = {
    "-score": ("catalog_score", True),
    "score": ("catalog_score", False),
    "price": ("price", False),
    "-price": ("price", True),
    "-created": ("created_at", True),
    "relevance": ("rank", True),
}
ORDERING_LABELS = {
    "-score": "Best score first",
    "score": "Lowest score first",
    "price": "Cheapest first",
    "-price": "Most expensive first",
    "-created": "Newest first",
    "relevance": "Most relevant",
}
DEFAULT_ORDERING = "-score"
MINE_DEFAULT_ORDERING = "-created"
# How many matches a relevance search ranks: the best-scored ones. Measured on 1,000,000
# listings (bench/catalog.py): ranking 500 candidates costs a few milliseconds; ranking
# every match of a common word costs seconds.
RELEVANCE_CANDIDATES = 500
MAX_TERMS = 10
MAX_TERM_LENGTH = 100

# The columns of a catalog row, in the order `CatalogRow` reads them: what a card, the API
# payload and the export show (no search vector; of the lead, only its contacts).
ROW_COLUMNS = (
    "id",
    "vendor_id",
    "title",
    "description",
    "industry",
    "location",
    "employee_count",
    "price",
    "currency",
    "exclusive",
    "max_sales",
    "sold_count",
    "reserved_count",
    "approval_status",
    "status",
    "lead_score",
    "catalog_score",
    "validation_status",
    "vendor_quality",
    "created_at",
    "vendor__name",
    # The vendor's quality figures (a left join: a vendor that never sold has none).
    "vendor__quality__sold",
    "vendor__quality__contact_rate",
    "vendor__quality__win_rate",
    "vendor__quality__dispute_rate",
    "lead__first_name",
    "lead__last_name",
    "lead__email",
    "lead__phone",
    "lead__company",
    "lead__website",
)
CONTACT_FIELDS = ("company_name", "website", "contact_name", "contact_email", "contact_phone")


def _clean_text(value) -> str:
    # NUL cannot travel to PostgreSQL; collapse runs of spaces.
    return " ".join(str(value).replace("\x00", "").split())


class TermsField(forms.Field):
    """One or more short texts: `?industry=Software&industry=Retail` (the page sends one)."""

    widget = django_filters.widgets.QueryArrayWidget

    def to_python(self, value) -> list[str]:
        values = value if isinstance(value, (list, tuple)) else [value] if value else []
        terms = list(dict.fromkeys(term for term in (_clean_text(item) for item in values) if term))
        if len(terms) > MAX_TERMS:
            raise ValidationError(f"At most {MAX_TERMS} values.")
        if any(len(term) > MAX_TERM_LENGTH for term in terms):
            raise ValidationError(f"Each value has at most {MAX_TERM_LENGTH} characters.")
        return terms


class StrictBooleanField(forms.NullBooleanField):
    """true/false (1/0, yes/no) or nothing; anything else is an error, not "no filter"."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).strip().lower() in ("true", "1", "yes", "on"):
            return True
        if str(value).strip().lower() in ("false", "0", "no", "off"):
            return False
        raise ValidationError("Give true or false.")

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": MAX_TERM_LENGTH}})
class TermsFilter(django_filters.Filter):
    field_class = TermsField


class CatalogFilter(django_filters.FilterSet):
    """The catalog's filters (DESIGN §5), shared by the API, the pages, the export and saved
    searches: their declaration (fields, validation, the schema's parameters). What each one
    selects is `catalog_filtered`'s; ordering is applied by the keyset pages."""

    industry = TermsFilter(help_text="Any of these industries (exact, any case).")
    location = TermsFilter(
        help_text='Any of these places: the whole location or one of its comma-separated parts ("CA", '
        '"San Francisco").',
    )
    price_min = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", min_value=0, max_value=MAX_PRICE, help_text="Price from."
    )
    price_max = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", min_value=0, max_value=MAX_PRICE, help_text="Price up to."
    )
    min_score = django_filters.NumberFilter(
        field_name="lead_score", lookup_expr="gte", min_value=0, max_value=100, help_text="Lead score from (0 to 100)."
    )
    exclusive = StrictBooleanFilter(help_text="true: sold once only; false: sold several times.")
    vendor_quality_min = django_filters.NumberFilter(
        field_name="vendor_quality",
        lookup_expr="gte",
        min_value=0,
        max_value=999,
        help_text="Vendor quality from; vendors not rated yet are left out when this is set.",
    )
    search = TextFilter(
        help_text='Words in the title, description, industry, location or company ("quoted phrase", -word, or).',
    )
    ordering = django_filters.ChoiceFilter(
        choices=list(ORDERING_LABELS.items()),
        empty_label=None,
        help_text="Default: relevance when searching, else -score.",
    )

    class Meta:
        model = Listing
        fields = []

    @classmethod
    @cache
    def form_class(cls) -> type[forms.Form]:
        """The filters' form, built once: django-filter builds a form class per filter set, and
        a filter set deep-copies its filters, which together cost more than a catalog page's
        query."""
        return type("CatalogFilterForm", (forms.Form,), {name: f.field for name, f in cls.base_filters.items()})

    def get_form_class(self):
        return self.form_class()

    def filter_queryset(self, queryset):
        return catalog_filtered(queryset, self.form.cleaned_data)[0]


def catalog_filters_clean(params) -> dict:
    """The catalog's filters in `params`, cleaned by the fields of `CatalogFilter`'s form (as
    the form would, without the per-request copy of every field a form makes: fields do not
    keep what they clean); ValidationFailed names each bad one."""
    cleaned, errors = {}, {}
    for name, field in CatalogFilter.form_class().base_fields.items():
        try:
            cleaned[name] = field.clean(field.widget.value_from_datadict(params, None, name))
        except ValidationError as exc:
            errors[name] = exc.messages
    if errors:
        raise ValidationFailed("Some filters are not valid.", details=errors)
    return cleaned


def industry_q(terms: list[str]) -> Q:
    """Any of these industries, exactly but in any case."""
    return reduce(or_, (Q(industry__iexact=term) for term in terms))


def location_q(terms: list[str]) -> Q:
    """Any of these places: the whole location or one of its comma-separated parts."""
    return reduce(
        or_,
        (
            Q(location__iexact=term)
            | Q(location__istartswith=f"{term},")
            | Q(location__iendswith=f", {term}")
            | Q(location__icontains=f", {term},")
            for term in terms
        ),
    )


def plain_search_q(words: list[str]) -> Q:
    """Every word, as a case-insensitive substring of any searched field: the search where
    there is no search vector (SQLite, a vendor's own listings)."""
    return reduce(
        and_,
        (
            Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(industry__icontains=word)
            | Q(location__icontains=word)
            | Q(lead__company__icontains=word)
            for word in words
        ),
    )


# Filters that compare one column with the value, as CatalogFilter declares them.
_COMPARISONS = {
    name: f"{CatalogFilter.base_filters[name].field_name}__{CatalogFilter.base_filters[name].lookup_expr}"
    for name in ("price_min", "price_max", "min_score", "exclusive", "vendor_quality_min")
}


def catalog_filtered(queryset: QuerySet, data: dict, *, plain_search: bool = False) -> tuple[QuerySet, object]:
    """`queryset` narrowed by the catalog's cleaned filters `data` (CatalogFilter's form), and
    the full-text query when it searched one: the one reading of each filter, for the catalog,
    its export and pages, goal results and saved searches."""
    conditions = []
    if data.get("industry"):
        conditions.append(industry_q(data["industry"]))
    if data.get("location"):
        conditions.append(location_q(data["location"]))
    for name, lookup in _COMPARISONS.items():
        if data.get(name) is not None:
            conditions.append(Q(**{lookup: data[name]}))
    search_query = None
    text = _clean_text(data.get("search") or "")
    if text and (plain_search or connection.vendor != "postgresql"):
        conditions.append(plain_search_q([word.strip('"') for word in text.split()[:5]]))
    elif text:
        search_query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        conditions.append(Q(search_vector=search_query))
    return (queryset.filter(*conditions) if conditions else queryset), search_query


@dataclass(frozen=True)
class Catalog:
    """A filtered set of listings and the ordering its pages follow; `build` makes its
    queryset when a page is read from the database (not for a page the cache holds). A
    catalog that reads the same for every viewer (not a vendor's own listings, not a goal's
    ranking) names itself by `shared_as`, under which its pages are shared through the cache
    (`marketplace.catalog_cache`)."""

    build: Callable[[], QuerySet]
    ordering: str
    field: str
    descending: bool
    filters: dict
    shared_as: tuple | None = None

    @cached_property
    def queryset(self) -> QuerySet:
        return self.build()


def catalog_search(*, user: User, params, mine: bool = False) -> Catalog:
    """The catalog (approved, available listings) as filtered by `params`, or with
    `mine=True` the viewer's vendor organization's own listings in any status.

    Anyone may browse the catalog, signed in or not (contacts stay masked); `mine` needs a
    signed-in member (an organization that sells nothing has no listings)."""
    if mine and not user.is_authenticated:
        raise NotAuthenticated()
    # Nothing to validate on the first page and the next ones.
    data = catalog_filters_clean(params) if any(name in params for name in CatalogFilter.base_filters) else {}
    # A vendor's own listings are few, and only approved ones carry a search vector.
    full_text = bool(_clean_text(data.get("search") or "")) and not mine and connection.vendor == "postgresql"
    ordering = data.get("ordering") or ""
    if ordering == "relevance" or (not ordering and data.get("search") and not mine):
        ordering = "relevance" if full_text else DEFAULT_ORDERING
    ordering = ordering or (MINE_DEFAULT_ORDERING if mine else DEFAULT_ORDERING)

    def build() -> QuerySet:
        base = Listing.objects.filter(vendor_id=user.organization_id) if mine else Listing.objects.filter(CATALOG)
        queryset, search_query = catalog_filtered(base, data, plain_search=mine)
        return _ranked(queryset, search_query) if ordering == "relevance" else queryset

    field, descending = ORDERINGS[ordering]
    filters = {name: value for name, value in data.items() if value not in (None, "", [])}
    return Catalog(
        build=build,
        ordering=ordering,
        field=field,
        descending=descending,
        filters=filters,
        shared_as=None if mine else (ordering, sorted(filters.items())),
    )


def _ranked(matches: QuerySet, query: SearchQuery) -> QuerySet:
    """The best-scored `RELEVANCE_CANDIDATES` matches, ranked (see the module's docstring)."""
    candidates = matches.order_by("-catalog_score", "-pk").values("pk")[:RELEVANCE_CANDIDATES]
    # ts_rank is a float4: as float8 the cursor carries the exact value the seek compares.
    return Listing.objects.filter(pk__in=candidates).annotate(
        rank=Cast(SearchRank(F("search_vector"), query), FloatField())
    )


def listing_get(*, user: User, listing_id: int) -> Listing:
    """One listing as a viewer may open it: any catalog listing, the viewer's organization's
    own or bought ones in any status, or any listing for staff; anything else is not found."""
    listings = Listing.objects.select_related("vendor__standing", "vendor__quality", "lead")
    if not (user.is_authenticated and user.is_staff):
        visible = CATALOG
        if user.is_authenticated:
            visible |= Q(vendor_id=user.organization_id) | Q(
                pk__in=Purchase.objects.filter(buyer_id=user.organization_id).values("listing_id")
            )
        listings = listings.filter(visible)
    listing = listings.filter(pk=listing_id).first() if is_db_id(listing_id) else None
    if listing is None:
        raise NotFound("Listing not found.")
    return listing


# --- Keyset pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogPage:
    listings: list
    next_cursor: str | None
    previous_cursor: str | None

    def copy(self) -> "CatalogPage":
        """The page with rows of its own, for one viewer to disclose (a cached page is shared)."""
        return replace(self, listings=[copy(row) for row in self.listings])


def _cursor_value(catalog: Catalog, raw):
    """The cursor's ordering value as the field's type; ValueError when it cannot be one."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ValueError("not a value")
    field = catalog.field
    value = float(raw) if field == "rank" else Listing._meta.get_field(field).to_python(raw)
    if isinstance(value, Decimal) and not (value.is_finite() and abs(value) <= MAX_PRICE):
        raise ValueError("not a price")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not finite")
    if isinstance(value, int) and not 0 <= value <= 2_147_483_647:
        raise ValueError("out of range")
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("no time zone")
    return value


def _decode(catalog: Catalog, raw: str | None):
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode() + b"==="))
        if data["o"] != catalog.ordering or not is_db_id(data["id"]):
            raise ValueError("another ordering")
        value = _cursor_value(catalog, data["v"])
        if value is None:
            raise ValueError("no value")
        return value, data["id"], bool(data["r"])
    except (ValueError, KeyError, TypeError, ValidationError, UnicodeError, ArithmeticError):
        raise NotFound("Invalid cursor.") from None


def _encode(catalog: Catalog, listing: "CatalogRow", *, backwards: bool) -> str:
    value = getattr(listing, catalog.field)
    value = value.isoformat() if hasattr(value, "isoformat") else value if isinstance(value, int) else str(value)
    raw = json.dumps({"o": catalog.ordering, "v": value, "id": listing.pk, "r": backwards}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def catalog_page(catalog: Catalog, *, cursor: str | None, size: int) -> CatalogPage:
    """One page of `catalog` after (or, for a "previous" cursor, before) `cursor`: a seek on
    `(ordering value, id)`, so listings approved meanwhile neither shift nor repeat rows."""
    position = _decode(catalog, cursor)
    if catalog.shared_as is None:
        return _page_read(catalog, position, size)
    return catalog_cached((*catalog.shared_as, cursor, size), lambda: _page_read(catalog, position, size)).copy()


def _page_read(catalog: Catalog, position: tuple | None, size: int) -> CatalogPage:
    backwards = position is not None and position[2]
    walk_descending = catalog.descending != backwards
    queryset = catalog.queryset
    if position is not None:
        seek = TupleLessThan if walk_descending else TupleGreaterThan
        queryset = queryset.filter(seek(Tuple(F(catalog.field), F("pk")), (position[0], position[1])))
    prefix = "-" if walk_descending else ""
    rows = _page_rows(queryset.order_by(f"{prefix}{catalog.field}", f"{prefix}pk"), size + 1)
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = position is not None if not backwards else more
    return CatalogPage(
        listings=rows,
        next_cursor=_encode(catalog, rows[-1], backwards=False) if rows and has_next else None,
        previous_cursor=_encode(catalog, rows[0], backwards=True) if rows and has_previous else None,
    )


def _page_rows(ordered: QuerySet, limit: int) -> list["CatalogRow"]:
    """The first `limit` listings of `ordered`. A ranked set (annotated: relevance, a goal's
    rank) is paged on the listing table alone, then only the page's rows are read with their
    vendor and lead: joining every ranked candidate first costs several times as much."""
    annotations = list(ordered.query.annotations)
    if not annotations:
        return [CatalogRow(row) for row in ordered.values_list(*ROW_COLUMNS)[:limit]]
    keys = list(ordered.values_list("pk", *annotations)[:limit])
    found = {row[0]: row for row in Listing.objects.filter(pk__in=[key[0] for key in keys]).values_list(*ROW_COLUMNS)}
    rows = []
    for pk, *values in keys:
        if pk in found:
            row = CatalogRow(found[pk])
            for name, value in zip(annotations, values, strict=True):
                setattr(row, name, value)
            rows.append(row)
    return rows


def catalog_rows(catalog: Catalog, *, chunk_size: int) -> Iterator["CatalogRow"]:
    """Every listing of `catalog` in its order, read `chunk_size` rows at a time (the export)."""
    prefix = "-" if catalog.descending else ""
    ordered = catalog.queryset.order_by(f"{prefix}{catalog.field}", f"{prefix}pk")
    return map(CatalogRow, ordered.values_list(*ROW_COLUMNS).iterator(chunk_size=chunk_size))


LeadContacts = namedtuple("LeadContacts", "first_name last_name email phone company website")
VendorName = namedtuple("VendorName", "id name")


class QualityShown(namedtuple("QualityShown", "score sold contact_rate win_rate dispute_rate")):
    """A vendor's quality as buyers see it beside a listing (`analytics.quality` defines the
    figures): the score (null: not rated yet), the sold leads it rests on and the three
    shares (0 to 1; null before any sale)."""

    @property
    def sold_count(self) -> int:
        return self.sold or 0

    @property
    def min_sample(self) -> int:
        return settings.VENDOR_QUALITY_MIN_SAMPLE

    @property
    def summary(self) -> str:
        """ "Quality 4.10 of 5" or "Not rated yet (3 of 20 sales)"."""
        if self.score is None:
            return f"Not rated yet ({self.sold_count} of {self.min_sample} sales)"
        return f"Quality {self.score:.2f} of 5"

    def percent(self, name: str) -> str:
        rate = getattr(self, name)
        return "n/a" if rate is None else f"{rate * 100:.0f}%"

    @property
    def rates(self) -> str:
        """ "Contacted 80%, won 15%, disputed 5% of 42 sold leads" (empty before any sale)."""
        if not self.sold_count:
            return ""
        leads = "lead" if self.sold_count == 1 else "leads"
        return (
            f"Contacted {self.percent('contact_rate')}, won {self.percent('win_rate')}, "
            f"disputed {self.percent('dispute_rate')} of {self.sold_count} sold {leads}"
        )

    def payload(self) -> dict:
        """The API's vendor quality object."""

        def text(value, places):
            return None if value is None else f"{value:.{places}f}"

        return {
            "score": text(self.score, 2),
            "rated": self.score is not None,
            "sold": self.sold_count,
            "min_sample": self.min_sample,
            "contact_rate": text(self.contact_rate, 4),
            "win_rate": text(self.win_rate, 4),
            "dispute_rate": text(self.dispute_rate, 4),
        }


def _shown(score, figures: VendorQuality | None) -> QualityShown:
    if figures is None:
        return QualityShown(score, 0, None, None, None)
    return QualityShown(score, figures.sold, figures.contact_rate, figures.win_rate, figures.dispute_rate)


def vendor_quality_own(*, user: User) -> QualityShown:
    """The viewer's own organization's quality figures, as buyers see them."""
    figures = VendorQuality.objects.filter(vendor_id=user.organization_id).first()
    return _shown(figures.score if figures is not None else None, figures)


def listing_quality(listing: "Listing | CatalogRow") -> QualityShown:
    """The vendor quality shown beside a listing: a catalog row carries it; a listing reads
    its vendor's figures (select `vendor__quality` with it)."""
    if isinstance(listing, CatalogRow):
        return listing.quality
    return _shown(listing.vendor_quality, getattr(listing.vendor, "quality", None))


class CatalogRow:
    """A listing as catalog pages read it: one row of `ROW_COLUMNS`, with the attributes of a
    `Listing` that cards, the API payload and the export read (`vendor.name`, `lead.email`,
    `remaining`...), for a fraction of the cost of three model instances. Disclosure and
    ranking add theirs (`is_purchased`, `contacts_revealed`, `rank`, `match_<n>`)."""

    def __init__(self, row: tuple, masked: dict | None = None):
        self.row = row
        self._masked = masked
        (
            self.pk,
            self.vendor_id,
            self.title,
            self.description,
            self.industry,
            self.location,
            self.employee_count,
            self.price,
            self.currency,
            self.exclusive,
            self.max_sales,
            self.sold_count,
            self.reserved_count,
            self.approval_status,
            self.status,
            self.lead_score,
            self.catalog_score,
            self.validation_status,
            self.vendor_quality,
            self.created_at,
            vendor_name,
        ) = row[:21]
        self.id = self.pk
        self.vendor = VendorName(self.vendor_id, vendor_name)
        self.quality = QualityShown(self.vendor_quality, *row[21:25])
        self.lead = LeadContacts(*row[25:])
        self.remaining = max(self.max_sales - self.sold_count - self.reserved_count, 0)

    @property
    def score(self) -> Decimal:
        """The listing score on its 0-100 scale (`Listing.score`)."""
        return Decimal(self.catalog_score) / 100

    @property
    def contacts_masked(self) -> dict[str, str]:
        """The contacts as `listing_contacts` masks them, masked once per row."""
        if self._masked is None:
            self._masked = _masked(self.lead)
        return self._masked

    def __copy__(self):
        row = object.__new__(CatalogRow)
        row.__dict__.update(self.__dict__)
        return row

    def __reduce__(self):
        # Pickled (a cached page) as its row and masked contacts alone, a fraction of the
        # whole object: what disclosure adds belongs to one viewer, and ranking served the
        # page's cursors. Every viewer of a shared page reads the masking done for the first.
        return CatalogRow, (self.row, self.contacts_masked)


# --- What a viewer sees of a listing --------------------------------------------------------


def listing_contacts(listing: "Listing | CatalogRow", *, revealed: bool) -> dict[str, str]:
    """The five contact fields of DESIGN §5, in full or masked: the one place that decides
    their shape, for the API, the pages, the export and emails alike."""
    lead = listing.lead
    if not revealed:
        return listing.contacts_masked if isinstance(listing, CatalogRow) else _masked(lead)
    return {
        "company_name": lead.company,
        "website": lead.website,
        "contact_name": _full_name(lead),
        "contact_email": lead.email,
        "contact_phone": lead.phone,
    }


def _full_name(lead) -> str:
    return " ".join(part for part in (lead.first_name, lead.last_name) if part)


def _masked(lead) -> dict[str, str]:
    return {
        "company_name": mask_company(lead.company),
        "website": mask_website(lead.website),
        "contact_name": mask_name(_full_name(lead)),
        "contact_email": mask_email(lead.email),
        "contact_phone": mask_phone(lead.phone),
    }


def listing_values(listing: "Listing | CatalogRow") -> dict:
    """What a viewer sees of a listing, as Python values (the API payload and the export
    columns): disclosed listings (`marketplace.services.reveals.listings_disclose`) carry their
    contacts in full, any other renders masked and not purchased."""
    revealed = getattr(listing, "contacts_revealed", False)
    return {
        "id": listing.pk,
        "title": listing.title,
        "description": listing.description,
        "industry": listing.industry,
        "location": listing.location,
        "employee_count": listing.employee_count,
        "price": listing.price,
        "currency": listing.currency,
        "exclusive": listing.exclusive,
        "max_sales": listing.max_sales,
        "remaining": listing.remaining,
        "lead_score": listing.lead_score,
        "score": listing.score,
        "validation_status": listing.validation_status,
        "approval_status": listing.approval_status,
        "status": listing.status,
        "vendor_id": listing.vendor_id,
        "vendor": listing.vendor.name,
        "vendor_quality": listing.vendor_quality,
        "vendor_quality_figures": listing_quality(listing),
        **listing_contacts(listing, revealed=revealed),
        "is_masked": not revealed,
        "is_purchased": getattr(listing, "is_purchased", False),
        "created_at": listing.created_at,
    }


def score_breakdown(listing: Listing) -> list[dict]:
    """How the listing's lead earned its score: [{factor, label, points, max, why}]."""
    rows = []
    for item in listing.lead.score_breakdown or []:
        if isinstance(item, dict) and item.get("factor"):
            factor = str(item["factor"])
            rows.append(
                {
                    "factor": factor,
                    "label": factor.replace("_", " ").capitalize(),
                    "points": item.get("points"),
                    "max": item.get("max"),
                    "why": item.get("why") or "",
                }
            )
    return rows
