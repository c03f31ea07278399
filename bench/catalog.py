"""Catalog API benchmark: `GET /api/marketplace/listings/` over 1,000,000 listings, served by
gunicorn with the production settings, beside a bare Django JSON view served the same way.

Data: 1,000,000 approved, available listings, each with its own inventory lead (`is_inventory`,
source `listing`), written with `COPY` into the database `leadnexus_bench_catalog` (created
and migrated if missing): 20 industries, 40 US cities ("Austin, TX"), job titles, companies,
and descriptions in which "budget" appears in ~85% of the rows while ten rare words
("perovskite": 7 rows, "biochar": 3, ...) appear in only a handful. `search_vector` is
computed with the expression and weights of `marketplace.services.listings.listings_search_index`
(checked on sample rows against that function), then VACUUM ANALYZE. Generation takes
minutes; it is skipped when the database already holds the same data set (`--regenerate`
forces it).

Serving: three gunicorn servers, one after the other, with the same flags (`GUNICORN_FLAGS`
below: 2 workers x 4 threads, gthread, at most 8 connections a worker, keep-alive 5 s, no
access log, no max-requests) and the same environment (DEBUG=false, a 64-character
SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL of the bench database, CONN_MAX_AGE=60, rate limits
lifted with RATE_LIMIT_SCALE, REDIS_URL of the bench's own Redis database, `--redis-url`,
emptied before each server): the application as deployed (`leadnexus.settings`, catalog
pages shared through the cache, `marketplace.catalog_cache`), the application with that
cache off (CATALOG_CACHE_SECONDS=0: every request reads PostgreSQL), then the baseline
(`bench.bare_settings`: the same settings plus `/bench/bare/`, see `bench/bare_urls.py`).
Requests send `X-Forwarded-Proto: https` (the production HTTPS redirect) and
`Accept: application/json`. wrk asks for the same address again and again, so with the
cache on it measures a page the cache holds: the run without it is the cost of a page no
one asked for in the last minute.

Load: `wrk` (apt-get install -y wrk), 2 threads, 16 connections with keep-alive, a warm-up
then a fixed duration per target; its Lua `done()` reports p50/p95/p99 and counts every
non-200 answer. gthread workers keep the keep-alive connections they accept, and wrk opens
its 16 at once: uncapped, one worker often got all of them and the run measured one worker
on one core, hence `--worker-connections 8`; a run whose work still went mostly to one
worker is measured again (up to `--attempts`, default 3; the report shows the split).

The targets: page 1; page 5,000 by cursor (the cursor after listing #124,975 of the default
`-score` ordering, encoded as `marketplace.selectors_catalog` does); a filtered page
(industry + state + price_max + min_score); full-text search for a rare and for a very
common word; the bare view. Each target is first requested once and its answer checked (200,
25 results where 25 are expected, the deep page's first id). Any non-200 answer or socket
error under load makes the script exit 1 after printing the table.

The machine has 2 cores and wrk, gunicorn and PostgreSQL share them: figures are for the
whole stack on one small host.

    .venv/bin/python bench/catalog.py [--rows 1000000] [--duration 20] [--warmup 5] \\
        [--regenerate | --reuse] [--wait-quiet 300] [--explain] [--profile page1]

Besides latency and throughput, each target reports the CPU it cost per request in gunicorn,
PostgreSQL and wrk, and how busy the host's other processes kept the two cores meanwhile
(`--wait-quiet SECONDS` waits, before each target, for other work to settle under 10%).
`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of the SQL each catalog target issues;
`--profile TARGET` times TARGET in-process (django.test.Client, production settings): wall
time per request, the part spent in SQL, where the rest goes (cumulative time of the view's
steps) and cProfile's top functions. Both run after the load (`--no-load` skips it).
Temporary files (wrk script, server logs) go under /tmp. Not part of the test suite.
"""

import argparse
import base64
import http.client
import json
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402 - the path above first
    QueryLog,
    connect,
    copy_line,
    database_ensure,
    database_renew,
    db_config,
    explain_print,
    indexes_create,
    secondary_indexes,
    sequences_advance,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/leadnexus_bench_catalog"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
NO_CACHE = ":no-cache"  # suffix of a target measured with the catalog page cache off
DATA_VERSION = 1  # bump when the generated data changes: the next run regenerates
SEED = 20261122
PAGE_SIZE = 25
DEEP_PAGE = 5000

CONNECTIONS = 16
WRK_THREADS = 2
# The same flags for both servers. 2 workers x 4 threads on a 2-core host shared with
# PostgreSQL and wrk (the Dockerfile's 3 x 4 would add a third process competing for two
# cores). No --max-requests: the Dockerfile's 1000 would restart each worker every few
# seconds at these rates, and a restart re-imports Django (about a second of CPU).
# --worker-connections 8: a gthread worker keeps every keep-alive connection it accepts and
# accepts eagerly (default 1000), so wrk's 16 connections, opened at once, often all landed on
# one worker, which then did the work of two on one core (the GIL) while the other idled:
# the run measured one worker. Capped at 16 / 2, each worker takes exactly 8.
WORKERS = 2
THREADS = 4


