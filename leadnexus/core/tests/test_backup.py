"""Backups: a seeded database written out and restored comes back with every table's count
and every ledger balance as they were, natively (SQLite's backup API, or pg_dump/pg_restore on
PostgreSQL) and through Django's serialisation; the nightly job and its retention; clear
refusals."""

import io
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import Sum

from crm.models import Activity
from leadnexus.core.backup import backup_create, backup_nightly, backups_prune
from leads.models import Lead
from marketplace import demo as marketplace_demo
from marketplace.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT_APPS = ("core", "notifications", "accounts", "leads", "marketplace", "crm", "analytics")


def _state() -> dict:
    """Every table's row count, and every ledger account's balance."""
    counts = {
        model._meta.label: model._base_manager.count()
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }
    balances = {
        (row["account"], row["organization_id"]): row["total"]
        for row in LedgerEntry.objects.values("account", "organization_id").annotate(total=Sum("amount"))
    }
    return {"counts": counts, "balances": balances}


@pytest.fixture
def seeded(monkeypatch):
    monkeypatch.setattr(marketplace_demo, "PLAN", (("vendor", 10, 1, 41), ("vendor2", 5, 1, 42)))
    call_command("seed_demo", stdout=io.StringIO())
    state = _state()
    assert state["counts"]["leads.Lead"] and state["balances"]
    return state


@pytest.mark.parametrize("serialised", [False, True], ids=["native", "serialised"])
def test_a_seeded_database_comes_back_as_it_was(seeded, tmp_path, serialised):
    path = backup_create(directory=tmp_path, serialised=serialised)
    Lead.objects.filter(pk__in=Lead.objects.values("pk")[:5]).update(first_name="Changed")
    Activity.objects.all().delete()
    call_command("seed_demo", stdout=io.StringIO())  # the demo again: its logins refreshed

    call_command("restore", str(path), "--yes", stdout=io.StringIO())

    assert _state() == seeded
    assert not Lead.objects.filter(first_name="Changed").exists()


def test_restore_asks_first_and_refuses_what_is_not_a_backup(tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    path = backup_create(directory=tmp_path)

    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(path))
    with pytest.raises(CommandError, match="No backup"):
        call_command("restore", str(tmp_path / "missing.sqlite3"), "--yes")
    stray = tmp_path / "notes.txt"
    stray.write_text("hello")
    with pytest.raises(CommandError, match="not a LeadNexus backup"):
        call_command("restore", str(stray), "--yes")


def test_the_nightly_backup_keeps_the_last_days(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path
    old = tmp_path / "leadnexus-20250101T030000000000Z.sqlite3"
    old.write_bytes(b"old")
    long_ago = time.time() - 30 * 86400
    os.utime(old, (long_ago, long_ago))
    other = tmp_path / "keep-me.txt"
    other.write_text("not a backup")
    os.utime(other, (long_ago, long_ago))

    settings.BACKUP_NIGHTLY = False
    assert backup_nightly() is None
    settings.BACKUP_NIGHTLY, settings.BACKUP_KEEP_DAYS = True, 14
    written = backup_nightly()

    assert written.exists() and not old.exists() and other.exists()
    assert backups_prune(directory=tmp_path, now=datetime.now(UTC) + timedelta(days=15)) == 1
