"""The tables of the state store (SQLAlchemy Core). Migrations create them; code reads them here.

Times are timezone-aware UTC. JSON columns hold plain data (documents, graphs, details).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

metadata = sa.MetaData()


class UtcDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite too (which stores them without a zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the state store; use UTC-aware datetimes")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


UTC_TIME = UtcDateTime()

environments = sa.Table(
    "environments", metadata,
    sa.Column("name", sa.String(63), primary_key=True),
    sa.Column("customer", sa.String(63), nullable=False),
    sa.Column("product", sa.String(16), nullable=False),
    sa.Column("type", sa.String(8), nullable=False),
    sa.Column("cloud", sa.String(16), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),  # the Environment document last applied, as written
    sa.Column("customer_document", sa.JSON),
    sa.Column("spec_digest", sa.String(80), nullable=False),  # canonical (typed) digest
    sa.Column("source_digest", sa.String(80), nullable=False),  # quick digest of the inputs, see planning
    sa.Column("artifacts", sa.JSON, nullable=False),  # path -> sha256 digest
    sa.Column("derived", sa.JSON, nullable=False),  # facts planning derived (e.g. the promoted RPO's fingerprint)
    sa.Column("revision", sa.String(80)),
    sa.Column("graph", sa.JSON, nullable=False),  # the ResourceGraph as recorded after the apply
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("serial", sa.Integer, nullable=False),
    sa.Column("applied_at", UTC_TIME, nullable=False),
    sa.Column("applied_by", sa.String(200)),
    sa.Column("last_pipeline_id", sa.Integer),
)

pipelines = sa.Table(
    "pipelines", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(63), nullable=False, index=True),
    sa.Column("action", sa.String(200), nullable=False),  # headline, e.g. "create topology"
    sa.Column("actions", sa.JSON, nullable=False),  # the domain action kinds
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("revision", sa.String(80)),
    sa.Column("login", sa.String(200), nullable=False),
    sa.Column("cost_impact", sa.Boolean, nullable=False, default=False),
    sa.Column("requested_at", UTC_TIME, nullable=False, index=True),
    sa.Column("started_at", UTC_TIME),
    sa.Column("updated_at", UTC_TIME, nullable=False),
    sa.Column("finished_at", UTC_TIME),
    sa.Column("message", sa.Text),
    sa.Column("change", sa.JSON, nullable=False),  # the plan's change for this environment (what apply runs)
    sa.Column("retry_of", sa.Integer),
    sa.Column("owner", sa.String(200)),  # host:pid of the process running it
)

steps = sa.Table(
    "steps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTC_TIME),
    sa.Column("ended_at", UTC_TIME),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("message", sa.Text),
    sa.Column("detail", sa.JSON),
    sa.UniqueConstraint("pipeline_id", "seq"),
)

events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", UTC_TIME, nullable=False, index=True),
    sa.Column("environment", sa.String(63), index=True),
    sa.Column("pipeline_id", sa.Integer, index=True),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("login", sa.String(200)),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("detail", sa.JSON),
)

locks = sa.Table(
    "locks", metadata,
    sa.Column("environment", sa.String(63), primary_key=True),
    sa.Column("lock_id", sa.String(40), nullable=False, unique=True),
    sa.Column("operation", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("revision", sa.String(80)),
    sa.Column("acquired_at", UTC_TIME, nullable=False),
)

backups = sa.Table(
    "backups", metadata,
    sa.Column("environment", sa.String(63), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # manual | automatic | pre-removal
    sa.Column("comment", sa.Text),
    sa.Column("created_at", UTC_TIME, nullable=False),
    sa.Column("deleted_at", UTC_TIME),
    sa.Column("pipeline_id", sa.Integer),
)

controls = sa.Table(  # per-environment switches of the operators: suspend, stalled reason
    "controls", metadata,
    sa.Column("environment", sa.String(63), primary_key=True),
    sa.Column("suspended", sa.Boolean, nullable=False, default=False),
    sa.Column("suspended_by", sa.String(200)),
    sa.Column("suspended_at", UTC_TIME),
    sa.Column("stalled_reason", sa.Text),
    sa.Column("stalled_digest", sa.String(80)),
    sa.Column("last_attempted_revision", sa.String(80)),
    sa.Column("last_drift_at", UTC_TIME),
    sa.Column("drift", sa.JSON),
)

sandbox_resources = sa.Table(  # the sandbox engine's "cloud": what exists there, changed out of band too
    "sandbox_resources", metadata,
    sa.Column("environment", sa.String(63), primary_key=True),
    sa.Column("urn", sa.String(500), primary_key=True),
    sa.Column("type", sa.String(200), nullable=False),
    sa.Column("resource_id", sa.String(200), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
    sa.Column("updated_at", UTC_TIME, nullable=False),
)

sandbox_faults = sa.Table(  # how many times each injected fault fired (shared by every process)
    "sandbox_faults", metadata,
    sa.Column("key", sa.String(600), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
)

leases = sa.Table(  # one daemon per state store
    "leases", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("token", sa.String(40), nullable=False),
    sa.Column("expires_at", UTC_TIME, nullable=False),
    sa.Column("renewed_at", UTC_TIME, nullable=False),
)