def gunicorn_flags(connections: int) -> list[str]:
    """The same flags for every server; each worker takes an equal share of the clients'
    keep-alive connections (see above)."""
    return [
        "--worker-class", "gthread",
        "--worker-connections", str(connections // WORKERS),
        "--timeout", "60",
        "--graceful-timeout", "30",
        "--keep-alive", "5",
        "--worker-tmp-dir", "/dev/shm",  # noqa: S108 - as the Dockerfile: heartbeat files in memory
        "--no-control-socket",
    ]  # fmt: skip


GUNICORN_FLAGS = gunicorn_flags(CONNECTIONS)

AIMS = {"catalog_p95_ms": 50, "deep_over_page1": 1.5, "search_p95_ms": 100, "catalog_over_bare": 1 / 3}

# --- Vocabulary (no tab, newline or backslash: rows are written as COPY text) --------------

INDUSTRIES = [
    "Software", "Healthcare", "Manufacturing", "Financial Services", "Retail", "Logistics", "Education",
    "Energy", "Construction", "Real Estate", "Insurance", "Telecommunications", "Hospitality", "Automotive",
    "Agriculture", "Media", "Legal Services", "Biotechnology", "Aerospace", "Food & Beverage",
]  # fmt: skip
INDUSTRY_WEIGHTS = [14, 10, 9, 8, 7, 6, 5, 5, 5, 4, 4, 4, 3, 3, 3, 3, 2, 2, 1, 2]
CITIES = [
    "New York, NY", "Los Angeles, CA", "Chicago, IL", "Houston, TX", "Phoenix, AZ", "Philadelphia, PA",
    "San Antonio, TX", "San Diego, CA", "Dallas, TX", "Austin, TX", "San Jose, CA", "Jacksonville, FL",
    "Columbus, OH", "Charlotte, NC", "Indianapolis, IN", "San Francisco, CA", "Seattle, WA", "Denver, CO",
    "Boston, MA", "Nashville, TN", "Detroit, MI", "Portland, OR", "Las Vegas, NV", "Memphis, TN",
    "Louisville, KY", "Baltimore, MD", "Milwaukee, WI", "Albuquerque, NM", "Atlanta, GA", "Miami, FL",
    "Minneapolis, MN", "Raleigh, NC", "Omaha, NE", "Kansas City, MO", "Sacramento, CA", "Salt Lake City, UT",
    "Pittsburgh, PA", "Cleveland, OH", "Tampa, FL", "St. Louis, MO",
]  # fmt: skip
CITY_WEIGHTS = [max(40 - n, 4) for n in range(len(CITIES))]
JOB_TITLES = [
    "CEO", "CTO", "CFO", "COO", "Founder", "Co-Founder", "VP of Sales", "VP of Marketing", "VP of Engineering",
    "Chief Revenue Officer", "Head of Procurement", "Head of Growth", "IT Director", "Sales Director",
    "HR Director", "Operations Manager", "Marketing Manager", "Purchasing Manager", "Facilities Manager",
    "Product Manager", "Plant Manager", "General Counsel",
]  # fmt: skip
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark Ashley Steven Emily Andrew "
    "Michelle Kevin Amanda Brian Melissa Priya Wei Aisha Diego Fatima Hiroshi Olga Kwame Sofia Mateo Chloe Raj"
)
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Nguyen Hill Flores Green Adams Patel Kim Chen Cohen O'Brien"
)
COMPANY_WORDS = (
    "Acme Summit Pioneer Northwind Bluewater Evergreen Ironclad Keystone Redwood Silverline Brightpath Cobalt "
    "Granite Horizon Lakeside Meridian Orchard Pinnacle Quantum Riverbend Sterling Trident Vanguard Westfield "
    "Apex Beacon Cascade Crescent Frontier Harbor Liberty Magnolia Patriot Prairie Sequoia Timberline Union"
)
COMPANY_KINDS = ["Systems", "Group", "Partners", "Labs", "Industries", "Solutions", "Holdings", "Works", "Health"]
COMPANY_SUFFIXES = ["Inc.", "LLC", "Corp.", "Co.", "Ltd", ""]
SIZES = [
    "small", "mid-sized", "fast-growing", "established", "family-owned", "venture-backed", "publicly traded",
    "regional", "national", "global",
]  # fmt: skip
AREAS = [
    "CRM software", "cloud hosting", "payroll services", "cybersecurity", "office furniture", "fleet management",
    "marketing automation", "data analytics", "IT support", "recruiting services", "logistics software",
    "accounting software", "telephony", "an e-commerce platform", "employee benefits", "legal services",
    "industrial equipment", "packaging", "solar installation", "video conferencing",
]  # fmt: skip
GOALS = [
    "expansion into new markets", "a new office opening", "cost reduction", "a compliance deadline", "a merger",
    "rapid hiring", "a product launch", "digital transformation", "customer retention",
    "supply chain resilience", "remote work", "international growth", "a system migration", "an audit",
    "a rebrand",
]  # fmt: skip
TECH = [
    "Salesforce", "HubSpot", "SAP", "Oracle", "Workday", "NetSuite", "Zendesk", "Slack", "Microsoft Dynamics",
    "QuickBooks", "Shopify", "Marketo", "ServiceNow", "Jira", "Zoom", "AWS", "Azure", "Google Cloud",
    "Snowflake", "Tableau", "Xero", "Pipedrive", "Freshworks", "Sage", "Epicor",
]  # fmt: skip
WHEN = ["Q1", "Q2", "Q3", "Q4", "next quarter", "this fiscal year", "the second half of the year"]
TITLE_TEMPLATES = [
    "{job} at a {size} {industry_l} company",
    "{job}, {industry}, {city}",
    "{industry} decision maker: {job} ({employees} employees)",
    "{job} of a {industry_l} firm in {city}",
    "{size} {industry_l} company: {job}",
]
INTRO = [
    "Verified contact at a {size} {industry_l} company in {city}.",
    "Direct line to the {job} of a {size} {industry_l} business.",
    "{job} responsible for {area} decisions.",
    "Senior decision maker at a {size} firm with {employees} employees.",
    "Reached by phone last month; interested and responsive.",
]
# "budget" is the very common word: one of these in ~85% of the descriptions.
BUDGET = [
    "Budget approved for {area} in {when}.",
    "Has budget for a new {area} vendor.",
    "Owns the budget for {area}.",
    "Annual budget of about {k} thousand dollars for {area}.",
    "Budget already allocated; wants quotes on {area}.",
]
NEED = [
    "Looking for {area} to support {goal}.",
    "Evaluating {area} providers ahead of {goal}.",
    "Wants to replace the current {area} setup before {goal}.",
    "Asked for a demo of {area} tools.",
]
TECH_SENTENCES = [
    "Currently uses {tech} and is open to alternatives.",
    "Runs {tech}; the contract ends in {when}.",
    "Migrating away from {tech}.",
]
CLOSING = [
    "Expects to buy within {months} months.",
    "Prefers email first, then a call.",
    "Best reached in the morning.",
    "Has talked to two competitors already.",
    "Needs sign-off from the CFO above {k} thousand dollars.",
]
# Rare words, each in exactly this many rows (chosen at random).
RARE_WORDS = {
    "perovskite": 7, "agrivoltaics": 4, "mycelium": 12, "desalination": 9, "exoskeleton": 5,
    "kombucha": 15, "biochar": 3, "lidar": 20, "cryogenic": 6, "hydroponics": 10,
}  # fmt: skip
RARE_SENTENCE = "Also asked about {word} projects."
RARE_WORD = "perovskite"
COMMON_WORD = "budget"
EMPLOYEES = [3, 8, 15, 30, 60, 120, 250, 500, 1200, 3000, 8000, 25000]

