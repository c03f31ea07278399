"""Dashboards benchmark: the analytics API over 1,000,000 CRM leads and 200,000 purchases in
PostgreSQL, served by gunicorn with the production settings, 8 clients at once.

Data: written with `COPY` into the database `leadnexus_bench_dashboards` (created and migrated
if missing; kept, and reused, until `--regenerate` or a change of size or of DATA_VERSION),
over the two years up to the generation (`created_at` spread evenly):

- ten buyer organizations with a CRM. "Bench Buyer 0" (America/New_York) holds 70% of the
  leads, a management user, a sales manager and 12 sales reps; the nine others share the
  rest, a manager and 3 reps each, in other time zones. Each lead is assigned to a rep (5%
  to nobody), has a source, and a status that depends on its age (new, contacted,
  qualified, unqualified, lost, converted); leads past `new` have a first contact a few
  hours after they came in; 0.5% are deleted.
- a contact for each converted lead, and opportunities on every converted lead (on the lead
  and its contact, as `lead_convert` makes them) and on 30% of the qualified ones: won, lost
  (both with `closed_at`) or open in one of the four open stages, with amounts,
  probabilities and expected close dates.
- activities (0.6 per lead): calls, emails, meetings, notes, and tasks with due dates (a
  tenth of the past ones still open: overdue).
- six vendor organizations (one with 40% of the sales) with their listings, each listing
  with its inventory lead: 80% of the sold ones shared (sold up to twice), the rest
  exclusive; plus listings waiting for review and rejected ones.
- the purchases, evenly over the two years, 55% of them by "Bench Buyer 0": each delivered
  a lead that is one of the buyer's 1,000,000 (source `marketplace`, the listing's
  industry), at the listing's price, 20% fee; 2.5% disputed (open, rejected or refunded:
  refunded purchases carry `refunded_at`), earnings released after the dispute window. The
  ledger holds each purchase, release and refund as the services post them.

Then `manage.py rollups_rebuild` (timed: the cost of a full rebuild at this size; it also
recomputes the vendors' quality) and VACUUM ANALYZE. Generation takes minutes.

Serving: gunicorn with the production settings and the flags of `bench/catalog.py` (2 workers
x 4 threads, each worker taking 4 of the 8 keep-alive connections), Redis as cache (a
database of the benchmark's own, `--redis-url`, emptied first), so answers are shared
through it as deployed (`analytics.dashboard_cache`; run with DASHBOARD_CACHE_SECONDS=0 in the
environment to measure every answer computed). Each user signs in through
`accounts.services.sessions` (a JWT sent as `Authorization: Bearer`).

Targets, each for the last 30 and the last 365 days (`?days=`): `GET /api/analytics/` as the
big buyer's management user (the organization's figures) and as one of its reps (their own),
`/api/dashboard/client/` and `/api/dashboard/client/purchase-trends/` as its management user,
`/api/dashboard/vendor/` and `/api/dashboard/vendor/sales-trends/` as the big vendor's user,
`/api/analytics/overview/` as staff. Each is first requested once and checked: 200, the range
asked for, and its main count equal to what the source tables say for those local dates
(leads added, purchases, sales). Aim: p95 ≤ 200 ms at 8 clients.

Load: `wrk` (apt-get install -y wrk), 2 threads, 8 connections, a warm-up then a fixed
duration per target; its Lua `done()` reports p50/p95/p99 and every non-200 answer (the
script of `bench/catalog.py`). Each target reports the CPU it cost per request in gunicorn,
PostgreSQL and wrk, and how busy the host's other processes kept the two cores
(`--wait-quiet SECONDS` waits, before each target, for other work to settle under 10%).

    .venv/bin/python bench/dashboards.py [--leads 1000000] [--purchases 200000] \\
        [--regenerate | --reuse] [--duration 20] [--warmup 5] [--wait-quiet 300] [--explain]

`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of every SQL query each target issues (in-process,
production settings) and how long each took. Temporary files go under /tmp. Not part of the
test suite.
"""

