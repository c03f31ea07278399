"""Backups of the whole database, and restoring one (`manage.py backup`, `manage.py restore`,
and the optional nightly job).

- SQLite: SQLite's online backup API copies the database page by page while it stays in use;
  restoring copies a backup back the same way. File: `leadnexus-<UTC time>.sqlite3`.
- PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists` when they are
  installed (`leadnexus-<UTC time>.pgdump`); without them, Django's own serialisation of every
  table (`leadnexus-<UTC time>.json.gz`), loaded back into the emptied tables.

A restore replaces everything in the database with the backup. Backups go to `BACKUP_DIR`;
the nightly job (`BACKUP_NIGHTLY`) keeps the last `BACKUP_KEEP_DAYS` days of them.
"""

import gzip
import logging
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

from leadnexus.core.exceptions import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)

PREFIX = "leadnexus-"
SUFFIXES = (".sqlite3", ".pgdump", ".json.gz")
# What a restore brings back as it was; Django rebuilds these two by itself.
SERIALISED_EXCLUDES = ["contenttypes", "auth.permission", "sessions"]


class BackupFailed(ApplicationError):
    code = "backup_failed"
    status = 500


def _postgres_environment() -> tuple[list[str], dict]:
    """The connection arguments of pg_dump/pg_restore, the password in the environment."""
    params = connection.get_connection_params()
    arguments = [f"--dbname={params.get('dbname') or connection.settings_dict['NAME']}"]
    for flag, key in (("--host", "host"), ("--port", "port"), ("--username", "user")):
        if params.get(key):
            arguments.append(f"{flag}={params[key]}")
    environment = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if params.get("password"):
        environment["PGPASSWORD"] = params["password"]
    return arguments, environment


def _postgres_tools() -> bool:
    return bool(shutil.which("pg_dump") and shutil.which("pg_restore"))


def _postgres_run(program: str, *arguments: str) -> None:
    """Run pg_dump or pg_restore against the database; its own message when it fails."""
    connection_arguments, environment = _postgres_environment()
    command = [shutil.which(program), *arguments, *connection_arguments]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupFailed(f"{program} failed: {result.stderr.strip()[-2000:]}")


def _sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target)


def backup_create(*, directory: Path | None = None, serialised: bool = False) -> Path:
    """Write a backup of the database into `directory` (BACKUP_DIR by default) and answer
    its path. `serialised` forces Django's serialisation even where native tools exist."""
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    connection.ensure_connection()
    if connection.vendor == "sqlite" and not serialised:
        path = directory / f"{PREFIX}{stamp}.sqlite3"
        target = sqlite3.connect(path)
        try:
            _sqlite_copy(connection.connection, target)
        finally:
            target.close()
    elif connection.vendor == "postgresql" and not serialised and _postgres_tools():
        path = directory / f"{PREFIX}{stamp}.pgdump"
        _postgres_run("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}")
    else:
        path = directory / f"{PREFIX}{stamp}.json.gz"
        with gzip.open(path, "wt", encoding="utf-8") as output:
            call_command("dumpdata", exclude=SERIALISED_EXCLUDES, natural_foreign=True, stdout=output, verbosity=0)
    logger.info("Backup written", extra={"data": {"path": str(path), "bytes": path.stat().st_size}})
    return path


def backup_restore(*, path: Path) -> None:
    """Replace everything in the database with the backup at `path`."""
    path = Path(path)
    if not path.is_file():
        raise ValidationFailed(f"No backup at {path}.", details={"path": ["No such file."]})
    connection.ensure_connection()
    if path.name.endswith(".sqlite3"):
        if connection.vendor != "sqlite":
            raise ValidationFailed("A SQLite backup restores into a SQLite database only.")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            _sqlite_copy(source, connection.connection)
        finally:
            source.close()
    elif path.name.endswith(".pgdump"):
        if connection.vendor != "postgresql" or not _postgres_tools():
            raise ValidationFailed("A pg_dump backup restores into PostgreSQL with pg_restore installed.")
        connection.close()  # pg_restore drops the tables: hold no lock on them
        _postgres_run(
            "pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            str(path),
        )  # fmt: skip
    elif path.name.endswith(".json.gz"):
        call_command("flush", interactive=False, verbosity=0)
        call_command("loaddata", str(path), verbosity=0)
    else:
        raise ValidationFailed(f"{path.name} is not a LeadNexus backup ({', '.join(SUFFIXES)}).")
    logger.info("Backup restored", extra={"data": {"path": str(path)}})


def backups_prune(*, directory: Path | None = None, keep_days: int | None = None, now: datetime | None = None) -> int:
    """Delete the backups older than `keep_days` (BACKUP_KEEP_DAYS); how many went."""
    directory = Path(directory or settings.BACKUP_DIR)
    keep_days = settings.BACKUP_KEEP_DAYS if keep_days is None else keep_days
    oldest = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    removed = 0
    for path in directory.glob(f"{PREFIX}*"):
        if path.name.endswith(SUFFIXES) and datetime.fromtimestamp(path.stat().st_mtime, UTC) < oldest:
            path.unlink()
            removed += 1
    return removed


def backup_nightly() -> Path | None:
    """The beat job: a backup, then the old ones pruned; nothing unless BACKUP_NIGHTLY."""
    if not settings.BACKUP_NIGHTLY:
        return None
    path = backup_create()
    backups_prune()
    return path
