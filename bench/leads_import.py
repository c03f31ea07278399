"""Lead import benchmark: the import engine against django-import-export and a raw COPY.

Generates a realistic CSV (default 100,000 rows: accents, several phone formats, role and
disposable addresses, ~5% in-file duplicates written differently, ~3% unreachable rows),
then imports the same file three ways, each in a fresh process on a fresh organization:

- engine: `leads.imports` end to end (read + stage + preview, then the batches with
  validation, dedupe, assignment and the per-job side effects), timed per phase;
- import-export: django-import-export's `import_data` with the admin's `LeadResource`
  (which runs the same cleaning and dedupe);
- copy: PostgreSQL `COPY` of the same rows, as given, into the lead table (no validation,
  no dedupe): the floor.

Each contender reports rows per second and its process's peak RSS. `--profile` runs the
engine once more under cProfile and prints where the time goes.

    createdb -h 127.0.0.1 -U postgres leadnexus_bench   # or let the script create it
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadnexus_bench \\
        .venv/bin/python bench/leads_import.py [--rows 100000] [--profile] [--skip import-export]

Not part of the test suite.
"""

import argparse
import csv
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadnexus.settings")
# No broker: tasks the import sends (scoring, emails) are queued in memory, not run here; the
# benchmark runs the import task itself, in this process.
os.environ.pop("REDIS_URL", None)

HEADERS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "industry",
    "location",
    "website",
    "employee_count",
    "annual_revenue",
    "customer_category",
]
FIRST = "Anna Ben Chloé David Émile Fatima Georg Hana Ivan Julia Kenji Laura Mateo Nora Oskar Priya Quentin Rosa "
FIRST += "Sven Tomás Uma Viktor Wen Xavier Yara Zoë Ada Björn Carmen Dmitri Elena Farid Grace Hugo Inés Jonas"
LAST = "Müller Smith García Rossi Dubois Novak Kowalski Jensen Silva Tanaka Nguyen O'Brien Schmidt Martin Lopez "
LAST += "Fischer Weber Moreau Costa Ivanova Larsen Svensson Bakker Horvat Papadopoulos Yilmaz Kim Chen Patel Cohen"
COMPANY_WORDS = "Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Pied Piper Nakatomi Cyberdyne Tyrell Wonka"
COMPANY_WORDS += " Soylent Gringotts Oscorp Massive Dynamic Aperture Black Mesa Monarch Virtucon Gekko Dunder"
SUFFIXES = ["GmbH", "Inc.", "Ltd", "LLC", "SA", "AG", "BV", "Corp", "", ""]
TITLES = [
    "CEO", "CTO", "VP of Sales", "Head of Marketing", "Sales Director", "Operations Manager", "Founder",
    "Procurement Manager", "IT Director", "Account Executive", "Office Manager", "Chief Revenue Officer",
]  # fmt: skip
INDUSTRIES = ["Software", "Healthcare", "Manufacturing", "Finance", "Retail", "Logistics", "Education", "Energy"]
CITIES = ["Berlin", "München", "Paris", "Lyon", "London", "Madrid", "São Paulo", "New York", "Austin", "Zürich"]
CATEGORIES = ["enterprise", "Mid-market", "small business", "startup", "", "", ""]


def _phone(rng: random.Random) -> str:
    number = f"{rng.randint(200, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    formats = [
        f"({number[:3]}) {number[3:6]}-{number[6:]}",
        f"+1 {number[:3]}-{number[3:6]}-{number[6:]}",
        f"{number[:3]}.{number[3:6]}.{number[6:]}",
        f"+1{number}",
        f"+49 30 {rng.randint(1000000, 9999999)}",
        f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
    ]
    return rng.choice(formats)