import argparse
import bisect
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog import (  # noqa: E402 - the path above first
    CITIES,
    COMPANY_WORDS,
    DEFAULT_REDIS_URL,
    FIRST_NAMES,
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    JOB_TITLES,
    LAST_NAMES,
    LEAD_COLUMNS,
    LISTING_COLUMNS,
    SECRET_KEY,
    WRK_SCRIPT,
    Server,
    machine,
    measure,
    redis_flush,
    request,
    server_env,
    wait_quiet,
    wrk,
)
from bench.common import (  # noqa: E402
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

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/leadnexus_bench_dashboards"
DATA_VERSION = 2  # bump when the generated data changes: the next run regenerates
SEED = 20261204
CONNECTIONS = 8
AIM_P95_MS = 200
RANGES = (30, 365)
SPAN_DAYS = 730

BIG_BUYER_SHARE, BIG_BUYER_PURCHASES = 0.70, 0.55
BUYERS = 10
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London", "UTC"]
VENDOR_WEIGHTS = [40, 20, 15, 10, 10, 5]
SOURCES = ["manual", "import", "form", "api"]
SOURCE_WEIGHTS = [30, 40, 20, 10]
STATUSES = ["new", "contacted", "qualified", "unqualified", "lost", "converted"]
STATUS_WEIGHTS = [20, 25, 18, 12, 15, 10]
KINDS = ["call", "email", "meeting", "note", "task"]
KIND_WEIGHTS = [30, 30, 10, 10, 20]
OPEN_STAGES = ["prospecting", "qualification", "proposal", "negotiation"]
PROBABILITY = {"prospecting": 10, "qualification": 25, "proposal": 50, "negotiation": 75}
DISPUTE_SHARE = 0.025
DISPUTE_WINDOW = timedelta(days=14)
FEE_PERCENT = 20

TARGETS = {
    "sales": ("sales, the organization (management)", "/api/analytics/", "manager"),
    "sales_rep": ("sales, a rep's own figures", "/api/analytics/", "rep"),
    "client": ("buyer dashboard", "/api/dashboard/client/", "manager"),
    "client_trends": ("buyer purchase trends", "/api/dashboard/client/purchase-trends/", "manager"),
    "vendor": ("vendor dashboard", "/api/dashboard/vendor/", "vendor"),
    "vendor_trends": ("vendor sales trends", "/api/dashboard/vendor/sales-trends/", "vendor"),
    "overview": ("staff overview", "/api/analytics/overview/", "staff"),
}
USERS = {
    "manager": "manager0@bench-dashboards.example",
    "rep": "rep0-0@bench-dashboards.example",
    "vendor": "vendor0@bench-dashboards.example",
    "staff": "staff@bench-dashboards.example",
}

LEAD_EXTRA = ("assigned_to_id", "first_contacted_at", "deleted_at")
CONTACT_COLUMNS = (
    "id", "organization_id", "lead_id", "assigned_to_id", "first_name", "last_name", "email", "phone", "company",
    "position", "notes", "email_key", "phone_key", "name_company_key", "created_at", "updated_at",
)  # fmt: skip
OPPORTUNITY_COLUMNS = (
    "id", "organization_id", "lead_id", "contact_id", "assigned_to_id", "title", "amount", "currency", "stage",
    "probability", "expected_close_date", "lost_reason", "closed_at", "created_at", "updated_at",
)  # fmt: skip
ACTIVITY_COLUMNS = (
    "id", "organization_id", "lead_id", "assigned_to_id", "created_by_id", "kind", "subject", "body", "due_at",
    "done_at", "created_at", "updated_at",
)  # fmt: skip
PURCHASE_COLUMNS = (
    "id", "listing_id", "buyer_id", "purchased_by_id", "delivered_lead_id", "price", "currency", "platform_fee",
    "vendor_earning", "status", "purchased_at", "dispute_deadline", "earning_released_at", "refunded_at",
)  # fmt: skip
DISPUTE_COLUMNS = (
    "id", "purchase_id", "buyer_id", "vendor_id", "status", "reason", "details", "vendor_response", "decision",
    "resolution_note", "created_at", "resolved_at",
)  # fmt: skip
TRANSACTION_COLUMNS = ("id", "kind", "ref_type", "ref_id", "memo", "created_at")
ENTRY_COLUMNS = ("transaction_id", "account", "organization_id", "amount", "currency")
BIG_TABLES = [
    "leads_lead", "crm_contact", "crm_opportunity", "crm_activity", "marketplace_listing", "marketplace_purchase",
    "marketplace_dispute", "marketplace_ledgertransaction", "marketplace_ledgerentry",
]  # fmt: skip


# --- Data ---------------------------------------------------------------------------------------


def _dataset(config: dict) -> dict | None:
    with connect(config, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('bench_dashboards_dataset')").fetchone()[0]:
            return None
        row = conn.execute(
            "SELECT leads, purchases, version, generated_at, seconds, phases FROM bench_dashboards_dataset"
        ).fetchone()
    keys = ("leads", "purchases", "version", "generated_at", "seconds", "phases")
    return dict(zip(keys, row, strict=True)) if row else None


def prepare(url: str, leads: int, purchases: int, *, regenerate: bool, reuse: bool) -> dict:
    """Create and migrate the bench database; generate the data unless the same set is there."""
    config = db_config(url)
    present = database_ensure(url, reuse=reuse)
    record = _dataset(config)
    fits = record is not None and (record["leads"], record["purchases"], record["version"]) == (
        leads,
        purchases,
        DATA_VERSION,
    )
    if reuse and not fits:
        sys.exit(f"--reuse: {config['NAME']} holds no data set of {leads:,} leads and {purchases:,} purchases.")
    if fits and not regenerate:
        print(
            f"data: reusing {leads:,} leads and {purchases:,} purchases generated "
            f"{record['generated_at']:%Y-%m-%d %H:%M} (--regenerate to make them again)",
            flush=True,
        )
        return {"reused": True, **record}
    if present:
        database_renew(url)
    return {"reused": False, **generate(config, url, leads, purchases)}


def _people(rng: random.Random) -> dict:
    """The organizations and users, through the services (ids for the rows)."""
    from accounts.models import Organization, User
    from accounts.services.users import organization_create, user_create

    def member(email: str, org, role: str, **extra) -> User:
        name = f"{rng.choice(FIRST_NAMES.split())} {rng.choice(LAST_NAMES.split())}"
        return user_create(
            email=email, password=None, organization=org, role=role, full_name=name, email_verified=True, **extra
        )

    buyers = []
    for n in range(BUYERS):
        org = organization_create(name=f"Bench Buyer {n}", is_buyer=True, is_vendor=False)
        org.time_zone = ZONES[n % len(ZONES)]
        org.save(update_fields=["time_zone"])
        manager = member(f"manager{n}@bench-dashboards.example", org, User.Role.MANAGEMENT)
        reps = [
            member(f"rep{n}-{r}@bench-dashboards.example", org, User.Role.SALES_REP) for r in range(12 if n == 0 else 3)
        ]
        if n == 0:
            reps.append(member("salesmanager0@bench-dashboards.example", org, User.Role.SALES_MANAGER))
        buyers.append(
            {"id": org.pk, "zone": org.time_zone, "manager": manager.pk, "owners": [manager.pk] + [u.pk for u in reps]}
        )
    vendors = []
    for n in range(len(VENDOR_WEIGHTS)):
        org = organization_create(name=f"Bench Vendor {n}", is_buyer=False, is_vendor=True)
        org.time_zone = ZONES[(n + 2) % len(ZONES)]
        org.save(update_fields=["time_zone"])
        vendors.append(
            {"id": org.pk, "user": member(f"vendor{n}@bench-dashboards.example", org, User.Role.MANAGEMENT).pk}
        )
    platform = Organization.objects.filter(is_platform=True).first() or organization_create(
        name="LeadNexus", is_buyer=False, is_vendor=False, is_platform=True
    )
    member(USERS["staff"], platform, User.Role.MANAGEMENT, is_staff=True)
    return {"buyers": buyers, "vendors": vendors}


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


class _Ids:
    """The next id of each table, taken from its sequence's high-water mark."""

    def __init__(self, conn):
        self.next = {
            table: conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]  # noqa: S608
            for table in BIG_TABLES
        }

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] += 1
        return value


