"""The mixed workload of `bench/load.py`, for Locust (`bench/requirements.txt`, in a virtualenv of
its own: it never imports the application). Not part of the test suite.

Three kinds of people, each signed in as an account `bench/load.py` made (a JWT for the API and
a page session cookie for the server-rendered pages, both from `LOAD_ACCOUNTS`):

- buyers (weight 6): the catalog (API and page, filters, full-text search), goal search, a
  listing's detail (API and page), their purchases, and now and then a checkout: add a
  listing from the catalog's first page to the cart, create the payment intent, confirm it
  with the mock card that succeeds. Everyone sees the same first page, so buyers compete for
  the same listings: a 409 (sold meanwhile, already bought by a colleague), or a 404 for a
  listing sold since the catalog page was read, is a conflict,
  counted apart, not an error. Each buyer has an account of their own (a cart is per user).
- sales reps (weight 3): their leads, contacts and opportunities (API and pages), a lead
  opened and updated, an opportunity updated, their tasks (API and page).
- managers (weight 1): the sales dashboard, the buyer and vendor dashboards, the forecast
  (API and pages).

Each simulated user starts one task every `LOAD_PACING` seconds on average (uniformly 0.5x to
1.5x: the think time is what is left after the task's own requests), so the arrival rate is
users x requests per task / pacing, whatever the latency (`REQUESTS_PER_TASK` is that mean).
The shape below starts as many users as `LOAD_RPS` needs, spawned over `LOAD_SPAWN_SECONDS`,
resets the statistics after `LOAD_WARMUP_SECONDS` and stops after `LOAD_SECONDS`; a task
still running then finishes (`--stop-timeout`). At the end `LOAD_OUT` receives the figures as
JSON: requests, failures (any non-2xx that is not an expected conflict, any socket error),
5xx answers, conflicts, purchases, percentiles overall and per request name.
"""

import itertools
import json
import os
import random
import time
import uuid
from collections import Counter

import gevent
from locust import FastHttpUser, LoadTestShape, events, task

ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"]).read())  # noqa: SIM115 - read once at import
RPS = float(os.environ.get("LOAD_RPS", "10"))
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
PACING = float(os.environ.get("LOAD_PACING", "10"))
SPAWN_SECONDS = float(os.environ.get("LOAD_SPAWN_SECONDS", "5"))
WARMUP_SECONDS = float(os.environ.get("LOAD_WARMUP_SECONDS", "15"))
OUT = os.environ.get("LOAD_OUT", "load-result.json")
CARD = "4242424242424242"  # the mock processor's card that succeeds

API = {"Accept": "application/json", "X-Forwarded-Proto": "https"}
PAGE = {"Accept": "text/html", "X-Forwarded-Proto": "https"}

INDUSTRIES = ["SaaS", "Software", "Healthcare", "Manufacturing", "Finance", "Retail", "Logistics", "Energy"]
STATES = ["CA", "TX", "NY", "FL", "WA", "IL", "MA", "CO"]
WORDS = ["CEO", "founder", "director", "healthcare", "software", "manager", "logistics", "verified"]
GOALS = [
    "SaaS companies in California with 50+ employees under $120",
    "Healthcare decision makers in Texas",
    "CTOs of software companies in New York under $100",
    "Manufacturing operations managers in the Midwest",
    "Retail founders in Florida with 10 to 200 employees",
]
LEAD_TITLES = ["Head of Sales", "VP of Sales", "Sales Director", "Operations Manager", "CEO", "Founder"]

conflicts: Counter = Counter()
# A listing sold after the catalog page that showed it was read is gone from the catalog.
SOLD_SINCE = (404,)
counters: Counter = Counter()
whole_run: Counter = Counter()  # warm-up included
warmup_errors: Counter = Counter()
running: dict = {}  # simulated users of each kind, once all started


def what_failed(body: str) -> str:
    """The error envelope's code and message (not its request id, so that failures group), or
    the start of the body."""
    try:
        error = json.loads(body)["error"]
        return f"{error['code']}: {error['message']}"[:200]
    except (ValueError, KeyError, TypeError):
        return body[:160]


