"""Checkout benchmark: 32 buyers paying at once through the API on PostgreSQL, served as
deployed; completed purchases per second, p95 of confirm, and the proof afterwards: nothing
oversold, no hold left, one charge per paid order, and a ledger that balances.

Data (made again on each run, in the database `leadnexus_bench_checkout`): one vendor with
3,000 approved listings (2,000 exclusive, 1,000 sold to up to 3 buyers: 5,000 units), 32 buyer
organizations of one management user each, signed in through the API (a JWT each).

Serving: gunicorn with the production settings and the flags of `bench/catalog.py` (each
worker taking 16 of the 32 keep-alive connections), Redis as
cache and Celery broker, and one Celery worker (the mock processor's webhook deliveries and
the emails go through it, as in production).

Load: 32 threads, one per buyer, each a keep-alive HTTP session. Each loops for `--duration`
seconds: pick a listing (half the picks from 40 "hot" listings everyone wants, to make buyers
collide), `POST marketplace/cart/items`, `POST payments/create-intent`, `POST payments/confirm`
with the card that succeeds (both with an Idempotency-Key). A 409 (the listing went to
someone else first) is a conflict, not an error: the buyer empties the cart and goes on.
Anything else that is not 2xx, or a socket error, is an error and fails the run.

    .venv/bin/python bench/checkout.py [--duration 30] [--buyers 32] [--redis-url redis://127.0.0.1:6379/9]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog import (  # noqa: E402 - the path above first
    DEFAULT_REDIS_URL,
    SECRET_KEY,
    THREADS,
    WORKERS,
    Server,
    gunicorn_flags,
    redis_flush,
    server_env,
)

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/leadnexus_bench_checkout"
EXCLUSIVE, SHARED, HOT = 2000, 1000, 40
CARD = "4242424242424242"


def prepare(url: str, buyers: int) -> tuple[list[int], list[str]]:
    """A fresh database with the vendor's listings and the buyers; (listing ids, tokens)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "DJANGO_SETTINGS_MODULE": "leadnexus.settings"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from accounts.devices import Device
    from accounts.models import User
    from accounts.services.sessions import jwt_issue, session_start
    from accounts.services.users import organization_create, user_create
    from leads.models import Lead
    from marketplace.models import Listing

    vendor_org = organization_create(name="Bench Vendor", is_buyer=False, is_vendor=True)
    vendor = user_create(email="vendor@bench.example", password=None, organization=vendor_org, email_verified=True)
    leads = Lead.objects.bulk_create(
        Lead(
            organization=vendor_org,
            first_name="Person",
            last_name=str(n),
            email=f"person{n}@company{n}.example",
            email_key=f"person{n}@company{n}.example",
            company=f"Company {n}",
            is_inventory=True,
            source=Lead.Source.LISTING,
            validation_status="valid",
            score=60,
        )
        for n in range(EXCLUSIVE + SHARED)
    )
    listings = Listing.objects.bulk_create(
        Listing(
            vendor=vendor_org,
            lead=lead,
            created_by=vendor,
            title=f"Decision maker {n}",
            industry="Software",
            price=Decimal(20 + n % 50),
            exclusive=n < EXCLUSIVE,
            max_sales=1 if n < EXCLUSIVE else 3,
            approval_status=Listing.ApprovalStatus.APPROVED,
            lead_score=60,
            validation_status="valid",
        )
        for n, lead in enumerate(leads)
    )
    device = Device(ip="127.0.0.1", user_agent="bench/checkout.py")
    tokens = []
    for n in range(buyers):
        org = organization_create(name=f"Bench Buyer {n}", is_buyer=True, is_vendor=False)
        user = user_create(
            email=f"buyer{n}@bench.example", password=None, organization=org, role=User.Role.MANAGEMENT,
            email_verified=True,
        )  # fmt: skip
        tokens.append(jwt_issue(session=session_start(user=user, kind="api", device=device, notify=False)).access)
    return [listing.pk for listing in listings], tokens


class Buyer(threading.Thread):
    def __init__(self, port: int, token: str, listings: list[int], hot: list[int], until: float, seed: int):
        super().__init__(daemon=True)
        import requests

        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https", "Accept": "application/json"}
        )
        self.base = f"http://127.0.0.1:{port}/api"
        self.listings, self.hot, self.until = listings, hot, until
        self.rng = random.Random(seed)  # noqa: S311 - load, not secrets
        self.confirms: list[float] = []
        self.checkouts: list[float] = []
        self.purchased = self.conflicts = 0
        self.errors: list[str] = []

    def post(self, path: str, body: dict, *, key: bool = False):
        headers = {"Idempotency-Key": uuid.uuid4().hex} if key else {}
        return self.session.post(f"{self.base}{path}", json=body, headers=headers, timeout=30)

    def run(self):
        while time.monotonic() < self.until and not self.errors:
            pool = self.hot if self.rng.random() < 0.5 else self.listings
            listing = self.rng.choice(pool)
            started = time.perf_counter()
            try:
                added = self.post("/marketplace/cart/items/", {"listing_id": listing})
                if added.status_code == 409:
                    self.conflicts += 1
                    continue
                self.check(added, 201)
                intent = self.post("/payments/create-intent/", {}, key=True)
                if intent.status_code == 409:
                    self.conflicts += 1
                    self.session.delete(f"{self.base}/marketplace/cart/items/{added.json()['id']}/", timeout=30)
                    continue
                self.check(intent, 201)
                confirm_started = time.perf_counter()
                paid = self.post(
                    "/payments/confirm/",
                    {"payment_intent_id": intent.json()["payment_intent_id"], "card_number": CARD},
                    key=True,
                )
                self.confirms.append(time.perf_counter() - confirm_started)
                if paid.status_code == 409:
                    self.conflicts += 1
                    self.session.delete(f"{self.base}/marketplace/cart/items/{added.json()['id']}/", timeout=30)
                    continue
                self.check(paid, 200)
                self.purchased += len(paid.json()["purchases"])
                self.checkouts.append(time.perf_counter() - started)
            except Exception as exc:  # a socket error or an unexpected answer: the run fails
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def check(self, response, status: int):
        if response.status_code != status:
            raise RuntimeError(
                f"{response.request.method} {response.url}: {response.status_code} {response.text[:300]}"
            )