def generate(config: dict, url: str, leads: int, purchases: int, seed: int = SEED) -> dict:
    """Write the data set with COPY (secondary indexes dropped meanwhile, then rebuilt), rebuild
    the rollups, VACUUM ANALYZE. Returns the timings."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data
    random_, expo = rng.random, rng.expovariate
    started = time.perf_counter()
    people = _people(rng)
    buyers, vendors = people["buyers"], people["vendors"]
    now = time.time()
    first_at = now - SPAN_DAYS * 86400
    firsts, lasts, words = FIRST_NAMES.split(), LAST_NAMES.split(), COMPANY_WORDS.split()
    industry_cum, vendor_cum = list(accumulate(INDUSTRY_WEIGHTS)), list(accumulate(VENDOR_WEIGHTS))

    def pick(values, cumulative):
        return values[bisect.bisect(cumulative, random_() * cumulative[-1])]

    # Leads and purchases per buyer: the big one first, the others alike.
    lead_counts = [int(leads * BIG_BUYER_SHARE)] + [0] * (BUYERS - 1)
    purchase_counts = [int(purchases * BIG_BUYER_PURCHASES)] + [0] * (BUYERS - 1)
    for n in range(1, BUYERS):
        lead_counts[n] = (leads - lead_counts[0]) // (BUYERS - 1)
        purchase_counts[n] = (purchases - purchase_counts[0]) // (BUYERS - 1)
    lead_counts[-1] += leads - sum(lead_counts)
    purchase_counts[-1] += purchases - sum(purchase_counts)
    buyer_of = [b for b, count in enumerate(purchase_counts) for _ in range(count)]
    rng.shuffle(buyer_of)

    # The purchases in time order: a first sale of a new listing, or the second sale of a
    # shared listing sold once so far to another buyer.
    listings: list[dict] = []
    shared_once: list[int] = []
    plan = []
    for n in range(purchases):
        at = first_at + (SPAN_DAYS * 86400 - 3600) * (n + random_()) / purchases
        buyer = buyer_of[n]
        listing = None
        if shared_once and random_() < 0.45:
            index = rng.randrange(len(shared_once))
            candidate = shared_once[index]
            if listings[candidate]["buyer"] != buyer:
                listing = candidate
                shared_once[index] = shared_once[-1]
                shared_once.pop()
                listings[listing]["sold"] += 1
        if listing is None:
            listing = len(listings)
            shared = random_() < 0.8
            industry = pick(INDUSTRIES, industry_cum)
            listings.append({
                "vendor": pick(vendors, vendor_cum), "industry": industry, "shared": shared, "sold": 1,
                "buyer": buyer, "created": at - random_() * 10 * 86400,
                "price": round(max(8.0, rng.gauss(45, 20)) * (0.7 if shared else 1), 2),
            })  # fmt: skip
            if shared:
                shared_once.append(listing)
        plan.append((at, buyer, listing))
    by_buyer: list[list[int]] = [[] for _ in buyers]
    for n, (_, buyer, _) in enumerate(plan):
        by_buyer[buyer].append(n)

    with connect(config) as conn:
        conn.execute("SET session_replication_role = replica")  # no FK triggers: ids are right by design
        indexes = secondary_indexes(conn, BIG_TABLES)
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.commit()
        ids = _Ids(conn)
        delivered = [0] * purchases
        contact_lines, opportunity_lines, activity_lines = [], [], []
        lead_sql = f"COPY leads_lead ({', '.join((*LEAD_COLUMNS, *LEAD_EXTRA))}) FROM STDIN"
        with conn.cursor().copy(lead_sql) as copy:
            lines, written = [], 0
            for b, buyer in enumerate(buyers):
                events = [(plan[n][0], n) for n in by_buyer[b]]
                events += [(first_at + random_() * SPAN_DAYS * 86400, -1) for _ in range(lead_counts[b] - len(events))]
                events.sort()
                owners = buyer["owners"]
                for at, n in events:
                    lead_id = ids.take("leads_lead")
                    age_days = (now - at) / 86400
                    if age_days < 2:
                        status = "new" if random_() < 0.7 else "contacted"
                    else:
                        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
                    owner = None if random_() < 0.05 else rng.choice(owners)
                    contacted = None
                    if status != "new" or random_() < 0.1:
                        contacted = min(at + expo(1 / 6) * 3600, now - 60)
                    if n >= 0:
                        delivered[n] = lead_id
                        source, industry = "marketplace", listings[plan[n][2]]["industry"]
                    else:
                        source, industry = rng.choices(SOURCES, SOURCE_WEIGHTS)[0], pick(INDUSTRIES, industry_cum)
                    first, last = rng.choice(firsts), rng.choice(lasts)
                    email = f"{first}.{last}{lead_id}@{rng.choice(words).lower()}.example".lower().replace("'", "")
                    created = _iso(at)
                    lines.append(copy_line((
                        lead_id, buyer["id"], first, last, email, "", f"{rng.choice(words)} Inc.",
                        rng.choice(JOB_TITLES), industry, rng.choice(CITIES), "", None, None, "", "", "{}", source,
                        status, rng.randint(20, 95), "{}", "valid", "[]", email, "", "", "f", created, created,
                        owner, _iso(contacted) if contacted else None, _iso(at + 86400) if random_() < 0.005 else None,
                    )))  # fmt: skip
                    contact_id = None
                    if status == "converted":  # as lead_convert does: a contact, and the deal on both
                        contact_id = ids.take("crm_contact")
                        contact_lines.append(copy_line((
                            contact_id, buyer["id"], lead_id, owner, first, last, email, "", "", "", "", email, "", "",
                            created, created,
                        )))  # fmt: skip
                    if status == "converted" or (status == "qualified" and random_() < 0.3):
                        opportunity = _opportunity(ids, rng, buyer["id"], lead_id, contact_id, owner, at, status, now)
                        opportunity_lines.append(opportunity)
                    r = random_()
                    for _ in range(0 if r < 0.6 else 1 if r < 0.85 else 2 if r < 0.95 else 3):
                        line = _activity(ids, rng, buyer["id"], lead_id, owner, at, now)
                        if line:
                            activity_lines.append(line)
                    if len(lines) == 20_000:
                        copy.write("".join(lines))
                        lines = []
                        written += 20_000
                        if written % 200_000 == 0:
                            print(f"  {written:,} leads written ({time.perf_counter() - started:.0f} s)", flush=True)
            copy.write("".join(lines))
            # The vendors' inventory: a lead per listing, then the unsold listings under review.
            for kind, count in (("pending", max(50, purchases // 400)), ("rejected", max(100, purchases // 100))):
                for _ in range(count):
                    at = first_at + random_() * SPAN_DAYS * 86400 if kind == "rejected" else now - random_() * 5 * 86400
                    listings.append({
                        "vendor": pick(vendors, vendor_cum), "industry": pick(INDUSTRIES, industry_cum), "shared": True,
                        "sold": 0, "created": at, "price": 30.0, "approval": kind,
                    })  # fmt: skip
            lines = []
            for listing in listings:
                listing["lead"] = lead_id = ids.take("leads_lead")
                created = _iso(listing["created"])
                lines.append(copy_line((
                    lead_id, listing["vendor"]["id"], rng.choice(firsts), rng.choice(lasts),
                    f"inv{lead_id}@vendor.example", "", "Inventory Co", rng.choice(JOB_TITLES), listing["industry"],
                    rng.choice(CITIES), "", None, None,
                    "", "", "{}", "listing", "new", 60, "{}", "valid", "[]", f"inv{lead_id}@vendor.example", "", "",
                    "t", created, created, None, None, None,
                )))  # fmt: skip
            copy.write("".join(lines))
        conn.commit()
        print(f"  {ids.next['leads_lead'] - 1:,} leads ({time.perf_counter() - started:.0f} s)", flush=True)

        _copy_all(conn, {
            "crm_contact": (CONTACT_COLUMNS, contact_lines),
            "crm_opportunity": (OPPORTUNITY_COLUMNS, opportunity_lines),
            "crm_activity": (ACTIVITY_COLUMNS, activity_lines),
        })  # fmt: skip
        del contact_lines, opportunity_lines, activity_lines

        lines = []
        for listing in listings:
            listing["id"] = ids.take("marketplace_listing")
            approval = listing.get("approval", "approved")
            reviewed = listing["created"] + 3600 + random_() * 86400 if approval != "pending" else None
            exclusive = not listing["shared"]
            status = "sold_out" if exclusive and listing["sold"] else "available"
            lines.append(copy_line((
                listing["id"], listing["vendor"]["id"], listing["lead"], f"{listing['industry']} decision maker", "",
                listing["industry"], rng.choice(CITIES), None, f"{listing['price']:.2f}", "USD",
                "t" if exclusive else "f", 1 if exclusive else 3, listing["sold"], 0, approval, status,
                "Incomplete contact details" if approval == "rejected" else "",
                _iso(reviewed) if reviewed else None, 60, "valid", None, _iso(listing["created"]),
                _iso(reviewed or listing["created"]),
            )))  # fmt: skip
        _copy(conn, "marketplace_listing", LISTING_COLUMNS, lines)

        purchase_lines, dispute_lines, transaction_lines, entry_lines = [], [], [], []

        def post(kind: str, ref: int, at: float, entries) -> None:
            transaction_id = ids.take("marketplace_ledgertransaction")
            transaction_lines.append(copy_line((transaction_id, kind, "purchase", ref, "", _iso(at))))
            for account, org, amount in entries:
                entry_lines.append(copy_line((transaction_id, account, org, f"{amount:.2f}", "USD")))

        for n, (at, b, index) in enumerate(plan):
            listing, buyer = listings[index], buyers[b]
            purchase_id = ids.take("marketplace_purchase")
            price = listing["price"]
            fee = round(price * FEE_PERCENT / 100, 2)
            earning = round(price - fee, 2)
            deadline = at + DISPUTE_WINDOW.total_seconds()
            vendor_id = listing["vendor"]["id"]
            refunded = released = None
            post("purchase", purchase_id, at, [
                ("vendor_pending", vendor_id, earning), ("fees", None, fee), ("provider_clearing", None, -price),
            ])  # fmt: skip
            if random_() < DISPUTE_SHARE:
                opened = at + random_() * (deadline - at)
                status = "open" if now - opened < 5 * 86400 else "refunded" if random_() < 0.4 else "rejected"
                resolved = None if status == "open" else min(opened + random_() * 4 * 86400, now - 60)
                dispute_lines.append(copy_line((
                    ids.take("marketplace_dispute"), purchase_id, buyer["id"], vendor_id, status,
                    rng.choice(["invalid_email", "wrong_phone", "duplicate", "not_as_described"]), "Bounced.", "",
                    {"refunded": "refund_to_card", "rejected": "reject"}.get(status, ""), "", _iso(opened),
                    _iso(resolved) if resolved else None,
                )))  # fmt: skip
                if status == "refunded":
                    refunded = resolved
                    post("refund_to_card", purchase_id, resolved, [
                        ("vendor_pending", vendor_id, -earning), ("fees", None, -fee),
                        ("provider_clearing", None, price),
                    ])  # fmt: skip
                elif status == "rejected" and deadline < now:
                    released = max(deadline, resolved)
            elif deadline < now:
                released = deadline
            if released:
                post("earning_release", purchase_id, released, [
                    ("vendor_pending", vendor_id, -earning), ("vendor_available", vendor_id, earning),
                ])  # fmt: skip
            purchase_lines.append(copy_line((
                purchase_id, listing["id"], buyer["id"], rng.choice(buyer["owners"][:3]), delivered[n],
                f"{price:.2f}", "USD", f"{fee:.2f}", f"{earning:.2f}", "refunded" if refunded else "active",
                _iso(at), _iso(deadline), _iso(released) if released else None, _iso(refunded) if refunded else None,
            )))  # fmt: skip
        _copy_all(conn, {
            "marketplace_purchase": (PURCHASE_COLUMNS, purchase_lines),
            "marketplace_dispute": (DISPUTE_COLUMNS, dispute_lines),
            "marketplace_ledgertransaction": (TRANSACTION_COLUMNS, transaction_lines),
            "marketplace_ledgerentry": (ENTRY_COLUMNS, entry_lines),
        })  # fmt: skip
        sequences_advance(conn, BIG_TABLES)
        copied = time.perf_counter()
        print(f"  COPY done: {copied - started:.0f} s", flush=True)

        indexes_create(conn, indexes)
    indexed = time.perf_counter()
    print(f"  {len(indexes)} indexes rebuilt: {indexed - copied:.0f} s", flush=True)
    with connect(config, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    analyzed = time.perf_counter()

    rebuild = subprocess.run(  # noqa: S603 - manage.py of this project
        [sys.executable, str(ROOT / "manage.py"), "rollups_rebuild"],
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "leadnexus.settings"},
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    rebuilt = time.perf_counter()
    print(f"  rollups_rebuild: {rebuilt - analyzed:.0f} s ({rebuild.stdout.strip()})", flush=True)
    with connect(config, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        rollups = conn.execute("SELECT count(*) FROM analytics_dailyrollup").fetchone()[0]
    vacuumed = time.perf_counter()

    seconds = vacuumed - started
    phases = {
        "copy": copied - started, "indexes": indexed - copied,
        "vacuum_analyze": analyzed - indexed + vacuumed - rebuilt, "rollups_rebuild": rebuilt - analyzed,
        "rollup_rows": rollups,
    }  # fmt: skip
    with connect(config) as conn:
        conn.execute(
            "CREATE TABLE bench_dashboards_dataset (leads int, purchases int, version int, generated_at timestamptz, "
            "seconds float, phases jsonb)"
        )
        conn.execute(
            "INSERT INTO bench_dashboards_dataset VALUES (%s, %s, %s, now(), %s, %s)",
            [leads, purchases, DATA_VERSION, seconds, json.dumps(phases)],
        )
    print(f"data: generated in {seconds:.0f} s {json.dumps({k: round(v) for k, v in phases.items()})}", flush=True)
    return {"seconds": seconds, "phases": phases}


def _copy(conn, table: str, columns: tuple[str, ...], lines: list[str]) -> None:
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for start in range(0, len(lines), 20_000):
            copy.write("".join(lines[start : start + 20_000]))
    conn.commit()


def _copy_all(conn, tables: dict[str, tuple[tuple[str, ...], list[str]]]) -> None:
    """COPY each table's rows, then say how many."""
    for table, (columns, lines) in tables.items():
        _copy(conn, table, columns, lines)
    print("  " + ", ".join(f"{len(lines):,} {table}" for table, (_, lines) in tables.items()), flush=True)


