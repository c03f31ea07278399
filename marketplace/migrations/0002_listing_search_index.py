"""The catalog's full-text index: a GIN index on the stored search vector, on PostgreSQL only
(SQLite has no such index; the catalog falls back to plain matching there)."""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS catalog_search_idx ON marketplace_listing USING gin (search_vector)"
DROP = "DROP INDEX IF EXISTS catalog_search_idx"


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