def verify(url: str) -> dict:
    """What the database says after the load."""
    import psycopg

    with psycopg.connect(url) as conn:

        def one(sql: str):
            return conn.execute(sql).fetchone()[0]

        return {
            "oversold listings": one(
                "SELECT count(*) FROM marketplace_listing l WHERE l.sold_count > l.max_sales OR l.sold_count <> "
                "(SELECT count(*) FROM marketplace_purchase p WHERE p.listing_id = l.id)"
            ),
            "listings still holding a reservation": one(
                "SELECT count(*) FROM marketplace_listing WHERE reserved_count > 0"
            ),
            "payments stuck processing": one("SELECT count(*) FROM marketplace_payment WHERE status = 'processing'"),
            "paid orders": one("SELECT count(*) FROM marketplace_order WHERE status = 'paid'"),
            "charges at the processor": one("SELECT coalesce(sum(charges), 0) FROM marketplace_mockprocessorintent"),
            "purchases": one("SELECT count(*) FROM marketplace_purchase"),
            "unbalanced ledger transactions": one(
                "SELECT count(*) FROM (SELECT transaction_id FROM marketplace_ledgerentry GROUP BY transaction_id "
                "HAVING sum(amount) <> 0) t"
            ),
            "ledger total": one("SELECT coalesce(sum(amount), 0) FROM marketplace_ledgerentry"),
            "leads delivered": one("SELECT count(*) FROM leads_lead WHERE source = 'marketplace'"),
        }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--buyers", type=int, default=32)
    parser.add_argument("--duration", type=int, default=30)
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL="",
        SECRET_KEY=SECRET_KEY,
        DEBUG="false",
        DJANGO_SETTINGS_MODULE="leadnexus.settings",
    )
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    started = time.monotonic()
    listings, tokens = prepare(args.database_url, args.buyers)
    print(f"data: {len(listings):,} listings, {len(tokens)} buyers ({time.monotonic() - started:.0f} s)", flush=True)

    redis_flush(args.redis_url)
    env = server_env(args.database_url, "leadnexus.settings", args.redis_url)
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "leadnexus-bench-checkout"  # noqa: S108
    workdir.mkdir(exist_ok=True)
    worker_log = (workdir / "celery.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "leadnexus", "worker", "-l", "warning", "-c", "1"],
        cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with Server("checkout", "leadnexus.settings", workdir, env, connections=args.buyers) as server:
            rng = random.Random(20261204)  # noqa: S311 - load, not secrets
            hot = rng.sample(listings, HOT)
            until = time.monotonic() + args.duration
            buyers = [Buyer(server.port, token, listings, hot, until, seed) for seed, token in enumerate(tokens)]
            load_started = time.monotonic()
            for buyer in buyers:
                buyer.start()
            for buyer in buyers:
                buyer.join(timeout=args.duration + 60)
            elapsed = time.monotonic() - load_started
            time.sleep(5)  # the worker's last webhook deliveries
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    confirms = [value for buyer in buyers for value in buyer.confirms]
    checkouts = [value for buyer in buyers for value in buyer.checkouts]
    purchased = sum(buyer.purchased for buyer in buyers)
    errors = [error for buyer in buyers for error in buyer.errors]
    facts = verify(args.database_url)
    report = {
        "buyers": len(buyers),
        "seconds": round(elapsed, 1),
        "completed purchases": purchased,
        "purchases per second": round(purchased / elapsed, 1),
        "conflicts (409: the listing went to another buyer)": sum(buyer.conflicts for buyer in buyers),
        "confirm p50 ms": round(percentile(confirms, 0.5), 1),
        "confirm p95 ms": round(percentile(confirms, 0.95), 1),
        "whole checkout (3 requests) p50 ms": round(statistics.median(checkouts) * 1000, 1) if checkouts else 0,
        "whole checkout p95 ms": round(percentile(checkouts, 0.95), 1),
        "errors": len(errors),
        **facts,
    }
    print(json.dumps(report, indent=2, default=str))
    problems = [
        name
        for name in ("oversold listings", "listings still holding a reservation", "unbalanced ledger transactions")
        if facts[name]
    ]
    if facts["charges at the processor"] != facts["paid orders"] or facts["ledger total"] != 0:
        problems.append("charges, paid orders and ledger disagree")
    if errors:
        print("errors:", *errors[:10], sep="\n  ")
    flags = " ".join(gunicorn_flags(args.buyers))
    print(f"gunicorn {WORKERS} workers x {THREADS} threads ({flags}); worker log {worker_log.name}")
    if problems or errors:
        sys.exit(f"FAIL: {', '.join(problems) or 'errors under load'}")


if __name__ == "__main__":
    main()