def _opportunity(ids: _Ids, rng: random.Random, org_id: int, lead_id: int, contact_id, owner, at, status: str, now):
    created = at + rng.expovariate(1 / 3) * 86400
    closes = created + rng.uniform(5, 90) * 86400
    r = rng.random()
    stage = (
        ("closed_won" if r < 0.55 else "closed_lost" if r < 0.75 else None)
        if status == "converted"
        else ("closed_lost" if r < 0.5 else None)
    )
    if stage is None or closes > now or created > now:
        stage, closed = rng.choice(OPEN_STAGES), None
        created = min(created, now - 3600)
    else:
        closed = closes
    probability = {"closed_won": 100, "closed_lost": 0, **PROBABILITY}[stage]
    expected = date.fromtimestamp(closed or now + rng.uniform(-30, 180) * 86400)
    return copy_line((
        ids.take("crm_opportunity"), org_id, lead_id, contact_id, owner, "Opportunity",
        f"{rng.uniform(500, 50_000):.2f}", "USD", stage, probability, expected.isoformat(),
        "Budget" if stage == "closed_lost" else "",
        _iso(closed) if closed else None, _iso(created), _iso(closed or created),
    ))  # fmt: skip


def _activity(ids: _Ids, rng: random.Random, org_id: int, lead_id: int, owner, at: float, now: float) -> str | None:
    created = at + rng.expovariate(1 / 2) * 86400
    if created > now:
        return None
    kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
    due = done = None
    if kind == "task":
        due = created + rng.uniform(1, 7) * 86400
        done = due - rng.random() * 86400 if due < now and rng.random() < 0.9 else None
    else:
        done = created
    return copy_line((
        ids.take("crm_activity"), org_id, lead_id, owner, owner, kind, kind.title(), "", _iso(due) if due else None,
        _iso(done) if done else None, _iso(created), _iso(done or created),
    ))  # fmt: skip