def paced(user) -> float:
    """Think time: what is left of this user's pacing interval after the task's requests."""
    now = time.monotonic()
    target = user.rng.uniform(0.5, 1.5) * PACING
    wait = max(0.0, target - (now - user.task_started))
    user.task_started = now + wait
    return wait


class Person(FastHttpUser):
    abstract = True
    wait_time = paced
    kind = ""
    network_timeout = 30.0
    connection_timeout = 10.0
    _numbers: dict = {}

    def on_start(self):
        pool = ACCOUNTS[self.kind]
        number = next(Person._numbers.setdefault(self.kind, itertools.count()))
        self.account = pool[number % len(pool)]
        self.rng = random.Random(f"{self.kind}-{number}")  # noqa: S311 - load, not secrets
        self.api = {**API, "Authorization": f"Bearer {self.account['access']}"}
        self.page_headers = {**PAGE, "Cookie": f"sessionid={self.account['sessionid']}"}
        # Users arrive spread over one pacing interval, not all at once.
        gevent.sleep(self.rng.uniform(0, PACING))
        self.task_started = time.monotonic()

    def call(self, method: str, path: str, name: str, *, page: bool = False, ok=(200,), conflict=(), **kwargs):
        """One request; the answer's JSON (or None). `conflict`: statuses expected when another
        buyer got there first, counted apart."""
        headers = {**(self.page_headers if page else self.api), **kwargs.pop("headers", {})}
        with self.client.request(method, path, name=name, headers=headers, catch_response=True, **kwargs) as answer:
            status = answer.status_code
            if status in ok:
                answer.success()
            elif status in conflict:
                conflicts[name] += 1
                answer.success()
                return None
            else:
                if status >= 500:
                    counters["server errors"] += 1
                    whole_run["server errors"] += 1
                answer.failure(f"HTTP {status}: {what_failed(answer.text or '')}" if status else f"{answer.error!r}")
                return None
            if page or status == 204:
                return {}
            try:
                return answer.json()
            except ValueError:
                answer.failure(f"HTTP {status}: not JSON")
                return None


class Buyer(Person):
    weight = 6
    kind = "buyers"

    def catalog_ids(self) -> list[int]:
        data = self.call("GET", "/api/marketplace/listings/", "api catalog page 1")
        return [row["id"] for row in (data or {}).get("results", [])]

    @task(10)
    def catalog(self):
        self.catalog_ids()

    @task(6)
    def catalog_filtered(self):
        params = {"industry": self.rng.choice(INDUSTRIES), "location": self.rng.choice(STATES), "min_score": "40"}
        self.call("GET", "/api/marketplace/listings/", "api catalog filtered", params=params)

    @task(5)
    def catalog_search(self):
        self.call("GET", "/api/marketplace/listings/", "api catalog search", params={"search": self.rng.choice(WORDS)})

    @task(6)
    def catalog_page(self):
        params = {"industry": self.rng.choice(INDUSTRIES)} if self.rng.random() < 0.5 else {}
        self.call("GET", "/marketplace/", "page catalog", page=True, params=params)

    @task(2)
    def goal_search(self):
        goal = self.call(
            "POST", "/api/search/goals/", "api goal create", ok=(201,), json={"goal": self.rng.choice(GOALS)}
        )
        if goal:
            self.call("GET", "/api/search/results/", "api goal results", params={"goal": goal["id"]})

    @task(6)
    def listing_detail(self):
        ids = self.catalog_ids()
        if ids:
            listing = self.rng.choice(ids)
            if self.rng.random() < 0.5:
                self.call("GET", f"/api/marketplace/listings/{listing}/", "api listing", conflict=SOLD_SINCE)
            else:
                self.call("GET", f"/marketplace/listings/{listing}/", "page listing", page=True, conflict=SOLD_SINCE)

    @task(2)
    def purchases(self):
        if self.rng.random() < 0.5:
            self.call("GET", "/api/marketplace/purchases/", "api purchases")
        else:
            self.call("GET", "/marketplace/purchases/", "page purchases", page=True)

    @task(3)
    def checkout(self):
        ids = self.catalog_ids()
        if not ids:
            return
        item = self.call(
            "POST", "/api/marketplace/cart/items/", "api cart add", ok=(201,), conflict=(409,),
            json={"listing_id": self.rng.choice(ids[:10])},
        )  # fmt: skip
        if not item:
            return
        intent = self.call(
            "POST", "/api/payments/create-intent/", "api create-intent", ok=(201,), conflict=(409,),
            json={}, headers={"Idempotency-Key": uuid.uuid4().hex},
        )  # fmt: skip
        if intent:
            paid = self.call(
                "POST", "/api/payments/confirm/", "api confirm", conflict=(409,),
                json={"payment_intent_id": intent["payment_intent_id"], "card_number": CARD},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )  # fmt: skip
            if paid:
                counters["purchases"] += len(paid.get("purchases", []))
                return
        # Sold meanwhile: the buyer empties the cart (with anything an interrupted run left) and goes on.
        cart = self.call("GET", "/api/marketplace/cart/", "api cart") or {}
        for row in cart.get("items", []):
            self.call("DELETE", f"/api/marketplace/cart/items/{row['id']}/", "api cart remove", ok=(204, 404))


