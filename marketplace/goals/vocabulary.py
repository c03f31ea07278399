"""What goal search can recognise: the catalog's own industries and places (cached, learnt
as listings are approved), US states, and the tables of synonyms, size words and stop words."""

import logging
from dataclasses import dataclass

from django.core.cache import cache

from marketplace.models import CATALOG, Listing

logger = logging.getLogger(__name__)

# --- Tables ---------------------------------------------------------------------------------

# Canonical industry → the words buyers use for it. A catalog industry belongs to a group when
# its name is one of these words or contains one of them (4 letters or more) as a whole word.
INDUSTRY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Software": ("software", "saas", "tech", "technology", "cloud", "b2b software", "it services", "devtools"),
    "Finance": ("finance", "fintech", "financial", "financial services", "banking", "banks", "bank", "payments"),
    "Healthcare": (
        "healthcare", "health care", "health", "medical", "medtech", "healthtech", "hospitals", "hospital",
        "clinics", "clinic", "pharma", "pharmaceutical",
    ),
    "Retail": ("retail", "e-commerce", "ecommerce", "online retail", "online stores", "stores", "shops", "dtc"),
    "Manufacturing": ("manufacturing", "manufacturers", "manufacturer", "factories", "industrial"),
    "Logistics": (
        "logistics", "shipping", "freight", "transportation", "transport", "trucking", "supply chain",
        "warehousing",
    ),
    "Education": ("education", "edtech", "schools", "universities", "colleges", "e-learning", "training"),
    "Energy": ("energy", "oil and gas", "solar", "renewables", "renewable energy", "utilities", "cleantech"),
    "Real Estate": ("real estate", "property", "properties", "proptech", "realtors"),
    "Marketing": ("marketing", "advertising", "ad agencies", "marketing agencies", "martech"),
    "Insurance": ("insurance", "insurtech", "insurers"),
    "Hospitality": ("hospitality", "hotels", "restaurants", "travel"),
    "Construction": ("construction", "builders", "contractors"),
    "Legal": ("legal", "law firms", "lawyers", "legaltech"),
    "Telecommunications": ("telecommunications", "telecom", "telcos"),
    "Media": ("media", "publishing", "publishers", "entertainment"),
    "Automotive": ("automotive", "car dealers", "dealerships", "auto"),
    "Agriculture": ("agriculture", "farming", "farms", "agtech"),
    "Consulting": ("consulting", "consultancies", "consultants", "professional services"),
    "Nonprofit": ("nonprofit", "nonprofits", "non-profit", "non-profits", "charities", "ngos"),
    "Cybersecurity": ("cybersecurity", "cyber security", "infosec", "security"),
}  # fmt: skip
# Words that name an industry only when written in capitals ("it" is a pronoun).
INDUSTRY_CAPITALS: dict[str, str] = {"IT": "Software", "AI": "Software"}

# Company size words → (employee_min, employee_max), inclusive; None: no bound.
SIZE_WORDS: dict[str, tuple[int | None, int | None]] = {
    "small businesses": (None, 99), "small business": (None, 99), "small companies": (None, 99),
    "small company": (None, 99), "small firms": (None, 99), "smbs": (None, 99), "smb": (None, 99),
    "startups": (None, 50), "startup": (None, 50), "early stage": (None, 50), "early-stage": (None, 50),
    "mid-size": (100, 999), "midsize": (100, 999), "mid-sized": (100, 999), "medium-sized": (100, 999),
    "medium sized": (100, 999), "mid-market": (100, 999), "midmarket": (100, 999),
    "medium businesses": (100, 999), "medium companies": (100, 999),
    "enterprise": (1000, None), "enterprises": (1000, None), "large companies": (1000, None),
    "large enterprises": (1000, None), "large businesses": (1000, None), "big companies": (1000, None),
    "corporations": (1000, None), "fortune 500": (1000, None),
}  # fmt: skip

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}  # fmt: skip
# Postal codes that are also English words: read as a state only after "in", "from" or a comma.
WORDLIKE_CODES = {"IN", "OR", "ME", "HI", "OK", "ID", "OH", "DE", "LA", "AL", "CO", "PA", "MA", "MO", "SC"}
# Nicknames: a state ("socal") or a place as the catalog writes it ("nyc" → "New York").
LOCATION_SYNONYMS: dict[str, tuple[str, str]] = {
    "washington dc": ("state", "DC"), "washington d.c": ("state", "DC"), "d.c": ("state", "DC"),
    "socal": ("state", "CA"), "norcal": ("state", "CA"), "cali": ("state", "CA"),
    "nyc": ("place", "New York"), "new york city": ("place", "New York"),
    "bay area": ("place", "San Francisco"), "silicon valley": ("place", "San Francisco"),
    "philly": ("place", "Philadelphia"), "vegas": ("place", "Las Vegas"),
}  # fmt: skip