# --- Checks ---------------------------------------------------------------------------------------

# What each target's answer must say, counted from the source tables for the answer's range:
# (the figure in the answer, SQL counting it; %(org)s the viewer's organization, %(user)s the
# viewer, %(from)s and %(to)s the range's local dates, %(zone)s its time zone).
EXPECTED = {
    "sales": (
        ("kpis", "new_leads"),
        "SELECT count(*) FROM leads_lead WHERE organization_id = %(org)s AND NOT is_inventory AND deleted_at IS NULL "
        "AND (created_at AT TIME ZONE %(zone)s)::date BETWEEN %(from)s AND %(to)s",
    ),
    "sales_rep": (
        ("kpis", "new_leads"),
        "SELECT count(*) FROM leads_lead WHERE organization_id = %(org)s AND NOT is_inventory AND deleted_at IS NULL "
        "AND assigned_to_id = %(user)s AND (created_at AT TIME ZONE %(zone)s)::date BETWEEN %(from)s AND %(to)s",
    ),
    "client": (
        ("kpis", "purchases"),
        "SELECT count(*) FROM marketplace_purchase WHERE buyer_id = %(org)s "
        "AND (purchased_at AT TIME ZONE %(zone)s)::date BETWEEN %(from)s AND %(to)s",
    ),
    "vendor": (
        ("kpis", "sales"),
        "SELECT count(*) FROM marketplace_purchase p JOIN marketplace_listing l ON l.id = p.listing_id "
        "WHERE l.vendor_id = %(org)s AND (p.purchased_at AT TIME ZONE %(zone)s)::date BETWEEN %(from)s AND %(to)s",
    ),
    "overview": (
        ("kpis", "sales"),
        "SELECT count(*) FROM marketplace_purchase p JOIN marketplace_listing l ON l.id = p.listing_id "
        "JOIN accounts_organization o ON o.id = l.vendor_id "
        "WHERE (p.purchased_at AT TIME ZONE o.time_zone)::date BETWEEN %(from)s AND %(to)s",
    ),
}
EXPECTED["client_trends"] = (("points",), EXPECTED["client"][1])
EXPECTED["vendor_trends"] = (("points",), EXPECTED["vendor"][1])


