# LeadNexus: `make run` starts the app with demo data, `make test` runs the whole suite.
# Both create the virtualenv in .venv on first use (Python 3.11 required).

SHELL := /bin/bash

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

# python3.11, or python3 when that is a 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || \
	{ python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && command -v python3; })

HOST ?= 0.0.0.0
PORT ?= 8000
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help venv run test worker beat lint format migrate prod-smoke docs-images bench-load clean distclean

help:
	@echo "make run         install, migrate, load demo data and serve http://127.0.0.1:$(PORT)/"
	@echo "make test        install and run the whole test suite (PYTEST_ARGS=... passes options)"
	@echo "make worker      Celery worker (needs REDIS_URL)"
	@echo "make beat        Celery beat (needs REDIS_URL)"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make format      ruff format and ruff check --fix"
	@echo "make migrate     apply database migrations"
	@echo "make prod-smoke  production processes against local PostgreSQL, Redis and an SMTP sink"
	@echo "make docs-images the user guides' screenshots in docs/images, from the browser journey (needs REDIS_URL)"
	@echo "make bench-load  load step-up and 30-minute soak (LOAD_ARGS=... passes options; 45-60 min, quiet host)"
	@echo "make clean       remove generated files (keeps .venv and db.sqlite3)"
	@echo "make distclean   clean, and remove .venv and db.sqlite3"

# --- Virtualenv: re-installs only when a requirements file changed ---------------------
$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "LeadNexus needs Python 3.11: install python3.11 (with its venv module) and run make again." >&2; \
		exit 1; \
	fi
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	@echo "Installing dependencies into $(VENV) (the first time takes a minute or two)..."
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

# --- The two commands ----------------------------------------------------------------------
# Always the development server: DEBUG=true. With no DATABASE_URL/REDIS_URL (environment or
# .env) that is the embedded default: SQLite file, tasks run in-process, emails on the console.
run: venv
	DEBUG=true $(MANAGE) migrate --noinput
	DEBUG=true $(MANAGE) seed_demo
	@echo
	@echo "  LeadNexus is starting at  http://127.0.0.1:$(PORT)/"
	@echo "  Sign in with one of the demo logins above. Stop with Ctrl+C."
	@echo
	DEBUG=true $(MANAGE) runserver $(HOST):$(PORT)

test: venv
	$(BIN)/pytest -rs $(PYTEST_ARGS)

# --- Background processes (production-style, with REDIS_URL) -----------------------------
define require_redis
	@if [ -z "$$REDIS_URL" ] && ! grep -qs '^REDIS_URL=.' .env; then \
		echo "Set REDIS_URL (environment or .env): without it tasks already run inside the web process." >&2; \
		exit 1; \
	fi
endef

worker: venv
	$(require_redis)
	$(BIN)/celery -A leadnexus worker -l info

beat: venv
	$(require_redis)
	@mkdir -p var
	$(BIN)/celery -A leadnexus beat -l info

# --- Tooling -----------------------------------------------------------------------------------
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: venv
	$(MANAGE) migrate

prod-smoke: venv
	$(BIN)/python scripts/prod_smoke.py

# The marketplace journey at a desktop in the light theme, its screenshots copied to docs/images.
docs-images: venv
	$(require_redis)
	DOCS_IMAGES_DIR=docs/images $(BIN)/pytest -rs tests/browser/test_marketplace_journey.py -k desktop

# Load and soak (bench/load.py): Locust in .venv-load, made from bench/requirements.txt on first use.
LOAD_ARGS ?=
bench-load: venv
	$(BIN)/python bench/load.py $(LOAD_ARGS)

clean:
	rm -rf staticfiles var/celerybeat-schedule* .pytest_cache .ruff_cache artifacts
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .venv-load db.sqlite3 db.sqlite3-journal