class SalesRep(Person):
    weight = 3
    kind = "reps"

    def lead_rows(self) -> list[dict]:
        data = self.call("GET", "/api/leads/", "api leads", params={"ordering": "-created_at"})
        return (data or {}).get("results", [])

    @task(6)
    def leads(self):
        self.lead_rows()

    @task(4)
    def leads_page(self):
        self.call("GET", "/leads/", "page leads", page=True)

    @task(4)
    def lead_update(self):
        # Not a lead with neither a usable email nor phone: saving one asks for them first (400).
        ids = [row["id"] for row in self.lead_rows() if row["validation_status"] != "invalid"]
        if not ids:
            return
        lead = self.call("GET", f"/api/leads/{self.rng.choice(ids)}/", "api lead")
        if lead:
            change = {"status": "contacted"} if lead["status"] == "new" else {}
            change["job_title"] = self.rng.choice(LEAD_TITLES)
            self.call("PATCH", f"/api/leads/{lead['id']}/", "api lead update", json=change)

    @task(3)
    def contacts(self):
        if self.rng.random() < 0.6:
            self.call("GET", "/api/contacts/", "api contacts")
        else:
            self.call("GET", "/crm/contacts/", "page contacts", page=True)

    @task(3)
    def opportunities(self):
        if self.rng.random() < 0.5:
            self.call("GET", "/api/opportunities/", "api opportunities")
        else:
            self.call("GET", "/crm/opportunities/board/", "page pipeline board", page=True)

    @task(2)
    def opportunity_update(self):
        data = self.call("GET", "/api/opportunities/", "api opportunities")
        rows = [row for row in (data or {}).get("results", []) if not row["stage"].startswith("closed")]
        if rows:
            deal = self.rng.choice(rows)
            change = {
                "amount": str(self.rng.choice([4800, 7500, 12000, 18000])),
                "probability": self.rng.randint(30, 70),
            }
            self.call("PATCH", f"/api/opportunities/{deal['id']}/", "api opportunity update", json=change)

    @task(5)
    def my_tasks(self):
        if self.rng.random() < 0.6:
            due = self.rng.choice(["overdue", "today", "upcoming"])
            self.call("GET", "/api/activities/", "api my tasks", params={"mine": "true", "due": due})
        else:
            self.call("GET", "/crm/tasks/", "page my tasks", page=True)


class Manager(Person):
    weight = 1
    kind = "managers"

    @task(3)
    def sales_dashboard(self):
        self.call("GET", "/api/analytics/", "api sales dashboard", params={"days": self.rng.choice([7, 30, 90])})

    @task(2)
    def buyer_dashboard(self):
        self.call("GET", "/api/dashboard/client/", "api buyer dashboard")

    @task(2)
    def dashboard_page(self):
        self.call("GET", "/dashboard/", "page dashboard", page=True)

    @task(1)
    def forecast(self):
        self.call("GET", "/api/opportunities/forecast/", "api forecast")

    @task(1)
    def vendor_dashboard(self):
        vendor = self.rng.choice(ACCOUNTS["vendors"])
        headers = {"Authorization": f"Bearer {vendor['access']}"}
        self.call("GET", "/api/dashboard/vendor/", "api vendor dashboard", headers=headers)