def check(config: dict, port: int, name: str, days: int, path: str, viewer: dict) -> str:
    """Request the target once; exit unless it answers 200 with the range asked for and its
    main count equal to the source tables'."""
    started = time.perf_counter()
    status, body = request(port, path, viewer["headers"])
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        sys.exit(f"FAIL {name}: GET {path} answered {status}: {body[:500]!r}")
    data = json.loads(body)
    rng = data["range"]
    if rng["days"] != days:
        sys.exit(f"FAIL {name}: a range of {rng['days']} days, asked for {days}")
    where, sql = EXPECTED[name]
    figure = data
    for key in where:
        figure = figure[key]
    if where == ("points",):
        if len(figure) != days:
            sys.exit(f"FAIL {name}: {len(figure)} daily points for {days} days")
        figure = sum(point["count"] for point in figure)
    params = {
        "org": viewer["org"],
        "user": viewer["id"],
        "from": rng["from"],
        "to": rng["to"],
        "zone": rng["time_zone"],
    }
    with connect(config, autocommit=True) as conn:
        counted = conn.execute(sql, params).fetchone()[0]
    if figure != counted or not counted:
        sys.exit(f"FAIL {name}: the answer says {figure}, the source tables {counted} ({'.'.join(where)})")
    return (
        f"{'.'.join(where)} = {figure:,} as counted in the tables, {len(body):,} bytes, first request {elapsed:.0f} ms"
    )


