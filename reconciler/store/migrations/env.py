"""Alembic environment: migrations run on the connection the store hands over (never a URL of
its own), so SQLite and PostgreSQL share one path and tests can migrate in-memory databases."""

from alembic import context

from reconciler.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