# The targets, in the order they run. "deep" gets its cursor from the data.
FILTERS = {"industry": "Software", "location": "TX", "price_max": "150", "min_score": "60"}
TARGETS = {
    "page1": ("catalog page 1", "/api/marketplace/listings/"),
    "deep": (f"catalog page {DEEP_PAGE:,} (cursor)", "/api/marketplace/listings/?cursor={cursor}"),
    "filtered": ("filtered: " + ", ".join(f"{k}={v}" for k, v in FILTERS.items()), None),
    "search_rare": (f'search "{RARE_WORD}" ({RARE_WORDS[RARE_WORD]} matches)', None),
    "search_common": (f'search "{COMMON_WORD}" (~85% match)', None),
    "bare": ("bare Django JsonResponse", "/bench/bare/"),
}
CATALOG_TARGETS = [name for name in TARGETS if name != "bare"]


# --- Database ------------------------------------------------------------------------------


def _dataset(config: dict) -> dict | None:
    """The generated data set's record, when the database holds a complete one."""
    with connect(config, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('bench_catalog_dataset')").fetchone()[0]
        if not exists:
            return None
        row = conn.execute("SELECT rows, version, seed, generated_at, seconds FROM bench_catalog_dataset").fetchone()
        if row is None:
            return None
        listings = conn.execute(
            "SELECT count(*) FROM marketplace_listing WHERE approval_status = 'approved' AND status = 'available'"
        ).fetchone()[0]
    record = dict(zip(("rows", "version", "seed", "generated_at", "seconds"), row, strict=True))
    return record if listings == record["rows"] else None


def prepare(url: str, rows: int, *, regenerate: bool, reuse: bool) -> dict:
    """Create and migrate the bench database; generate the data unless the same set is there."""
    config = db_config(url)
    present = database_ensure(url, reuse=reuse)
    record = _dataset(config)
    fits = record is not None and record["rows"] == rows and record["version"] == DATA_VERSION
    if reuse and not fits:
        sys.exit(f"--reuse: {config['NAME']} holds no complete data set of {rows:,} listings (version {DATA_VERSION}).")
    if fits and not regenerate:
        print(f"data: reusing {record['rows']:,} listings generated {record['generated_at']:%Y-%m-%d %H:%M} "
              f"(took {record['seconds']:.0f} s; --regenerate to make them again)", flush=True)  # fmt: skip
        return {"reused": True, **record}
    if present:
        database_renew(url)
    return {"reused": False, **generate(config, rows)}


LEAD_COLUMNS = (
    "id", "organization_id", "first_name", "last_name", "email", "phone", "company", "job_title", "industry",
    "location", "website", "employee_count", "annual_revenue", "customer_category", "notes", "extra", "source",
    "status", "score", "score_breakdown", "validation_status", "validation_reasons", "email_key", "phone_key",
    "name_company_key", "is_inventory", "created_at", "updated_at",
)  # fmt: skip
LISTING_COLUMNS = (
    "id", "vendor_id", "lead_id", "title", "description", "industry", "location", "employee_count", "price",
    "currency", "exclusive", "max_sales", "sold_count", "reserved_count", "approval_status", "status",
    "rejection_reason", "reviewed_at", "lead_score", "validation_status", "vendor_quality", "created_at",
    "updated_at",
)  # fmt: skip
# listings_search_index's expression (title A; industry, location, company B; description C),
# over the staging table, which carries the lead's company beside the listing's columns.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('{config}'::regconfig, COALESCE(s.title, '')), 'A')"
    " || setweight(to_tsvector('{config}'::regconfig, COALESCE(s.industry, '') || ' ' || COALESCE(s.location, '')"
    " || ' ' || COALESCE(s.company, '')), 'B')"
    " || setweight(to_tsvector('{config}'::regconfig, COALESCE(s.description, '')), 'C')"
)


def _vendors(rng: random.Random, count: int = 60) -> list[tuple[int, str | None]]:
    """Vendor organizations: (id, quality or None for "not rated yet")."""
    from accounts.models import Organization

    words = COMPANY_WORDS.split()
    names = [f"{rng.choice(words)} {rng.choice(['Data', 'Leads', 'Prospects', 'Signals'])}" for _ in range(count)]
    organizations = Organization.objects.bulk_create(
        Organization(name=f"{name} {n}", slug=f"bench-vendor-{n}", is_vendor=True, verified=rng.random() < 0.8)
        for n, name in enumerate(names)
    )
    return [(org.pk, None if rng.random() < 0.15 else f"{rng.uniform(55, 99):.2f}") for org in organizations]