def viewers() -> dict:
    """Each role's user, signed in: its id, organization and bearer header."""
    from accounts.devices import Device
    from accounts.models import User
    from accounts.services.sessions import jwt_issue, session_start

    device = Device(ip="127.0.0.1", user_agent="bench/dashboards.py")
    found = {}
    for role, email in USERS.items():
        user = User.objects.get(email=email)
        token = jwt_issue(session=session_start(user=user, kind="api", device=device, notify=False)).access
        found[role] = {"id": user.pk, "org": user.organization_id, "headers": {"Authorization": f"Bearer {token}"}}
    return found


# --- Load and report ------------------------------------------------------------------------------


def run(config: dict, args, names: list[str], people: dict, script: Path, workdir: Path) -> dict:
    redis_flush(args.redis_url)
    env = server_env(args.database_url, "leadnexus.settings", args.redis_url)
    results = {}
    with Server("dashboards", "leadnexus.settings", workdir, env, connections=CONNECTIONS) as server:
        for name in names:
            _, path, role = TARGETS[name]
            viewer = people[role]
            for days in args.days:
                key, url = f"{name}:{days}", f"{path}?days={days}"
                print(f"{key}: {check(config, server.port, name, days, url, viewer)}", flush=True)
                if args.wait_quiet:
                    wait_quiet(10, args.wait_quiet)
                options = {"connections": CONNECTIONS, "headers": viewer["headers"]}
                if args.warmup:
                    wrk(server.port, url, duration=args.warmup, script=script, **options)
                result = measure(server, url, args, script, **options)
                results[key] = result
                print(
                    f"{key}: p50 {result['p50_us'] / 1000:.1f} ms, p95 {result['p95_us'] / 1000:.1f} ms, "
                    f"p99 {result['p99_us'] / 1000:.1f} ms, {result['rps']:,.1f} req/s, non-200 "
                    f"{result['non200']:.0f}, socket errors {result['socket_errors']:.0f}",
                    flush=True,
                )
    return results


