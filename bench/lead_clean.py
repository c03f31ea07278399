"""Per-row cost of `leads.cleaning.lead_clean` (validation, normalisation, dedupe keys), the
part of every import row that runs in Python before anything is written.

    .venv/bin/python bench/lead_clean.py [--rows 20000] [--domains 300]

`--domains` sets how many distinct email domains and websites the rows share (a B2B file
repeats its companies' domains; each is checked once per process).
"""

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadnexus.settings")

import django

django.setup()

from leads.cleaning import lead_clean  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--domains", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(1)  # noqa: S311 - repeatable benchmark data
    domains = [f"company{i}.com" for i in range(args.domains)]
    rows = [
        {
            "first_name": "Ann",
            "last_name": f"Lee{i}",
            "email": f"ann.lee{i}@{rng.choice(domains)}",
            "phone": f"+1 415 555 {1000 + i % 9000}",
            "company": f"Acme {i % 500} Inc",
            "website": f"https://{rng.choice(domains)}",
            "job_title": "VP Sales",
            "employee_count": "120",
            "annual_revenue": "1200000",
        }
        for i in range(args.rows)
    ]
    started = time.perf_counter()
    for row in rows:
        lead_clean(row)
    elapsed = time.perf_counter() - started
    print(f"lead_clean: {elapsed / args.rows * 1e6:.1f} µs per row ({args.rows / elapsed:,.0f} rows/s)")


if __name__ == "__main__":
    main()
