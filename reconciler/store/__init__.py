"""The state store: what was applied, pipelines with their steps, events, locks, backups.

SQLAlchemy Core over SQLite by default (a file under ``.reconciler/`` of the GitOps repository)
or PostgreSQL (``--state postgresql+psycopg://...``), its schema versioned by Alembic migrations
from the first version. Every write that belongs to one step of a pipeline is one transaction.
"""

from reconciler.store.database import Database, open_database  # noqa: F401