def generate(path: Path, rows: int, seed: int = 42) -> dict:
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
    firsts, lasts, words = FIRST.split(), LAST.split(), COMPANY_WORDS.split()
    companies = [f"{rng.choice(words)} {rng.choice(words)} {rng.choice(SUFFIXES)}".strip() for _ in range(3000)]
    written, duplicates, unreachable = [], 0, 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for n in range(rows):
            roll = rng.random()
            if written and roll < 0.05:
                # The same person again, written differently: case, spaces, dots and tags, phone format.
                row = list(rng.choice(written))
                row[2] = f"  {row[2].upper()} " if row[2] else row[2]
                row[3] = row[3].replace(" ", "").replace("-", " ") if row[3] else row[3]
                duplicates += 1
            elif roll < 0.08:
                row = [rng.choice(firsts), rng.choice(lasts), "not-an-email@", "", rng.choice(companies)]
                row += [rng.choice(TITLES), "", "", "", "", "", ""]
                unreachable += 1
            else:
                first, last = rng.choice(firsts), rng.choice(lasts)
                company = rng.choice(companies)
                domain = "".join(ch for ch in company.split()[0].lower() if ch.isalpha()) + f"{n % 997}.example.com"
                local = f"{first}.{last}".lower().replace("'", "")
                if rng.random() < 0.1:
                    domain = "gmail.com"
                    local = f"{local.replace('.', '')}{n}"
                elif rng.random() < 0.03:
                    local = rng.choice(["info", "sales", "contact"])
                elif rng.random() < 0.02:
                    domain = "mailinator.com"
                email = f"{local}{n}@{domain}" if domain != "gmail.com" else f"{local}@{domain}"
                row = [
                    first,
                    last,
                    email,
                    _phone(rng) if rng.random() < 0.7 else "",
                    company,
                    rng.choice(TITLES),
                    rng.choice(INDUSTRIES),
                    rng.choice(CITIES),
                    f"www.{domain}" if rng.random() < 0.6 and domain != "gmail.com" else "",
                    str(rng.choice([5, 12, 50, 120, 250, 800, 1500, 5000])) if rng.random() < 0.7 else "",
                    f"{rng.randint(1, 900) * 100_000:,}" if rng.random() < 0.5 else "",
                    rng.choice(CATEGORIES),
                ]
                written.append(row)
            writer.writerow(row)
    return {"rows": rows, "duplicates_written": duplicates, "unreachable_written": unreachable}


# --- Contenders (each in its own process) --------------------------------------------------


def _setup():
    import django

    django.setup()
    from leadnexus.celery import app

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"


def _organization(label: str):
    from accounts.models import Organization, User

    org = Organization.objects.create(name=f"Bench {label} {time.time_ns()}", slug=f"bench-{time.time_ns()}")
    user = User.objects.create(
        email=f"bench-{time.time_ns()}@example.com",
        full_name="Bench",
        organization=org,
        role=User.Role.MANAGEMENT,
        email_verified=True,
    )
    return org, user


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_engine(path: Path) -> dict:
    _setup()
    from django.core.files.uploadedfile import SimpleUploadedFile

    from leads.imports import services
    from leads.models import ImportJob

    _, user = _organization("engine")
    baseline = _peak_mb()
    data = path.read_bytes()
    started = time.perf_counter()
    upload = services.import_upload(actor=user, kind=ImportJob.Kind.LEADS, file=SimpleUploadedFile(path.name, data))
    uploaded = time.perf_counter()
    services.import_confirm(actor=user, kind=ImportJob.Kind.LEADS, job_id=upload.job.pk)
    job = services.import_process(job_id=upload.job.pk, time_budget=3600)
    finished = time.perf_counter()
    rows = job.total
    return {
        "rows": rows,
        "seconds": finished - started,
        "upload_seconds": uploaded - started,
        "process_seconds": finished - uploaded,
        "rows_per_second": rows / (finished - started),
        "peak_mb": _peak_mb(),
        "baseline_mb": baseline,
        "counts": {name: getattr(job, name) for name in ("created", "updated", "duplicates", "invalid")},
        "status": job.status,
    }


