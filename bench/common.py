"""What the PostgreSQL benchmarks share: the bench database (checked, created, migrated, made
again), connections to it, and rows written as COPY text. Not part of the test suite."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_DATABASES = ("leadnexus_dev", "leadnexus_ci")


def db_config(url: str) -> dict:
    """Django's settings for `url`; exits unless it names a PostgreSQL bench database."""
    import environ

    config = environ.Env.db_url_config(url)
    name = config["NAME"]
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("The benchmark needs PostgreSQL: --database-url postgres://...")
    if name.startswith("test_") or name in FORBIDDEN_DATABASES:
        sys.exit(f"Refusing to use the database {name!r}: pick a bench database (leadnexus_bench_...).")
    return config


def admin_connection(config: dict):
    import psycopg

    return psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], password=config["PASSWORD"] or None,
        dbname="postgres", autocommit=True,
    )  # fmt: skip


def connect(config: dict, *, autocommit: bool = False):
    import psycopg

    return psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], password=config["PASSWORD"] or None,
        dbname=config["NAME"], autocommit=autocommit,
    )  # fmt: skip


def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "leadnexus.settings", "REDIS_URL": ""}
    subprocess.run(  # noqa: S603 - manage.py of this project
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], check=True, env=env
    )


def database_ensure(url: str, *, reuse: bool) -> bool:
    """Create the bench database if it is missing (not with `reuse`), then migrate it. True
    when it was already there."""
    config = db_config(url)
    with admin_connection(config) as admin:
        present = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not present:
            if reuse:
                sys.exit(f"--reuse: the database {config['NAME']} does not exist.")
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    migrate(url)
    return bool(present)


def database_renew(url: str) -> None:
    """Drop the bench database and make it again, migrated: a partial or older data set, or
    its indexes, are not worth repairing."""
    config = db_config(url)
    with admin_connection(config) as admin:
        admin.execute(f'DROP DATABASE "{config["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    migrate(url)


def copy_line(values) -> str:
    """One row in COPY's text format (None as NULL; values hold no tab, newline or backslash)."""
    return "\t".join("\\N" if value is None else str(value) for value in values) + "\n"


def secondary_indexes(conn, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `tables` that back no constraint."""
    return conn.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        ORDER BY i.relname
        """,
        [tables],
    ).fetchall()


def sequences_advance(conn, tables) -> None:
    """Move each table's id sequence past the ids COPY wrote."""
    for table in tables:
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        conn.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608 - our own names
    conn.commit()


def indexes_create(conn, indexes: list[tuple[str, str]]) -> None:
    """Build again the indexes `secondary_indexes` listed (and the rows were written without)."""
    conn.execute("SET maintenance_work_mem = '1GB'")
    for _, definition in indexes:
        conn.execute(definition)
    conn.commit()


class QueryLog(list):
    """(sql, params, seconds) of each query run while installed with
    `connection.execute_wrapper(log)`."""

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.append((sql, params, time.perf_counter() - started))


def explain_print(connection, queries: QueryLog) -> None:
    """Each query as sent, its time in the request, and EXPLAIN (ANALYZE, BUFFERS) of the reads."""
    for sql, params, seconds in queries:
        print(f"-- {seconds * 1000:.1f} ms in the request\n{connection.ops.compose_sql(sql, params)}")
        if sql.lstrip("( ").upper().startswith("SELECT"):  # a UNION starts with "("
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print("\n".join(row[0] for row in cursor.fetchall()))