# Requests per task of each kind (a checkout that ends in a conflict sends fewer: this is the
# plan), and the mean over the mix: the arrival rate is users x REQUESTS_PER_TASK / PACING.
TASK_REQUESTS = {
    Buyer: {"catalog": 1, "catalog_filtered": 1, "catalog_search": 1, "catalog_page": 1, "goal_search": 2,
            "listing_detail": 2, "purchases": 1, "checkout": 4},
    SalesRep: {"leads": 1, "leads_page": 1, "lead_update": 3, "contacts": 1, "opportunities": 1,
               "opportunity_update": 2, "my_tasks": 1},
    Manager: {"sales_dashboard": 1, "buyer_dashboard": 1, "dashboard_page": 1, "forecast": 1, "vendor_dashboard": 1},
}  # fmt: skip


def _mean_requests(user_class) -> float:
    weights = {
        fn.__name__: fn.locust_task_weight for fn in vars(user_class).values() if hasattr(fn, "locust_task_weight")
    }
    return sum(weights[name] * TASK_REQUESTS[user_class][name] for name in weights) / sum(weights.values())


CLASSES = (Buyer, SalesRep, Manager)
REQUESTS_PER_TASK = sum(c.weight * _mean_requests(c) for c in CLASSES) / sum(c.weight for c in CLASSES)


class Steady(LoadTestShape):
    """As many users as LOAD_RPS needs, for LOAD_SECONDS."""

    users = max(1, round(RPS * PACING / REQUESTS_PER_TASK))

    def tick(self):
        if self.get_run_time() >= SECONDS:
            return None
        return self.users, max(1.0, self.users / SPAWN_SECONDS)


@events.test_start.add_listener
def _reset_after_warmup(environment, **kwargs):
    def reset():
        gevent.sleep(WARMUP_SECONDS)
        whole_run["warm-up requests"] = environment.stats.total.num_requests
        whole_run["warm-up failures"] = environment.stats.total.num_failures
        warmup_errors.update(
            {f"{e.method} {e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()}
        )
        running.update(environment.runner.user_classes_count)
        environment.runner.stats.reset_all()
        conflicts.clear()
        counters.clear()
        counters["measured from"] = time.time()

    gevent.spawn(reset)


@events.quitting.add_listener
def _write_result(environment, **kwargs):
    stats = environment.stats
    total = stats.total
    started = counters.pop("measured from", total.start_time)
    seconds = max(time.time() - started, 1e-9)

    def figures(entry) -> dict:
        return {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "p50_ms": entry.get_response_time_percentile(0.50) or 0,
            "p95_ms": entry.get_response_time_percentile(0.95) or 0,
            "p99_ms": entry.get_response_time_percentile(0.99) or 0,
            "max_ms": entry.max_response_time or 0,
        }

    shared = [kind for kind, cls in (("buyers", "Buyer"),) if running.get(cls, 0) > len(ACCOUNTS[kind])]
    result = {
        **figures(total),
        "users_by_kind": running,
        # More simulated buyers than buying accounts: two of them share a cart (make more accounts).
        "accounts_shared": shared,
        "target_rps": RPS,
        "users": Steady.users,
        "pacing_s": PACING,
        "requests_per_task": round(REQUESTS_PER_TASK, 3),
        "measured_s": round(seconds, 1),
        "rps": total.num_requests / seconds,
        "server_errors": counters["server errors"],
        "purchases": counters["purchases"],
        "warmup": {
            "requests": whole_run["warm-up requests"],
            "failures": whole_run["warm-up failures"],
            "server_errors_whole_run": whole_run["server errors"],
            "errors": dict(warmup_errors),
        },
        "conflicts": dict(conflicts),
        "errors": {f"{error.method} {error.name}: {error.error}": error.occurrences for error in stats.errors.values()},
        "by_name": {f"{entry.method} {entry.name}": figures(entry) for entry in stats.entries.values()},
    }
    with open(OUT, "w") as out:
        json.dump(result, out, indent=1, default=str)
