"""Goal search: a business goal typed in plain words, read into a search strategy.

    "SaaS companies in California with 50+ employees under $120"
    → {"industries": ["Software"], "locations": ["CA"], "employee_min": 50, "employee_max": None,
       "price_max": "120.00", "keywords": []}

The parser is deterministic and local (no external service): the same goal and the same
vocabulary always give the same strategy. It reads, in this order, each part taking the words
it used so the next parts do not read them again:

1. company size: "50+ employees", "over 200 employees", "between 10 and 50 staff",
   "fewer than 20 people", "1k+ employees", or a size word from `SIZE_WORDS`
   ("small businesses" = 1-99). Bounds are inclusive: "over 200" is read as 200 or more.
   A lower bound without a noun ("with 50+", "over 200") is a size too;
2. a price cap: "under $120", "max 80 dollars", "less than 50", "$100 or less", "$40-$90"
   (the cap is the upper end). An upper bound without an employee noun is a price;
3. locations: US states by name or postal code ("California", "CA"; codes only in capitals,
   and the ones that are also English words ("IN", "OR", "ME"...) only after "in", "from" or a
   comma), a few nicknames (`LOCATION_SYNONYMS`), and the places the catalog's listings name
   (a one-word place only when capitalised or after "in"/"from"/"near"...). A state comes out
   the way the catalog writes it: "CA" when listings say "San Diego, CA", "California" when
   they spell it out;
4. industries: the catalog's own industries, and the synonyms of `INDUSTRY_SYNONYMS` ("SaaS"
   → the catalog's software industries). A synonym group no catalog industry belongs to gives
   its canonical name;
5. keywords: every other meaningful word, lower-cased, stop words dropped.

`vocabulary()` is what the catalog offers right now (distinct industries and locations of
approved listings), cached briefly and extended as listings are approved.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import QueryDict

from accounts.models import User
from marketplace.models import CATALOG, Listing
from marketplace.selectors import search_goal_get
from marketplace.selectors_catalog import LISTING_COLUMNS, Catalog, CatalogFilter, catalog_search
from marketplace.services.listings import MAX_PRICE, SEARCH_CONFIG

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
_WORDLIKE_CODES = {"IN", "OR", "ME", "HI", "OK", "ID", "OH", "DE", "LA", "AL", "CO", "PA", "MA", "MO", "SC"}
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
    cached = cache.get(VOCABULARY_CACHE_KEY)
    if cached is None:
        cached = _vocabulary_read()
        cache.set(VOCABULARY_CACHE_KEY, cached, VOCABULARY_TTL)
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
    cached = cache.get(VOCABULARY_CACHE_KEY)
    if cached is None:
        return  # the next read loads everything, this listing included
    changed = False
    for name, value in (("industries", industry), ("locations", location)):
        if value and value not in cached[name] and len(cached[name]) < VOCABULARY_LIMIT:
            cached[name] = sorted([*cached[name], value])
            changed = True
    if changed:
        cache.set(VOCABULARY_CACHE_KEY, cached, VOCABULARY_TTL)


# --- Strategy --------------------------------------------------------------------------------

STRATEGY_KEYS = ("industries", "locations", "employee_min", "employee_max", "price_max", "keywords")


def strategy_empty() -> dict:
    return {"industries": [], "locations": [], "employee_min": None, "employee_max": None, "price_max": None,
            "keywords": []}  # fmt: skip


@dataclass
class _Text:
    """The goal being read: `text` keeps its capitals, `lower` is searched, and `used` marks the
    characters a part has already taken (they read as spaces afterwards)."""

    text: str
    lower: str = field(init=False)
    used: list[bool] = field(init=False)

    def __post_init__(self):
        self.lower = self.text.lower()
        self.used = [False] * len(self.text)

    def free(self) -> str:
        return "".join(" " if used else char for char, used in zip(self.lower, self.used, strict=True))

    def take(self, start: int, end: int) -> None:
        for index in range(start, end):
            self.used[index] = True

    def is_free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])


def _normalise(goal: str) -> str:
    text = " ".join(str(goal or "").split())
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)  # typographic dashes and minus
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 → 1000
    text = text.replace("&", " and ").replace("≥", ">=").replace("≤", "<=")
    return " ".join(text.split())


# A whole number (never a prefix of a longer one), and "k" for thousands: 1.5k = 1500.
_NUMBER = r"(\d+(?:\.\d+)?)(?!\d|\.\d)(\s?k\b)?"
_EMPLOYEES = (
    r"(?:full[- ]time\s+)?(?:employees?|staff(?:ers)?|people|persons|workers|headcount|emps?|ftes?|team members)\b"
)
_UNIT = r"(?:dollars?|usd|bucks)\b"
# Bound words, then the same bound as a symbol (no word boundary before a symbol).
_LOWER = (
    r"(?:\b(?:over|more than|above|at least|greater than|bigger than|larger than|minimum of|min(?:imum)?|"
    r"no fewer than|no less than)\s+|>=?\s*)"
)
_UPPER = (
    r"(?:\b(?:under|below|fewer than|less than|up to|at most|max(?:imum)?(?: of)?|no more than|not more than|"
    r"smaller than)\s+|<=?\s*)"
)
_CAP = (
    r"(?:\b(?:(?:price[sd]?|costs?|costing|paying)\s+)?(?:under|below|less than|cheaper than|lower than|"
    r"max(?:imum)?(?: of)?|at most|up to|no more than|not more than|within|for less than|budget(?: of)?)\s+|<=?\s*)"
)


def _number(digits: str, thousands: str | None) -> Decimal:
    value = Decimal(digits)
    return value * 1000 if thousands else value


def _employees(text: _Text) -> tuple[int | None, int | None]:
    """(employee_min, employee_max) from explicit counts, then size words for a bound still open."""
    low = high = None
    patterns = (
        # between 10 and 50 employees · from 10 to 50 staff
        (rf"\b(?:between|from)\s+{_NUMBER}\s+(?:and|to|-)\s+{_NUMBER}\s*{_EMPLOYEES}", "range"),
        # 10-50 employees · 10 to 50 people
        (rf"(?<![\$\d.]){_NUMBER}\s*(?:-|to)\s*{_NUMBER}\s*{_EMPLOYEES}", "range"),
        # fewer than 20 employees · up to 200 staff
        (rf"{_UPPER}{_NUMBER}\s*{_EMPLOYEES}", "max"),
        # 200 employees or fewer
        (rf"(?<![\$\d.]){_NUMBER}\s*{_EMPLOYEES}\s+or\s+(?:fewer|less)\b", "max"),
        # over 200 employees · at least 50 · more than 1k people
        (rf"{_LOWER}{_NUMBER}(?!\s*{_UNIT})(?:\s*{_EMPLOYEES})?", "min"),
        # 200 or more employees · 200 employees or more · 50+ employees · 50+
        (rf"(?<![\$\d.]){_NUMBER}\s+or\s+more\s*{_EMPLOYEES}", "min"),
        (rf"(?<![\$\d.]){_NUMBER}\s*{_EMPLOYEES}\s+(?:or more|and up|and above|plus)\b", "min"),
        (rf"(?<![\$\d.]){_NUMBER}\s*\+(?:\s*{_EMPLOYEES})?", "min"),
        # with 50 employees
        (rf"(?<![\$\d.]){_NUMBER}\s*{_EMPLOYEES}", "min"),
    )
    for pattern, kind in patterns:
        for match in re.finditer(pattern, text.free()):
            numbers = [int(_number(match.group(i), match.group(i + 1))) for i in range(1, match.re.groups, 2)]
            if kind == "range" and low is None and high is None:
                low, high = sorted(numbers[:2])
            elif kind == "max" and high is None:
                high = numbers[0]
            elif kind == "min" and low is None:
                low = numbers[0]
            else:
                continue
            text.take(*match.span())
    explicit = (low, high)
    for words, (size_low, size_high) in sorted(SIZE_WORDS.items(), key=lambda item: -len(item[0])):
        for match in re.finditer(rf"(?<![\w-]){re.escape(words)}(?![\w-])", text.free()):
            text.take(*match.span())
            low = low if explicit[0] is not None else (low if low is not None else size_low)
            high = high if explicit[1] is not None else (high if high is not None else size_high)
    if low is not None and high is not None and low > high:
        # A size word against an explicit count: the count wins; two counts: read as a range.
        if explicit[0] is None:
            low = None
        elif explicit[1] is None:
            high = None
        else:
            low, high = high, low
    return low, high


def _price_cap(text: _Text) -> Decimal | None:
    money = rf"(?:\$\s*{_NUMBER}|{_NUMBER}\s*{_UNIT}|usd\s*{_NUMBER})"
    bare = rf"\$?\s*{_NUMBER}(?:\s*{_UNIT})?"
    patterns = (
        # between $20 and $50 · $20-$50 · 20 to 50 dollars (the cap is the upper end)
        rf"\b(?:between|from)\s+\$?\s*{_NUMBER}(?:\s*{_UNIT})?\s+(?:and|to|-)\s+{money}",
        rf"\$\s*{_NUMBER}\s*(?:-|to)\s*{money}",
        rf"(?<![\d.]){_NUMBER}\s*(?:-|to)\s*{money}",
        # under $120 · max 80 dollars · less than 50 · price under 120
        rf"{_CAP}{bare}",
        # $100 or less · $100 max · 90 dollars tops · $60 each
        rf"{money}\s*(?:or less|or under|or below|max(?:imum)?|tops|at most)\b",
        rf"{money}",
    )
    for pattern in patterns:
        match = re.search(pattern, text.free())
        if match is None:
            continue
        groups = match.groups()
        pairs = [(groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i] is not None]
        text.take(*match.span())
        digits, thousands = pairs[-1]
        try:
            return _number(digits, thousands).quantize(Decimal("0.01"))
        except InvalidOperation:
            return None
    return None


def _word_spans(text: _Text) -> list[tuple[int, int]]:
    return [match.span() for match in re.finditer(r"[a-z0-9][a-z0-9.'+#-]*[a-z0-9+#]|[a-z0-9]", text.free())]


_LOCATION_PREPOSITIONS = {"in", "from", "near", "around", "across", "throughout", "within", "at"}


def _after_preposition(text: _Text, spans, index: int) -> bool:
    if index == 0:
        return False
    start, end = spans[index - 1]
    between = text.lower[end : spans[index][0]]
    return "," in between or text.lower[start:end] in _LOCATION_PREPOSITIONS


def _state_styles(vocab: Vocabulary) -> dict[str, str]:
    """Each state as the catalog writes it: its postal code or its name, as found in listings."""
    codes, names = {}, {}
    by_name = {name.lower(): code for code, name in US_STATES.items()}
    for location in vocab.locations:
        for part in (part.strip() for part in location.split(",")):
            if part in US_STATES:
                codes[part] = part
            elif part.lower() in by_name:
                names.setdefault(by_name[part.lower()], part)
    # A written code wins: a state's name is also a city's ("New York, NY", "Washington, DC").
    return {**names, **codes}


def _places(vocab: Vocabulary) -> dict[str, str]:
    """Place names the catalog uses (cities, countries: the parts of its locations that are not
    US states), lower-cased → as written."""
    state_names = {name.lower() for name in US_STATES.values()}
    places = {}
    for location in vocab.locations:
        for part in (part.strip() for part in location.split(",")):
            lowered = part.lower()
            if len(part) < 3 or part.upper() in US_STATES or lowered in state_names or lowered in STOP_WORDS:
                continue
            if re.fullmatch(r"[\d\s-]+", part):  # postal codes
                continue
            places.setdefault(lowered, part)
    return places


def _locations(text: _Text, vocab: Vocabulary) -> list[str]:
    styles = _state_styles(vocab)
    places = _places(vocab)
    state_names = {name.lower(): code for code, name in US_STATES.items()}
    found: list[str] = []

    def add(kind: str, value: str) -> None:
        value = styles.get(value, value) if kind == "state" else value
        if value not in found:
            found.append(value)

    spans = _word_spans(text)
    taken = [False] * len(spans)
    for size in (4, 3, 2, 1):
        for index in range(len(spans) - size + 1):
            if any(taken[index : index + size]):
                continue
            start, end = spans[index][0], spans[index + size - 1][1]
            phrase = " ".join(text.lower[s:e] for s, e in spans[index : index + size])
            written = text.text[start:end]
            kind_value = None
            if phrase in LOCATION_SYNONYMS:
                kind_value = LOCATION_SYNONYMS[phrase]
            elif phrase in state_names:
                kind_value = ("state", state_names[phrase])
            elif size == 1 and written in US_STATES:
                if written not in _WORDLIKE_CODES or _after_preposition(text, spans, index):
                    kind_value = ("state", written)
            elif phrase in places and (size > 1 or written[:1].isupper() or _after_preposition(text, spans, index)):
                kind_value = ("place", places[phrase])
            if kind_value is not None:
                add(*kind_value)
                taken[index : index + size] = [True] * size
                text.take(start, end)
    return found


def _industry_groups(vocab: Vocabulary) -> dict[str, list[str]]:
    """Canonical group → the catalog industries that belong to it (its canonical name when none)."""
    groups = {}
    for canonical, words in INDUSTRY_SYNONYMS.items():
        terms = {canonical.lower(), *words}
        members = []
        for industry in vocab.industries:
            lowered = industry.lower()
            if lowered in terms or any(
                len(term) >= 4 and re.search(rf"(?<![\w-]){re.escape(term)}(?![\w-])", lowered) for term in terms
            ):
                members.append(industry)
        groups[canonical] = members or [canonical]
    return groups


def _industries(text: _Text, vocab: Vocabulary) -> list[str]:
    groups = _industry_groups(vocab)
    # Synonyms first: "software" names the whole software group, not only an industry so named.
    terms: dict[str, list[str]] = {}
    for canonical, words in INDUSTRY_SYNONYMS.items():
        for word in (canonical.lower(), *words):
            terms.setdefault(word, groups[canonical])
    for industry in vocab.industries:
        terms.setdefault(industry.lower(), [industry])
    found: list[str] = []

    def add(values):
        for value in values:
            if value not in found:
                found.append(value)

    spans = _word_spans(text)
    taken = [False] * len(spans)
    for size in (4, 3, 2, 1):
        for index in range(len(spans) - size + 1):
            if any(taken[index : index + size]):
                continue
            start, end = spans[index][0], spans[index + size - 1][1]
            phrase = " ".join(text.lower[s:e] for s, e in spans[index : index + size])
            values = terms.get(phrase) or (
                terms.get(phrase.removesuffix("s")) if size == 1 and len(phrase) > 4 else None
            )
            if values is None and size == 1 and text.text[start:end] in INDUSTRY_CAPITALS:
                values = groups[INDUSTRY_CAPITALS[text.text[start:end]]]
            if values:
                add(values)
                taken[index : index + size] = [True] * size
                text.take(start, end)
    return found


def _keywords(text: _Text) -> list[str]:
    keywords: list[str] = []
    for start, end in _word_spans(text):
        word = text.lower[start:end].removesuffix("'s").strip(".'-")
        if len(word) < 2 or word in STOP_WORDS or word[0].isdigit() or word in keywords:
            continue
        keywords.append(word)
    return keywords[:MAX_KEYWORDS]


def goal_parse(goal: str, vocab: Vocabulary | None = None) -> dict:
    """The strategy read from `goal` (see the module's docstring), against `vocab` (the
    catalog's current vocabulary when not given)."""
    vocab = vocabulary() if vocab is None else vocab
    text = _Text(_normalise(goal))
    employee_min, employee_max = _employees(text)
    price_max = _price_cap(text)
    locations = _locations(text, vocab)
    industries = _industries(text, vocab)
    return {
        "industries": industries,
        "locations": locations,
        "employee_min": employee_min,
        "employee_max": employee_max,
        "price_max": str(price_max) if price_max is not None else None,
        "keywords": _keywords(text),
    }


# --- Editing a strategy ----------------------------------------------------------------------

MAX_TERMS = 10
MAX_TERM_LENGTH = 100
MAX_EMPLOYEES = 10_000_000


def strategy_clean(changes: dict, *, current: dict) -> tuple[dict, dict]:
    """`current` with `changes` applied, checked: (strategy, problems by part)."""
    strategy = {**strategy_empty(), **{key: current.get(key) for key in STRATEGY_KEYS if key in current}}
    problems: dict[str, list[str]] = {}
    for key, value in changes.items():
        if key not in STRATEGY_KEYS:
            problems.setdefault(key, []).append("Not a part of a strategy.")
        elif key in ("industries", "locations", "keywords"):
            terms = list(dict.fromkeys(" ".join(str(term).split()) for term in value or []))
            terms = [term.lower() if key == "keywords" else term for term in terms if term]
            if len(terms) > MAX_TERMS or any(len(term) > MAX_TERM_LENGTH for term in terms):
                problems.setdefault(key, []).append(f"At most {MAX_TERMS} values of {MAX_TERM_LENGTH} characters.")
            strategy[key] = terms
        elif key in ("employee_min", "employee_max"):
            if value is not None and not (isinstance(value, int) and 0 <= value <= MAX_EMPLOYEES):
                problems.setdefault(key, []).append(f"A whole number from 0 to {MAX_EMPLOYEES}.")
            strategy[key] = value
        else:
            price = None
            if value is not None:
                try:
                    price = Decimal(str(value)).quantize(Decimal("0.01"))
                except InvalidOperation:
                    price = None
                if price is None or not Decimal("0.01") <= price <= MAX_PRICE:
                    problems.setdefault(key, []).append(f"An amount from 0.01 to {MAX_PRICE}.")
                    price = None
            strategy[key] = str(price) if price is not None else None
    low, high = strategy["employee_min"], strategy["employee_max"]
    if low is not None and high is not None and low > high and not problems:
        problems["employee_max"] = ["At least the minimum number of employees."]
    return strategy, problems


# --- Ranking the catalog by a strategy -------------------------------------------------------

# How many catalog listings a goal ranks: the best-scored ones that match every part of the
# strategy, and the best-scored ones that match any part. Ranking a few hundred rows is cheap
# whatever the catalog's size; ranking every listing that shares a common industry is not.
# The pages after those are the catalog's, with its filters.
RESULT_CANDIDATES = 500

# Explicit catalog filters that replace a part of the strategy; the others only narrow it.
OVERRIDES = {"industry": "industries", "location": "locations", "price_max": "price_max", "search": "keywords"}


def _location_q(term: str) -> Q:
    # The catalog's own reading of a place (`CatalogFilter.filter_location`): the whole
    # location or one of its comma-separated parts.
    return (
        Q(location__iexact=term)
        | Q(location__istartswith=f"{term},")
        | Q(location__iendswith=f", {term}")
        | Q(location__icontains=f", {term},")
    )


def _keyword_q(word: str) -> Q:
    # The catalog's search on one word: the stored search vector on PostgreSQL (stemmed), a
    # plain match over the same fields elsewhere.
    if connection.vendor == "postgresql":
        return Q(search_vector=SearchQuery(word, search_type="plain", config=SEARCH_CONFIG))
    return (
        Q(title__icontains=word)
        | Q(description__icontains=word)
        | Q(industry__icontains=word)
        | Q(location__icontains=word)
        | Q(lead__company__icontains=word)
    )


def strategy_criteria(strategy: dict) -> list[tuple[str, Q]]:
    """Each part of the strategy as a condition on listings, with the name results report it
    by: industries, locations, employees, price_max, and each keyword."""
    criteria = []
    if strategy.get("industries"):
        criteria.append(("industries", reduce(or_, (Q(industry__iexact=term) for term in strategy["industries"]))))
    if strategy.get("locations"):
        criteria.append(("locations", reduce(or_, (_location_q(term) for term in strategy["locations"]))))
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
    number for keyset pages: `relevance * 1000 + lead_score`)."""
    conditions = [condition for _, condition in criteria]
    if not conditions:
        pools = [base]
    elif len(conditions) == 1:
        pools = [base.filter(conditions[0])]
    else:
        pools = [base.filter(reduce(and_, conditions)), base.filter(reduce(or_, conditions))]
    candidates = reduce(
        or_, (Q(pk__in=pool.order_by("-lead_score", "-pk").values("pk")[:RESULT_CANDIDATES]) for pool in pools)
    )
    flags = {
        f"match_{index}": Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())
        for index, condition in enumerate(conditions)
    }
    relevance = reduce(lambda total, name: total + F(name), flags, Value(0))
    return (
        Listing.objects.filter(candidates)
        .select_related("vendor", "lead")
        .only(*LISTING_COLUMNS)
        .annotate(**flags)
        .annotate(relevance=relevance)
        .annotate(rank=F("relevance") * 1000 + F("lead_score"))
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
    ranked = strategy_ranked(catalog.queryset, criteria)
    return GoalResults(
        goal=goal,
        strategy=strategy,
        overridden=overridden,
        criteria=[name for name, _ in criteria],
        catalog=Catalog(queryset=ranked, ordering="relevance", field="rank", descending=True, filters=catalog.filters),
    )
