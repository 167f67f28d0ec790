"""The first schema: environments, pipelines, steps, events, locks, backups, controls, sandbox
resources and leases.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

T = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "environments",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("customer", sa.String(63), nullable=False),
        sa.Column("product", sa.String(16), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("cloud", sa.String(16), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("customer_document", sa.JSON),
        sa.Column("spec_digest", sa.String(80), nullable=False),
        sa.Column("source_digest", sa.String(80), nullable=False),
        sa.Column("artifacts", sa.JSON, nullable=False),
        sa.Column("derived", sa.JSON, nullable=False),
        sa.Column("revision", sa.String(80)),
        sa.Column("graph", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("serial", sa.Integer, nullable=False),
        sa.Column("applied_at", T, nullable=False),
        sa.Column("applied_by", sa.String(200)),
        sa.Column("last_pipeline_id", sa.Integer),
    )
    op.create_table(
        "pipelines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", sa.String(63), nullable=False, index=True),
        sa.Column("action", sa.String(200), nullable=False),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("revision", sa.String(80)),
        sa.Column("login", sa.String(200), nullable=False),
        sa.Column("cost_impact", sa.Boolean, nullable=False),
        sa.Column("requested_at", T, nullable=False, index=True),
        sa.Column("started_at", T),
        sa.Column("updated_at", T, nullable=False),
        sa.Column("finished_at", T),
        sa.Column("message", sa.Text),
        sa.Column("change", sa.JSON, nullable=False),
        sa.Column("retry_of", sa.Integer),
        sa.Column("owner", sa.String(200)),
    )
    op.create_table(
        "steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline_id", sa.Integer, sa.ForeignKey("pipelines.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", T),
        sa.Column("ended_at", T),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("detail", sa.JSON),
        sa.UniqueConstraint("pipeline_id", "seq"),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", T, nullable=False, index=True),
        sa.Column("environment", sa.String(63), index=True),
        sa.Column("pipeline_id", sa.Integer, index=True),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("login", sa.String(200)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON),
    )
    op.create_table(
        "locks",
        sa.Column("environment", sa.String(63), primary_key=True),
        sa.Column("lock_id", sa.String(40), nullable=False, unique=True),
        sa.Column("operation", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("revision", sa.String(80)),
        sa.Column("acquired_at", T, nullable=False),
    )
    op.create_table(
        "backups",
        sa.Column("environment", sa.String(63), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", T, nullable=False),
        sa.Column("deleted_at", T),
        sa.Column("pipeline_id", sa.Integer),
    )
    op.create_table(
        "controls",
        sa.Column("environment", sa.String(63), primary_key=True),
        sa.Column("suspended", sa.Boolean, nullable=False),
        sa.Column("suspended_by", sa.String(200)),
        sa.Column("suspended_at", T),
        sa.Column("stalled_reason", sa.Text),
        sa.Column("stalled_digest", sa.String(80)),
        sa.Column("last_attempted_revision", sa.String(80)),
        sa.Column("last_drift_at", T),
        sa.Column("drift", sa.JSON),
    )
    op.create_table(
        "sandbox_resources",
        sa.Column("environment", sa.String(63), primary_key=True),
        sa.Column("urn", sa.String(500), primary_key=True),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("resource_id", sa.String(200), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("outputs", sa.JSON, nullable=False),
        sa.Column("updated_at", T, nullable=False),
    )
    op.create_table(
        "sandbox_faults",
        sa.Column("key", sa.String(600), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("token", sa.String(40), nullable=False),
        sa.Column("expires_at", T, nullable=False),
        sa.Column("renewed_at", T, nullable=False),
    )


def downgrade() -> None:
    for table in ("leases", "sandbox_faults", "sandbox_resources", "controls", "backups", "locks", "events", "steps", "pipelines",
                  "environments"):
        op.drop_table(table)
