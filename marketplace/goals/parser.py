"""A goal in plain words read into a search strategy, and a strategy edited by hand (the
rules are in the package's docstring)."""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from marketplace.goals.vocabulary import (
    INDUSTRY_CAPITALS,
    INDUSTRY_SYNONYMS,
    LOCATION_SYNONYMS,
    MAX_KEYWORDS,
    SIZE_WORDS,
    STOP_WORDS,
    US_STATES,
    WORDLIKE_CODES,
    Vocabulary,
    vocabulary,
)
from marketplace.services.listings import MAX_PRICE

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
                if written not in WORDLIKE_CODES or _after_preposition(text, spans, index):
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
