"""The goal parser: plain-words goals and the strategies read from them, against a fixed
catalog vocabulary, plus the vocabulary read from (and kept current with) the catalog."""

from unittest import mock

import pytest
from django.core.cache import cache

from marketplace.goals.parser import goal_parse, strategy_empty
from marketplace.goals.vocabulary import Vocabulary, vocabulary, vocabulary_learn
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory

SOFTWARE = ["Software", "Information Technology"]
FINANCE = ["Financial Services"]

VOCABULARY = Vocabulary(
    industries=(
        "Software", "Information Technology", "Financial Services", "Healthcare", "Retail", "Manufacturing",
        "Logistics", "Real Estate", "Biotech",
    ),
    locations=(
        "San Francisco, CA", "Los Angeles, CA", "Austin, TX", "New York, NY", "Boston, MA", "Portland, OR",
        "Denver, CO", "Chicago, IL", "Seattle, WA", "Berlin, Germany", "London, United Kingdom", "Miami, Florida",
    ),
)  # fmt: skip


def strategy(**parts) -> dict:
    return {**strategy_empty(), **parts}


PHRASES = [
    (
        "SaaS companies in California with 50+ employees under $120",
        strategy(industries=SOFTWARE, locations=["CA"], employee_min=50, price_max="120.00"),
    ),
    ("fintech startups in NYC", strategy(industries=FINANCE, locations=["New York"], employee_max=50)),
    (
        "Healthcare providers in Texas with over 200 employees",
        strategy(industries=["Healthcare"], locations=["TX"], employee_min=200, keywords=["providers"]),
    ),
    ("small businesses in Austin, TX", strategy(locations=["Austin", "TX"], employee_max=99)),
    (
        "e-commerce brands in Florida under 80 dollars",
        strategy(industries=["Retail"], locations=["Florida"], price_max="80.00"),
    ),
    ("manufacturers in the Midwest", strategy(industries=["Manufacturing"], keywords=["midwest"])),
    (
        "CTOs at software companies in Seattle",
        strategy(industries=SOFTWARE, locations=["Seattle"], keywords=["ctos"]),
    ),
    (
        "medical device companies between 10 and 50 employees",
        strategy(industries=["Healthcare"], employee_min=10, employee_max=50, keywords=["device"]),
    ),
    (
        "logistics firms with 1,000+ employees in Illinois",
        strategy(industries=["Logistics"], locations=["IL"], employee_min=1000),
    ),
    (
        "real estate agencies in Miami max $45",
        strategy(industries=["Real Estate"], locations=["Miami"], price_max="45.00", keywords=["agencies"]),
    ),
    ("enterprise banks in New York", strategy(industries=FINANCE, locations=["NY"], employee_min=1000)),
    ("retail companies in CA, OR and WA", strategy(industries=["Retail"], locations=["CA", "OR", "WA"])),
    ("companies in Boston with fewer than 20 employees", strategy(locations=["Boston"], employee_max=20)),
    (
        "IT services companies in Denver less than $60",
        strategy(industries=SOFTWARE, locations=["Denver"], price_max="60.00"),
    ),
    ("find me leads in Germany", strategy(locations=["Germany"])),
    (
        "Sales directors at tech companies in London",
        strategy(industries=SOFTWARE, locations=["London"], keywords=["sales", "directors"]),
    ),
    (
        "mid-size manufacturing companies in Ohio",
        strategy(industries=["Manufacturing"], locations=["OH"], employee_min=100, employee_max=999),
    ),
    ("companies from 50 to 200 employees", strategy(employee_min=50, employee_max=200)),
    ("50-100 employees healthcare", strategy(industries=["Healthcare"], employee_min=50, employee_max=100)),
    ("at least 500 staff in Chicago", strategy(locations=["Chicago"], employee_min=500)),
    ("up to 100 people, budget $30", strategy(employee_max=100, price_max="30.00")),
    ("leads under 25", strategy(price_max="25.00")),
    ("$40-$90 software leads", strategy(industries=SOFTWARE, price_max="90.00")),
    ("between $20 and $50 per lead for retail", strategy(industries=["Retail"], price_max="50.00")),
    ("$100 or less in Los Angeles", strategy(locations=["Los Angeles"], price_max="100.00")),
    (
        "5k+ employees enterprise software in Washington",
        strategy(industries=SOFTWARE, locations=["WA"], employee_min=5000),
    ),
    (
        "no more than 75 usd, clinics in Denver",
        strategy(industries=["Healthcare"], locations=["Denver"], price_max="75.00"),
    ),
    ("Biotech companies in Boston", strategy(industries=["Biotech"], locations=["Boston"])),
    (
        "solar installers in Arizona",
        strategy(industries=["Energy"], locations=["AZ"], keywords=["installers"]),
    ),
    (
        "startups in Austin and San Francisco",
        strategy(locations=["San Francisco", "Austin"], employee_max=50),
    ),
    ("companies in IN", strategy(locations=["IN"])),
    ("companies in Portland", strategy(locations=["Portland"])),
    ("fintech in socal under $75", strategy(industries=FINANCE, locations=["CA"], price_max="75.00")),
    ("over 200 employees", strategy(employee_min=200)),
    (
        "decision makers at hospitals in Washington DC",
        strategy(industries=["Healthcare"], locations=["DC"], keywords=["decision", "makers"]),
    ),
    ("leads please", strategy()),
    ("", strategy()),
    (
        "HR software for companies with 10 to 50 staff",
        strategy(industries=SOFTWARE, employee_min=10, employee_max=50, keywords=["hr"]),
    ),
    (
        "accountants in new jersey under 60 bucks",
        strategy(locations=["NJ"], price_max="60.00", keywords=["accountants"]),
    ),
    (
        "AI companies in Texas with less than 100 employees",
        strategy(industries=SOFTWARE, locations=["TX"], employee_max=100),
    ),
    (
        "Insurance brokers in Georgia max 80",
        strategy(industries=["Insurance"], locations=["GA"], price_max="80.00", keywords=["brokers"]),
    ),
    ("restaurants in Miami, Florida", strategy(industries=["Hospitality"], locations=["Miami", "Florida"])),
    (
        "car dealerships in Michigan with 20 employees",
        strategy(industries=["Automotive"], locations=["MI"], employee_min=20, keywords=["car"]),
    ),
    ("1.5k employees or more", strategy(employee_min=1500)),
    ("under 100 employees and under $50", strategy(employee_max=100, price_max="50.00")),
    (
        "VP Engineering at SaaS companies with more than 1k people",
        strategy(industries=SOFTWARE, employee_min=1000, keywords=["vp", "engineering"]),
    ),
    ("healthcare or finance companies", strategy(industries=["Healthcare", *FINANCE])),
    ("show me retail leads", strategy(industries=["Retail"])),
    ("Retail in FL", strategy(industries=["Retail"], locations=["Florida"])),
    ("small businesses with at least 10 employees", strategy(employee_min=10, employee_max=99)),
]