def run_import_export(path: Path) -> dict:
    _setup()
    import tablib

    from leads.admin import LeadResource

    org, user = _organization("import-export")
    baseline = _peak_mb()
    started = time.perf_counter()
    dataset = tablib.Dataset().load(path.read_text(encoding="utf-8"), format="csv")
    result = LeadResource(organization=org, user=user).import_data(dataset, dry_run=False, raise_errors=False)
    finished = time.perf_counter()
    totals = dict(result.totals)
    return {
        "rows": len(dataset),
        "seconds": finished - started,
        "rows_per_second": len(dataset) / (finished - started),
        "peak_mb": _peak_mb(),
        "baseline_mb": baseline,
        "counts": {key: value for key, value in totals.items() if value},
    }


def run_copy(path: Path) -> dict:
    _setup()
    from django.db import connection
    from django.utils import timezone

    org, _ = _organization("copy")
    baseline = _peak_mb()
    columns = [*HEADERS, "organization_id", "source", "status", "score", "score_breakdown", "validation_status"]
    columns += ["validation_reasons", "email_key", "phone_key", "name_company_key", "is_inventory", "extra", "notes"]
    columns += ["created_at", "updated_at"]
    started = time.perf_counter()
    now = timezone.now()
    count = 0
    with path.open(newline="", encoding="utf-8") as source, connection.cursor() as cursor:
        reader = csv.reader(source)
        next(reader)
        sql = f"COPY leads_lead ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in reader:
                # As given, except what the columns cannot take as text: numbers without separators.
                values = [*row[:9], row[9] or None, row[10].replace(",", "") or None, row[11][:20]]
                copy.write_row(
                    (*values, org.pk, "import", "new", 0, "{}", "pending", "[]", "", "", "", False, "{}", "", now, now)
                )
                count += 1
    finished = time.perf_counter()
    return {
        "rows": count,
        "seconds": finished - started,
        "rows_per_second": count / (finished - started),
        "peak_mb": _peak_mb(),
        "baseline_mb": baseline,
    }


def profile_engine(path: Path, top: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    result = run_engine(path)
    profiler.disable()
    print(json.dumps(result, indent=2))
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


CONTENDERS = {"engine": run_engine, "import-export": run_import_export, "copy": run_copy}


def _prepare_database() -> None:
    """Create the bench database if it is missing, and migrate it."""
    import environ
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/leadnexus_bench")
    config = environ.Env.db_url_config(url)
    admin = psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], password=config["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )  # fmt: skip
    with admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], check=True)  # noqa: S603


def _child(name: str, path: Path) -> dict:
    output = subprocess.run(  # noqa: S603 - this script, with its own arguments
        [sys.executable, __file__, "--child", name, "--file", str(path)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", type=Path, default=ROOT / "var" / "bench" / "leads.csv")
    parser.add_argument("--skip", action="append", default=[], choices=list(CONTENDERS))
    parser.add_argument("--profile", action="store_true", help="also profile the engine and print the top costs")
    parser.add_argument("--child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CONTENDERS[args.child](args.file)))
        return
    if args.profile and args.skip == list(CONTENDERS):
        _setup()
        profile_engine(args.file, 40)
        return

    _prepare_database()
    args.file.parent.mkdir(parents=True, exist_ok=True)
    generated = generate(args.file, args.rows)
    size_mb = args.file.stat().st_size / 1024 / 1024
    print(f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"file: {args.file} ({size_mb:.1f} MB) {json.dumps(generated)}")
    results = {}
    for name in CONTENDERS:
        if name in args.skip:
            continue
        results[name] = _child(name, args.file)
        print(f"{name}: {json.dumps(results[name])}", flush=True)

    print("\n| import of the same file | rows/s | seconds | peak RSS (MB) |\n|---|---|---|---|")
    for name, result in results.items():
        print(f"| {name} | {result['rows_per_second']:,.0f} | {result['seconds']:.1f} | {result['peak_mb']:.0f} |")
    if "engine" in results:
        engine = results["engine"]["rows_per_second"]
        for name in ("import-export", "copy"):
            if name in results:
                print(f"engine / {name}: {engine / results[name]['rows_per_second']:.2f}x")
    if args.profile:
        _setup()
        profile_engine(args.file, 40)


if __name__ == "__main__":
    main()