_STOP_WORDS = """a about above across after all also am an and any are around as at based be been being below
    between both but by can could did do does doing down during each either few for from further get
    give had has have having he her here hers him his how i if in into is it its itself just like
    located me more most my near need needs no nor not now of off on once only or other our ours out
    over own per please same she should show so some such than that the their theirs them then there
    these they this those through to too under until up very want wants was we were what when where
    which while who whom why will with within would you your yours
    find finding looking look searching search seeking get getting buy buying target targeting reach
    sell selling list lists leads lead contacts contact prospects prospect accounts account data
    companies company businesses business firms firm organizations organisations orgs brands vendors
    employees employee staff people persons workers headcount emps fte ftes team teams size sized
    price priced prices cost costs costing cheap cheaper budget dollars dollar usd bucks each apiece
    max maximum min minimum least most less fewer greater plus tops
    small large big medium mid huge tiny major
    headquartered hq area areas region regions state states city cities country countries
    us usa u.s. america united nationwide national local
    new good best great top quality qualified"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

MAX_KEYWORDS = 8

# --- Vocabulary ------------------------------------------------------------------------------

VOCABULARY_CACHE_KEY = "marketplace:goal-vocabulary:v1"
VOCABULARY_TTL = 300  # seconds: rare enough on a large catalog, fresh enough for new places
VOCABULARY_LIMIT = 5000  # distinct values of each kind read from the catalog


@dataclass(frozen=True)
class Vocabulary:
    """What the catalog offers: its distinct industries and locations, as written."""

    industries: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()


def vocabulary() -> Vocabulary:
    """Read from the catalog when the cache has none, or is down (a search goal is still
    understood during a Redis outage, at the price of two queries)."""
    try:
        cached = cache.get(VOCABULARY_CACHE_KEY)
    except Exception as exc:
        logger.warning("Search vocabulary not cached, cache unavailable: %s", exc)
        cached = _vocabulary_read()
    else:
        if cached is None:
            cached = _vocabulary_read()
            _store(cached)
    return Vocabulary(industries=tuple(cached["industries"]), locations=tuple(cached["locations"]))


def _vocabulary_read() -> dict:
    catalog = Listing.objects.filter(CATALOG)

    def distinct(name):
        values = catalog.exclude(**{name: ""}).order_by(name).values_list(name, flat=True).distinct()
        return list(values[:VOCABULARY_LIMIT])

    return {"industries": distinct("industry"), "locations": distinct("location")}


def vocabulary_learn(*, industry: str, location: str) -> None:
    """A newly approved listing's industry and location join the cached vocabulary at once
    (the cache expiring later drops values no listing carries any more)."""
    try:
        cached = cache.get(VOCABULARY_CACHE_KEY)
    except Exception as exc:
        logger.warning("Search vocabulary not told of a new listing, cache unavailable: %s", exc)
        return
    if cached is None:
        return  # the next read loads everything, this listing included
    changed = False
    for name, value in (("industries", industry), ("locations", location)):
        if value and value not in cached[name] and len(cached[name]) < VOCABULARY_LIMIT:
            cached[name] = sorted([*cached[name], value])
            changed = True
    if changed:
        _store(cached)


def _store(cached: dict) -> None:
    try:
        cache.set(VOCABULARY_CACHE_KEY, cached, VOCABULARY_TTL)
    except Exception as exc:
        logger.warning("Search vocabulary not cached, cache unavailable: %s", exc)