def test_the_phrase_set_is_large_enough():
    assert len(PHRASES) >= 30
    assert len({goal for goal, _ in PHRASES}) == len(PHRASES)


@pytest.mark.parametrize(("goal", "expected"), PHRASES, ids=[goal or "(empty)" for goal, _ in PHRASES])
def test_goal_phrase(goal, expected):
    # When the goal is read against the catalog's vocabulary
    parsed = goal_parse(goal, VOCABULARY)

    # Then the strategy is exactly the expected one
    assert parsed == expected


def test_parsing_is_deterministic():
    goal = PHRASES[0][0]
    assert all(goal_parse(goal, VOCABULARY) == PHRASES[0][1] for _ in range(5))


def test_a_state_comes_out_as_the_catalog_writes_it():
    # Given a catalog that spells states out
    spelled = Vocabulary(industries=(), locations=("Sacramento, California",))

    # Then the code and the name both read as the name, and the other way round
    assert goal_parse("companies in CA", spelled)["locations"] == ["California"]
    assert goal_parse("companies in California", VOCABULARY)["locations"] == ["CA"]
    # An empty catalog gives postal codes
    assert goal_parse("companies in California", Vocabulary())["locations"] == ["CA"]


def test_lowercase_state_codes_and_pronouns_are_not_places():
    parsed = goal_parse("find it or me some leads in ok shape", VOCABULARY)
    assert parsed["locations"] == [] and parsed["industries"] == []
    assert parsed["keywords"] == ["ok", "shape"]


def test_keywords_are_capped_and_deduplicated():
    parsed = goal_parse("alpha beta gamma delta alpha epsilon zeta eta theta iota kappa", VOCABULARY)
    assert parsed["keywords"] == ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]


@pytest.mark.django_db
def test_the_vocabulary_is_the_catalogs_own_and_learns_approved_listings():
    # Given approved listings, and one that is not in the catalog
    ListingFactory(industry="Software", location="Austin, TX")
    ListingFactory(industry="Biotech", location="Boston, MA")
    ListingFactory(industry="Mining", location="Elko, NV", approval_status=Listing.ApprovalStatus.PENDING)

    # Then the vocabulary holds the catalog's values only
    assert vocabulary() == Vocabulary(industries=("Biotech", "Software"), locations=("Austin, TX", "Boston, MA"))

    # And a newly approved listing's values join the cached vocabulary without a query
    vocabulary_learn(industry="Mining", location="Elko, NV")
    assert "Mining" in vocabulary().industries and "Elko, NV" in vocabulary().locations
    assert goal_parse("mining companies in Elko")["industries"] == ["Mining"]


@pytest.mark.django_db
def test_the_vocabulary_is_read_from_the_catalog_while_the_cache_is_down():
    ListingFactory(industry="Software", location="Austin, TX")
    down = ConnectionError("cache unavailable")

    with mock.patch.object(cache, "get", side_effect=down), mock.patch.object(cache, "set", side_effect=down):
        assert vocabulary() == Vocabulary(industries=("Software",), locations=("Austin, TX",))
        vocabulary_learn(industry="Mining", location="Elko, NV")  # an approval goes through