def report(results: dict, lines: list[str], args, dataset: dict) -> bool:
    """Print the tables; True when every answer was a 200."""
    print("\n" + "\n".join(lines))
    phases = dataset.get("phases") or {}
    if phases:
        print(
            f"Data: {args.leads:,} leads, {args.purchases:,} purchases; generated in {dataset['seconds']:.0f} s, of "
            f"which rollups_rebuild {phases['rollups_rebuild']:.0f} s ({phases['rollup_rows']:,} rollup rows)"
        )
    print(f"Each target: {args.warmup} s warm-up, then {args.duration} s measured.\n")
    print(
        "| dashboard | days | p50 (ms) | p95 (ms) | p99 (ms) | req/s | requests | non-200 | socket errors "
        f"| p95 ≤ {AIM_P95_MS} ms |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    clean = True
    for key, result in results.items():
        name, days = key.split(":")
        met = result["p95_us"] / 1000 <= AIM_P95_MS
        clean = clean and result["non200"] == 0 and result["socket_errors"] == 0
        print(
            f"| {TARGETS[name][0]} `{TARGETS[name][1]}` | {days} | {result['p50_us'] / 1000:.1f} "
            f"| {result['p95_us'] / 1000:.1f} | {result['p99_us'] / 1000:.1f} | {result['rps']:,.1f} "
            f"| {result['requests']:,.0f} | {result['non200']:.0f} | {result['socket_errors']:.0f} "
            f"| {'yes' if met else '**no**'} |"
        )
    print(
        "\nCPU per request while loaded (2 cores in all), and the host's other load:\n\n"
        "| dashboard | days | gunicorn (ms) | PostgreSQL (ms) | wrk (ms) | host busy | other processes "
        "| busiest worker |\n|---|---|---|---|---|---|---|---|"
    )
    for key, result in results.items():
        name, days = key.split(":")
        cpu = result["cpu_ms"]
        print(
            f"| {TARGETS[name][0]} | {days} | {cpu['app']:.2f} | {cpu['postgres']:.2f} | {cpu['wrk']:.2f} "
            f"| {result['host_pct']:.0f}% | {result['other_pct']:.0f}% | {result['busiest_worker']:.0f}% |"
        )
    if not clean:
        print("\nFAIL: non-200 answers or socket errors under load")
    return clean


def explain(args) -> None:
    """In a child process with the servers' environment: each target's queries, timed, with
    EXPLAIN (ANALYZE, BUFFERS)."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    people = viewers()
    captured = QueryLog()

    for name in args.targets:
        label, path, role = TARGETS[name]
        client = Client(
            HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", HTTP_ACCEPT="application/json",
            HTTP_AUTHORIZATION=people[role]["headers"]["Authorization"],
        )  # fmt: skip
        for days in args.days:
            url = f"{path}?days={days}"
            client.get(url)
            captured.clear()
            started = time.perf_counter()
            with connection.execute_wrapper(captured):
                response = client.get(url)
            wall = (time.perf_counter() - started) * 1000
            sql_ms = sum(seconds for *_, seconds in captured) * 1000
            print(
                f"\n=== {name}:{days} {label}: {response.status_code}, {wall:.1f} ms in-process, "
                f"{len(captured)} queries, {sql_ms:.1f} ms in SQL ==="
            )
            explain_print(connection, captured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="a Redis database of the benchmark's own")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=200_000)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--regenerate", action="store_true", help="generate the data even if it is there")
    data.add_argument("--reuse", action="store_true", help="fail instead of generating when the data is missing")
    parser.add_argument("--duration", type=int, default=20, help="seconds measured per target")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per target (not measured)")
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    parser.add_argument("--days", nargs="+", type=int, default=list(RANGES), help="the ranges measured")
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        metavar="SECONDS",
        help="before each target, wait up to this long for other work on the host to fall under 10%% CPU",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) each target's queries")
    parser.add_argument("--no-load", action="store_true", help="skip the load (with --explain)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        explain(args)
        return

    if shutil.which("wrk") is None and not args.no_load:
        sys.exit("wrk is not installed: apt-get update && apt-get install -y wrk")
    config = db_config(args.database_url)
    os.environ.update(
        DATABASE_URL=args.database_url, REDIS_URL="", SECRET_KEY=SECRET_KEY, DJANGO_SETTINGS_MODULE="leadnexus.settings"
    )
    import django

    django.setup()
    dataset = prepare(args.database_url, args.leads, args.purchases, regenerate=args.regenerate, reuse=args.reuse)
    lines = machine(
        config, tables=("leads_lead", "marketplace_purchase", "analytics_dailyrollup"), connections=CONNECTIONS
    )
    clean = True
    if not args.no_load:
        workdir = Path(tempfile.mkdtemp(prefix="leadnexus-bench-dashboards-"))
        script = workdir / "dashboards.lua"
        script.write_text(WRK_SCRIPT)
        results = run(config, args, args.targets, viewers(), script, workdir)
        clean = report(results, lines, args, dataset)
        if clean:
            shutil.rmtree(workdir)
        else:
            print(f"servers' logs kept in {workdir}")
    if args.explain:
        env = server_env(args.database_url, "leadnexus.settings", args.redis_url)
        command = [sys.executable, __file__, "--child", "--targets", *args.targets, "--days", *map(str, args.days)]
        subprocess.run(command, check=True, env=env)  # noqa: S603 - this script
    if not clean:
        sys.exit(1)


if __name__ == "__main__":
    main()