def generate(config: dict, rows: int, seed: int = SEED) -> dict:
    """Write `rows` listings and their leads with COPY, compute the search vectors, rebuild the
    indexes, VACUUM ANALYZE. Returns the timings."""
    import bisect
    from itertools import accumulate

    from marketplace.services.listings import SEARCH_CONFIG

    firsts, lasts, words = FIRST_NAMES.split(), LAST_NAMES.split(), COMPANY_WORDS.split()
    for text in (*INDUSTRIES, *CITIES, *JOB_TITLES, *firsts, *lasts, *words, *AREAS, *TECH):
        assert not any(ch in text for ch in "\t\n\\"), text
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data
    started = time.perf_counter()
    vendors = _vendors(rng)
    vendor_cum = list(accumulate(rng.choice([1, 1, 2, 3, 5, 8]) for _ in vendors))
    industry_cum = list(accumulate(INDUSTRY_WEIGHTS))
    city_cum = list(accumulate(CITY_WEIGHTS))
    companies = [
        f"{rng.choice(words)} {rng.choice(COMPANY_KINDS)} {rng.choice(COMPANY_SUFFIXES)}".strip() for _ in range(5000)
    ]
    rare_at: dict[int, list[str]] = {}
    for word, count in RARE_WORDS.items():
        for n in rng.sample(range(rows), count):
            rare_at.setdefault(n, []).append(word)

    with connect(config) as leads_conn, connect(config) as stage_conn:
        leads_conn.execute("SET session_replication_role = replica")  # no FK triggers: ids are right by design
        indexes = secondary_indexes(leads_conn, ["leads_lead", "marketplace_listing"])
        for name, _ in indexes:
            leads_conn.execute(f'DROP INDEX "{name}"')
        leads_conn.commit()
        lead_start = leads_conn.execute("SELECT coalesce(max(id), 0) + 1 FROM leads_lead").fetchone()[0]
        listing_start = leads_conn.execute("SELECT coalesce(max(id), 0) + 1 FROM marketplace_listing").fetchone()[0]
        stage_conn.execute("DROP TABLE IF EXISTS bench_catalog_stage")
        stage_conn.execute("CREATE UNLOGGED TABLE bench_catalog_stage (LIKE marketplace_listing INCLUDING DEFAULTS)")
        stage_conn.execute("ALTER TABLE bench_catalog_stage DROP COLUMN search_vector, ADD COLUMN company text")

        span = timedelta(days=730).total_seconds()
        first_at = time.time() - span
        lead_sql = f"COPY leads_lead ({', '.join(LEAD_COLUMNS)}) FROM STDIN"
        stage_sql = f"COPY bench_catalog_stage ({', '.join(LISTING_COLUMNS)}, company) FROM STDIN"
        with (
            leads_conn.cursor().copy(lead_sql) as lead_copy,
            stage_conn.cursor().copy(stage_sql) as stage_copy,
        ):
            lead_lines, stage_lines = [], []
            random_ = rng.random
            for n in range(rows):
                vendor_id, quality = vendors[bisect.bisect(vendor_cum, random_() * vendor_cum[-1])]
                industry = INDUSTRIES[bisect.bisect(industry_cum, random_() * industry_cum[-1])]
                city = CITIES[bisect.bisect(city_cum, random_() * city_cum[-1])]
                job = rng.choice(JOB_TITLES)
                company = rng.choice(companies)
                first, last = rng.choice(firsts), rng.choice(lasts)
                employees = rng.choice(EMPLOYEES) if random_() < 0.9 else None
                score = min(100, max(0, int(rng.gauss(58, 17))))
                price = max(5.0, score * rng.uniform(0.6, 2.6))
                validation = "valid" if random_() < 0.75 else "risky" if random_() < 0.8 else "pending"
                at = datetime.fromtimestamp(first_at + span * n / rows + random_() * 3600, UTC)
                created = at.isoformat()
                reviewed = (at + timedelta(hours=1 + 47 * random_())).isoformat()
                slots = {
                    "job": job, "size": rng.choice(SIZES), "industry": industry, "industry_l": industry.lower(),
                    "city": city, "employees": employees or "50", "area": rng.choice(AREAS),
                    "goal": rng.choice(GOALS), "tech": rng.choice(TECH), "when": rng.choice(WHEN),
                    "k": rng.choice([10, 25, 50, 100, 250]), "months": rng.choice([1, 2, 3, 6, 9, 12]),
                }  # fmt: skip
                sentences = [rng.choice(INTRO)]
                if random_() < 0.85:
                    sentences.append(rng.choice(BUDGET))
                if random_() < 0.7:
                    sentences.append(rng.choice(NEED))
                if random_() < 0.5:
                    sentences.append(rng.choice(TECH_SENTENCES))
                if random_() < 0.5:
                    sentences.append(rng.choice(CLOSING))
                description = " ".join(sentence.format(**slots) for sentence in sentences)
                for word in rare_at.get(n, ()):
                    description += " " + RARE_SENTENCE.format(word=word)
                title = rng.choice(TITLE_TEMPLATES).format(**slots)
                domain = "".join(ch for ch in company.split()[0].lower() if ch.isalpha()) + f"{n % 4999}.com"
                email = f"{first}.{last}".lower().replace("'", "") + f"{n}@{domain}"
                phone = f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
                phone = phone if random_() < 0.85 else ""
                category = (
                    "" if employees is None
                    else "startup" if employees < 20
                    else "small_business" if employees < 200
                    else "mid_market" if employees < 2000
                    else "enterprise"
                )  # fmt: skip
                lead_id, listing_id = lead_start + n, listing_start + n
                lead_lines.append(copy_line((
                    lead_id, vendor_id, first, last, email, phone, company, job,
                    industry, city, f"https://www.{domain}" if random_() < 0.8 else "", employees, None, category,
                    "", "{}", "listing", "new", score, "{}", validation, "[]", email, phone, "", "t", created, created,
                )))  # fmt: skip
                exclusive = random_() < 0.7
                stage_lines.append(copy_line((
                    listing_id, vendor_id, lead_id, title, description, industry, city, employees, f"{price:.2f}",
                    "USD", "t" if exclusive else "f", 1 if exclusive else rng.randint(2, 10), 0, 0, "approved",
                    "available", "", reviewed, score, validation, quality, created, reviewed, company,
                )))  # fmt: skip
                if len(lead_lines) == 20_000:
                    lead_copy.write("".join(lead_lines))
                    stage_copy.write("".join(stage_lines))
                    lead_lines, stage_lines = [], []
                    if (n + 1) % 200_000 == 0:
                        print(f"  {n + 1:,} rows written ({time.perf_counter() - started:.0f} s)", flush=True)
            lead_copy.write("".join(lead_lines))
            stage_copy.write("".join(stage_lines))
        leads_conn.commit()
        stage_conn.commit()
        copied = time.perf_counter()
        print(f"  COPY done: {copied - started:.0f} s", flush=True)

        columns = ", ".join(LISTING_COLUMNS)
        leads_conn.execute(
            f"INSERT INTO marketplace_listing ({columns}, search_vector) "  # noqa: S608 - our own constants
            f"SELECT {', '.join('s.' + c for c in LISTING_COLUMNS)}, {SEARCH_VECTOR_SQL.format(config=SEARCH_CONFIG)} "
            "FROM bench_catalog_stage s ORDER BY s.id"
        )
        leads_conn.execute("DROP TABLE bench_catalog_stage")
        sequences_advance(leads_conn, ["leads_lead", "marketplace_listing"])
        vectors = time.perf_counter()
        print(f"  listings with search vectors: {vectors - copied:.0f} s", flush=True)

        indexes_create(leads_conn, indexes)
        indexed = time.perf_counter()
        print(f"  {len(indexes)} indexes rebuilt: {indexed - vectors:.0f} s", flush=True)

    with connect(config, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE leads_lead")
        conn.execute("VACUUM ANALYZE marketplace_listing")
        conn.execute("VACUUM ANALYZE accounts_organization")
    vacuumed = time.perf_counter()
    print(f"  VACUUM ANALYZE: {vacuumed - indexed:.0f} s", flush=True)
    _check_vectors(rng)

    seconds = time.perf_counter() - started
    with connect(config) as conn:
        conn.execute(
            "CREATE TABLE bench_catalog_dataset (rows int, version int, seed bigint, generated_at timestamptz, "
            "seconds float, phases jsonb)"
        )
        phases = {
            "copy": copied - started, "search_vectors": vectors - copied, "indexes": indexed - vectors,
            "vacuum_analyze": vacuumed - indexed,
        }  # fmt: skip
        conn.execute(
            "INSERT INTO bench_catalog_dataset VALUES (%s, %s, %s, now(), %s, %s)",
            [rows, DATA_VERSION, seed, seconds, json.dumps(phases)],
        )
    print(
        f"data: generated {rows:,} listings in {seconds:.0f} s {json.dumps({k: round(v) for k, v in phases.items()})}"
    )
    return {"rows": rows, "seconds": seconds, "phases": phases}


def _check_vectors(rng: random.Random) -> None:
    """The stored vectors equal what `listings_search_index` writes, on sample rows."""
    from django.db import transaction

    from marketplace.models import Listing
    from marketplace.services.listings import listings_search_index

    last = Listing.objects.order_by("-pk").values_list("pk", flat=True).first()
    ids = [rng.randint(1, last) for _ in range(20)]
    ids = list(Listing.objects.filter(pk__in=ids).values_list("pk", flat=True))
    stored = dict(Listing.objects.filter(pk__in=ids).values_list("pk", "search_vector"))
    with transaction.atomic():
        listings_search_index(ids)
        fresh = dict(Listing.objects.filter(pk__in=ids).values_list("pk", "search_vector"))
        transaction.set_rollback(True)
    if stored != fresh or not ids:
        sys.exit(
            f"search vectors differ from listings_search_index on {sorted(set(stored.items()) ^ set(fresh.items()))}"
        )
    print(f"  search vectors match listings_search_index on {len(ids)} sample listings", flush=True)


def deep_cursor(config: dict) -> tuple[str, int]:
    """The cursor after listing #124,975 of the default ordering (-score: catalog_score desc,
    id desc), encoded as `marketplace.selectors_catalog._encode` does, and the id of the first
    listing of that page."""
    before = (DEEP_PAGE - 1) * PAGE_SIZE
    with connect(config, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT catalog_score, id FROM marketplace_listing "
            "WHERE approval_status = 'approved' AND status = 'available' "
            "ORDER BY catalog_score DESC, id DESC OFFSET %s LIMIT 2",
            [before - 1],
        ).fetchall()
    (score, listing_id), (_, first_id) = rows
    raw = json.dumps({"o": "-score", "v": score, "id": listing_id, "r": False}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="), first_id


def target_paths(cursor: str) -> dict[str, str]:
    return {
        "page1": TARGETS["page1"][1],
        "deep": TARGETS["deep"][1].format(cursor=cursor),
        "filtered": "/api/marketplace/listings/?" + urlencode(FILTERS),
        "search_rare": "/api/marketplace/listings/?" + urlencode({"search": RARE_WORD}),
        "search_common": "/api/marketplace/listings/?" + urlencode({"search": COMMON_WORD}),
        "bare": TARGETS["bare"][1],
    }


# --- Servers and load -------------------------------------------------------------------------

HEADERS = {"X-Forwarded-Proto": "https", "Accept": "application/json"}

WRK_SCRIPT = """\
-- Written by bench/catalog.py: headers, a count of non-200 answers, one JSON line at the end.
wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["Accept"] = "application/json"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  non200 = 0
  bad_status = 0
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    bad_status = status
  end
end

function done(summary, latency, requests)
  local non200_total, status = 0, 0
  for _, thread in ipairs(threads) do
    non200_total = non200_total + thread:get("non200")
    if thread:get("bad_status") ~= 0 then status = thread:get("bad_status") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %.0f, "duration_us": %.0f, "bytes": %.0f, "p50_us": %.0f, "p95_us": %.0f, ' ..
    '"p99_us": %.0f, "max_us": %.0f, "mean_us": %.1f, "non200": %.0f, "bad_status": %.0f, "connect": %.0f, ' ..
    '"read": %.0f, "write": %.0f, "timeout": %.0f}\\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, non200_total, status, e.connect, e.read, e.write,
    e.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, settings_module: str, redis_url: str = "", **extra: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="false",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="https://127.0.0.1",
        DATABASE_URL=database_url,
        CONN_MAX_AGE="60",
        REDIS_URL=redis_url,
        RATE_LIMIT_SCALE="1000000",
        LOG_LEVEL="INFO",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


SECRET_KEY = secrets.token_urlsafe(48)  # 64 characters, new each run


class Server:
    """gunicorn serving leadnexus.wsgi with `settings_module`, for the length of a `with`."""

    def __init__(self, name: str, settings_module: str, workdir: Path, env: dict, *, connections: int = CONNECTIONS):
        self.name, self.settings_module, self.env = name, settings_module, env
        self.flags = gunicorn_flags(connections)
        self.port = _free_port()
        self.log_path = workdir / f"gunicorn-{name}.log"
        self.process = None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn", "leadnexus.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(WORKERS), "--threads", str(THREADS), *self.flags,
        ]  # fmt: skip

    def __enter__(self):
        log = self.log_path.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - gunicorn of this virtualenv
            self.command(), cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn ({self.name}) exited with {self.process.returncode}; see {self.log_path}")
            try:
                if request(self.port, "/healthz")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        sys.exit(f"gunicorn ({self.name}) did not answer /healthz within 60 s; see {self.log_path}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this script started
            self.process.wait()

    def __exit__(self, *exc):
        self.stop()


def redis_flush(url: str) -> None:
    """Empty the benchmark's Redis database: each server starts with nothing cached."""
    import redis

    redis.Redis.from_url(url, socket_timeout=5).flushdb()


def request(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={**HEADERS, "Host": f"127.0.0.1:{port}", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check(port: int, name: str, path: str, expect: dict) -> str:
    """Request `path` once; exit loudly unless it answers 200 with what `expect` says."""
    started = time.perf_counter()
    status, body = request(port, path)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        sys.exit(f"FAIL {name}: GET {path} answered {status}: {body[:500]!r}")
    data = json.loads(body)
    if name == "bare":
        return f"{elapsed:.0f} ms, {len(body)} bytes"
    results = data["results"]
    if "count" in expect and len(results) != expect["count"]:
        sys.exit(f"FAIL {name}: {len(results)} results, expected {expect['count']}")
    if "min_count" in expect and len(results) < expect["min_count"]:
        sys.exit(f"FAIL {name}: {len(results)} results, expected at least {expect['min_count']}")
    if "first_id" in expect and results[0]["id"] != expect["first_id"]:
        sys.exit(f"FAIL {name}: first listing {results[0]['id']}, expected {expect['first_id']}")
    return f"{len(results)} results, {len(body):,} bytes, first request {elapsed:.0f} ms"


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_sample(app_pid: int) -> dict:
    """CPU ticks so far: the host's busy time, and that of the gunicorn tree (`app_pid` and its
    workers) and of PostgreSQL (backends, and exited parallel workers via the postmaster's
    children times). wrk's comes from this process's children (`load`)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    sample = {"host": user + nice + system + irq + softirq + steal, "app": 0, "postgres": 0}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
        ticks = sum(int(value) for value in rest[11:15])  # utime, stime, cutime, cstime
        if int(entry.name) == app_pid or int(rest[1]) == app_pid:
            sample["app"] += ticks
            if int(rest[1]) == app_pid:
                sample[f"worker {entry.name}"] = ticks
        elif comm == "postgres":
            sample["postgres"] += ticks
    return sample


def wrk(
    port: int, path: str, *, duration: int, script: Path, connections: int = CONNECTIONS, headers: dict | None = None
) -> dict:
    """One wrk run of `path`: `connections` keep-alive clients, `headers` beside the script's."""
    url = f"http://127.0.0.1:{port}{path}"
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(script)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], check=True, capture_output=True, text=True).stdout  # noqa: S603
    line = next((line for line in output.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        sys.exit(f"wrk printed no result for {url}:\n{output}")
    result = json.loads(line.removeprefix("BENCH_JSON "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["socket_errors"] = sum(result[key] for key in ("connect", "read", "write", "timeout"))
    return result


def host_busy(seconds: float = 2.0) -> float:
    """How busy the host's CPUs are (% of all cores) over `seconds`, this script idle."""
    before = cpu_sample(0)["host"]
    time.sleep(seconds)
    return (cpu_sample(0)["host"] - before) / CLOCK_TICKS / (seconds * os.cpu_count()) * 100


def wait_quiet(limit: float, patience: int) -> None:
    """Wait up to `patience` seconds for the host's other work to fall under `limit` %."""
    deadline = time.monotonic() + patience
    while (busy := host_busy()) > limit:
        if time.monotonic() > deadline:
            print(f"  the host stays busy ({busy:.0f}% of its CPUs without this benchmark): measuring anyway")
            return
        print(f"  waiting for a quiet host: {busy:.0f}% busy without this benchmark", flush=True)
        time.sleep(5)


# A run whose app CPU went mostly to one worker measured one worker, not the configuration
# (see --worker-connections above): it is measured again (`--attempts`); the report shows the split.
UNEVEN = 75  # % of the app's CPU in its busiest worker


def measure(server: Server, path: str, args, script: Path, **wrk_options) -> dict:
    """One wrk run of `path`, with the CPU each part of the stack spent meanwhile."""
    before, children, started = cpu_sample(server.process.pid), os.times(), time.monotonic()
    result = wrk(server.port, path, duration=args.duration, script=script, **wrk_options)
    after, children_after, wall = cpu_sample(server.process.pid), os.times(), time.monotonic() - started
    ticks = {key: (after[key] - before.get(key, 0)) / CLOCK_TICKS for key in after}
    workers = sorted((value for key, value in ticks.items() if key.startswith("worker ")), reverse=True)
    result["busiest_worker"] = workers[0] / max(sum(workers), 1e-9) * 100 if workers else 0
    ticks["wrk"] = sum(children_after[2:4]) - sum(children[2:4])
    requests = max(result["requests"], 1)
    result["cpu_ms"] = {key: ticks[key] / requests * 1000 for key in ("app", "postgres", "wrk")}
    # Busy CPU of everything else on the host (other work, the kernel), in % of all cores.
    others = ticks["host"] - ticks["app"] - ticks["postgres"] - ticks["wrk"]
    result["other_pct"] = max(others, 0) / (wall * os.cpu_count()) * 100
    result["host_pct"] = ticks["host"] / (wall * os.cpu_count()) * 100
    return result


def load(server: Server, names: list[str], paths: dict, expects: dict, args, script: Path) -> dict:
    results = {}
    for name in names:
        try:
            print(f"{name}: {check(server.port, name, paths[name], expects.get(name, {}))}", flush=True)
        except SystemExit:
            tail = "\n".join(server.log_path.read_text(errors="replace").splitlines()[-40:])
            print(f"gunicorn's log ({server.log_path}, kept), last lines:\n{tail}", file=sys.stderr)
            raise
        if args.wait_quiet:
            wait_quiet(10, args.wait_quiet)
        for attempt in range(1, args.attempts + 1):
            if args.warmup:
                wrk(server.port, paths[name], duration=args.warmup, script=script)
            result = measure(server, paths[name], args, script)
            result["attempt"] = attempt
            if result["busiest_worker"] <= UNEVEN or attempt == args.attempts:
                break
            print(
                f"  attempt {attempt}: wrk's connections landed unevenly (one gunicorn worker did "
                f"{result['busiest_worker']:.0f}% of the app's work): measuring again",
                flush=True,
            )
        results[name] = result
        cpu = result["cpu_ms"]
        print(
            f"{name}: p50 {result['p50_us'] / 1000:.1f} ms, p95 {result['p95_us'] / 1000:.1f} ms, "
            f"p99 {result['p99_us'] / 1000:.1f} ms, {result['rps']:,.0f} req/s, {result['requests']:,.0f} requests, "
            f"non-200 {result['non200']:.0f}, socket errors {result['socket_errors']:.0f}; CPU per request: "
            f"gunicorn {cpu['app']:.2f} ms, PostgreSQL {cpu['postgres']:.2f} ms, wrk {cpu['wrk']:.2f} ms; "
            f"host busy {result['host_pct']:.0f}%, other processes {result['other_pct']:.0f}%, busiest gunicorn "
            f"worker {result['busiest_worker']:.0f}% of the app's CPU",
            flush=True,
        )
    return results


# --- Report ---------------------------------------------------------------------------------


def machine(
    config: dict, *, tables: tuple[str, ...] = ("marketplace_listing",), connections: int = CONNECTIONS
) -> list[str]:
    """The lines that say where and how a run was made: date, code, host, versions, server and load."""
    import django
    import gunicorn

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    os_release = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    distro = next(
        (line.split("=", 1)[1].strip('"') for line in os_release.splitlines() if line.startswith("PRETTY")), ""
    )
    with connect(config, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        shared_buffers = conn.execute("SHOW shared_buffers").fetchone()[0]
        sizes = ", ".join(
            f"{table} {conn.execute('SELECT pg_size_pretty(pg_total_relation_size(%s))', [table]).fetchone()[0]}"
            for table in tables
        )
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split(" [")[0]  # noqa: S607
    git = ["git", "-C", str(ROOT)]
    revision = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()  # noqa: S603
    changed = subprocess.run(  # noqa: S603 - read-only: which files differ from the commit, outside bench/
        [*git, "status", "--porcelain", "--", ".", ":!bench"], capture_output=True, text=True
    ).stdout.splitlines()
    return [
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code at {revision or '?'}"
        + (f" with {len(changed)} uncommitted changes outside bench/" if changed else ""),
        f"Machine: {os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.0f} GB RAM, {distro}",
        f"PostgreSQL {version} on the same host (shared_buffers {shared_buffers}, jit off for the app's connections; "
        f"tables with their indexes: {sizes}), Python {platform.python_version()}, Django {django.get_version()}, "
        f"gunicorn {gunicorn.__version__}, {wrk_version}",
        f"Server: gunicorn {WORKERS} workers x {THREADS} threads ({' '.join(gunicorn_flags(connections))}), "
        "no access log; "
        "DEBUG=false, CONN_MAX_AGE=60, Redis 7 on the same host (cache)",
        f"Load: wrk {WRK_THREADS} threads, {connections} connections (keep-alive); host load average before the "
        f"run {os.getloadavg()[0]:.2f}",
    ]


def _target(name: str) -> tuple[str, str]:
    """The target a result name measures, and its label (the run without the page cache says so)."""
    base = name.removesuffix(NO_CACHE)
    return base, TARGETS[base][0] + (", no page cache" if base != name else "")


def report(results: dict, paths: dict, lines: list[str], args) -> bool:
    """Print the table and the aims; True when every answer was a 200."""
    bare = results.get("bare")

    def aim(name: str, result: dict) -> tuple[str, bool | None]:
        base, suffix = name.removesuffix(NO_CACHE), name[len(name.removesuffix(NO_CACHE)) :]
        p95 = result["p95_us"] / 1000
        if base in ("page1", "filtered"):
            return f"p95 ≤ {AIMS['catalog_p95_ms']} ms", p95 <= AIMS["catalog_p95_ms"]
        if base == "deep":
            page1 = results.get("page1" + suffix)
            limit = min(AIMS["catalog_p95_ms"], AIMS["deep_over_page1"] * page1["p95_us"] / 1000) if page1 else 50
            return f"p95 ≤ {limit:.1f} ms (≤ 50 and ≤ 1.5 x page 1)", p95 <= limit
        if base.startswith("search"):
            return f"p95 ≤ {AIMS['search_p95_ms']} ms", p95 <= AIMS["search_p95_ms"]
        return "baseline", None

    print("\n" + "\n".join(lines))
    print(f"Each target: {args.warmup} s warm-up, then {args.duration} s measured.\n")
    print(
        "| target | request | p50 (ms) | p95 (ms) | p99 (ms) | req/s | requests | non-200 | socket errors "
        "| aim | met |\n|---|---|---|---|---|---|---|---|---|---|---|"
    )
    clean = True
    for name, result in results.items():
        base, label = _target(name)
        text, met = aim(name, result)
        clean = clean and result["non200"] == 0 and result["socket_errors"] == 0
        shown = paths[base] if len(paths[base]) < 60 else paths[base][:45] + "…"
        print(
            f"| {label} | `{shown}` | {result['p50_us'] / 1000:.1f} | {result['p95_us'] / 1000:.1f} "
            f"| {result['p99_us'] / 1000:.1f} | {result['rps']:,.0f} | {result['requests']:,.0f} "
            f"| {result['non200']:.0f} | {result['socket_errors']:.0f} "
            f"| {text} | {'—' if met is None else 'yes' if met else '**no**'} |"
        )
    print(
        "\nCPU per request while loaded (2 cores in all), and the host's other load:\n\n"
        "| target | gunicorn (ms) | PostgreSQL (ms) | wrk (ms) | host busy | other processes | busiest worker "
        "| attempt |\n|---|---|---|---|---|---|---|---|"
    )
    for name, result in results.items():
        cpu = result["cpu_ms"]
        print(
            f"| {_target(name)[1]} | {cpu['app']:.2f} | {cpu['postgres']:.2f} | {cpu['wrk']:.2f} "
            f"| {result['host_pct']:.0f}% | {result['other_pct']:.0f}% | {result['busiest_worker']:.0f}% "
            f"| {result['attempt']} |"
        )
    print()
    for suffix, label in (("", "cached pages"), (NO_CACHE, "no page cache")):
        page1, deep = results.get("page1" + suffix), results.get("deep" + suffix)
        if page1 and bare:
            ratio = page1["rps"] / bare["rps"]
            verdict = "met" if ratio >= AIMS["catalog_over_bare"] else "MISSED"
            print(f"{label}: catalog page 1 req/s / bare req/s: {ratio:.2f} (aim ≥ 0.33: {verdict})")
        if page1 and deep:
            ratio = deep["p95_us"] / page1["p95_us"]
            verdict = "met" if ratio <= AIMS["deep_over_page1"] else "MISSED"
            print(f"{label}: deep page p95 / page 1 p95: {ratio:.2f} (aim ≤ 1.5: {verdict})")
    if not clean:
        bad = {name: (r["non200"], r["bad_status"], r["socket_errors"]) for name, r in results.items()}
        print(
            f"\nFAIL: non-200 answers or socket errors (timeouts after 10 s) under load: {bad} "
            "(non-200, one status seen, socket errors)"
        )
    return clean


# --- In-process diagnostics (a child process with the servers' environment) ------------------


def diagnose(args, paths: dict) -> None:
    import cProfile
    import pstats

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", HTTP_ACCEPT="application/json")
    captured = QueryLog()

    def get(path):
        response = client.get(path)
        if response.status_code != 200:
            sys.exit(f"FAIL in-process GET {path}: {response.status_code} {response.content[:300]!r}")
        return response

    if args.explain:
        for name in CATALOG_TARGETS:
            get(paths[name])
            captured.clear()
            with connection.execute_wrapper(captured):
                get(paths[name])
            print(f"\n=== {name}: {TARGETS[name][0]} — {len(captured)} queries ===")
            explain_print(connection, captured)

    if args.profile:
        path, count = paths[args.profile], args.profile_requests
        for _ in range(20):
            get(path)
        captured.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(captured):
            for _ in range(count):
                get(path)
        wall = (time.perf_counter() - started) / count * 1000
        sql = sum(seconds for _, _, seconds in captured) / count * 1000
        print(f"\n=== profile {args.profile}: {TARGETS[args.profile][0]}, {count} requests in-process ===")
        print(f"wall {wall:.2f} ms/request; SQL (execute, round trip included) {sql:.2f} ms "
              f"({len(captured) / count:.1f} queries/request); Python {wall - sql:.2f} ms")  # fmt: skip
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(count):
            get(path)
        profiler.disable()
        stats = pstats.Stats(profiler)
        profiled = _cumulative(stats, "django/test/client.py", "request") / count
        print(f"under cProfile: {profiled:.2f} ms/request; where it goes (cumulative, ms/request, nested):")
        for label, path_suffix, function in PROFILE_BREAKDOWN:
            ms = _cumulative(stats, path_suffix, function) / count
            if ms:
                print(f"  {label:<64} {ms:6.2f} ms {ms / profiled:5.0%}")
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)


# (label, file, function) whose cumulative time the profile reports, outermost first.
PROFILE_BREAKDOWN = [
    ("Django handler: middleware, view, rendering", "django/core/handlers/base.py", "get_response"),
    ("  the view (DRF dispatch)", "rest_framework/views.py", "dispatch"),
    ("    DRF initial: authentication, permissions, throttles", "rest_framework/views.py", "initial"),
    ("    ListingViewSet.list", "marketplace/api/catalog.py", "list"),
    ("      catalog_search: filters, ordering", "marketplace/selectors_catalog.py", "catalog_search"),
    ("        catalog_filters_clean (the form's fields)", "marketplace/selectors_catalog.py", "catalog_filters_clean"),
    ("      catalog_page: the cache or the query, and the rows", "marketplace/selectors_catalog.py", "catalog_page"),
    ("        the shared page cache", "marketplace/catalog_cache.py", "catalog_cached"),
    ("        SQL compilation (SQLCompiler.as_sql)", "django/db/models/sql/compiler.py", "as_sql"),
    ("        cursor.execute (round trip to PostgreSQL)", "django/db/backends/utils.py", "execute"),
    ("        CatalogRow (one per listing)", "marketplace/selectors_catalog.py", "__init__"),
    ("      listings_disclose", "marketplace/services/reveals.py", "listings_disclose"),
    ("      listing_payload (one per listing)", "marketplace/api/catalog.py", "listing_payload"),
    ("        masking", "marketplace/selectors_catalog.py", "_masked"),
    ("    DRF finalize_response", "rest_framework/views.py", "finalize_response"),
    ("  rendering (JSONRenderer.render)", "rest_framework/renderers.py", "render"),
    ("  access log line (RequestIdMiddleware logging)", "logging/__init__.py", "info"),
]


def _cumulative(stats, path_suffix: str, function: str) -> float:
    """Cumulative milliseconds of the functions named `function` in files ending in `path_suffix`."""
    return 1000 * sum(
        row[3] for (path, _, name), row in stats.stats.items() if name == function and path.endswith(path_suffix)
    )


# --- Main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database of the benchmark's own (emptied each run)"
    )
    parser.add_argument("--cached-only", action="store_true", help="skip the run with the catalog page cache off")
    parser.add_argument("--rows", type=int, default=1_000_000)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--regenerate", action="store_true", help="generate the data even if it is there")
    data.add_argument("--reuse", action="store_true", help="fail instead of generating when the data is missing")
    parser.add_argument("--duration", type=int, default=20, help="seconds measured per target")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per target (not measured)")
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help=f"runs of a target whose connections land on one worker (> {UNEVEN}%% of the work) before keeping it",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        metavar="SECONDS",
        help="before each target, wait up to this long for other work on the host to fall under 10%% CPU",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) each catalog target")
    parser.add_argument("--profile", choices=[*CATALOG_TARGETS, "bare"], help="profile one target in-process")
    parser.add_argument("--profile-requests", type=int, default=200)
    parser.add_argument(
        "--profile-cache", default="0", metavar="SECONDS", help="CATALOG_CACHE_SECONDS while profiling (default 0: off)"
    )
    parser.add_argument("--no-load", action="store_true", help="skip the load (with --explain or --profile)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--cursor", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        diagnose(args, target_paths(args.cursor))
        return

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get update && apt-get install -y wrk")
    config = db_config(args.database_url)
    os.environ.update(DATABASE_URL=args.database_url, REDIS_URL="", DJANGO_SETTINGS_MODULE="leadnexus.settings")
    import django

    django.setup()
    prepare(args.database_url, args.rows, regenerate=args.regenerate, reuse=args.reuse)
    cursor, deep_first = deep_cursor(config)
    paths = target_paths(cursor)
    expects = {
        "page1": {"count": PAGE_SIZE},
        "deep": {"count": PAGE_SIZE, "first_id": deep_first},
        "filtered": {"count": PAGE_SIZE},
        "search_rare": {"count": RARE_WORDS[RARE_WORD]},
        "search_common": {"count": PAGE_SIZE},
    }
    lines = machine(config)

    results, clean = {}, True
    if not args.no_load:
        # Under /tmp; kept when something failed (the servers' logs), removed otherwise.
        workdir = Path(tempfile.mkdtemp(prefix="leadnexus-bench-catalog-"))
        script = workdir / "catalog.lua"
        script.write_text(WRK_SCRIPT)
        app_targets = [name for name in args.targets if name != "bare"]
        servers = [("app", "leadnexus.settings", app_targets, "", {})]
        if not args.cached_only:
            no_cache = {"CATALOG_CACHE_SECONDS": "0"}
            servers.append(("app-no-cache", "leadnexus.settings", app_targets, NO_CACHE, no_cache))
        servers.append(("bare", "bench.bare_settings", ["bare"] if "bare" in args.targets else [], "", {}))
        for server_name, settings_module, names, suffix, extra in servers:
            if not names:
                continue
            redis_flush(args.redis_url)
            env = server_env(args.database_url, settings_module, args.redis_url, **extra)
            with Server(server_name, settings_module, workdir, env) as server:
                measured = load(server, names, paths, expects, args, script)
            results.update({name + suffix: result for name, result in measured.items()})
        clean = report(results, paths, lines, args)
        if clean:
            shutil.rmtree(workdir)
        else:
            print(f"servers' logs kept in {workdir}")

    if args.explain or args.profile:
        settings_module = "bench.bare_settings" if args.profile == "bare" else "leadnexus.settings"
        env = server_env(args.database_url, settings_module, args.redis_url, CATALOG_CACHE_SECONDS=args.profile_cache)
        command = [sys.executable, __file__, "--child", "--cursor", cursor]
        if args.explain:
            command.append("--explain")
        if args.profile:
            command += ["--profile", args.profile, "--profile-requests", str(args.profile_requests)]
        subprocess.run(command, check=True, env=env)  # noqa: S603 - this script
    if not clean:
        sys.exit(1)


if __name__ == "__main__":
    main()
