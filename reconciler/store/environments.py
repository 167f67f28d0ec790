"""Recorded environments: read the summaries of all, one in full, and write with a serial check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from reconciler.errors import StalePlanError
from reconciler.model.graph import ResourceGraph
from reconciler.model.state import RecordedEnvironment, RecordedSummary
from reconciler.store.database import Database
from reconciler.store.tables import environments as T


def summaries(db: Database) -> dict[str, RecordedSummary]:
    query = sa.select(T.c.name, T.c.source_digest, T.c.spec_digest, T.c.serial, T.c.type, T.c.cloud)
    with db.reading() as connection:
        return {row.name: RecordedSummary(*row) for row in connection.execute(query)}


def get(db: Database, name: str, connection: sa.Connection | None = None) -> RecordedEnvironment | None:
    query = sa.select(T).where(T.c.name == name)
    if connection is not None:
        row = connection.execute(query).first()
    else:
        with db.reading() as conn:
            row = conn.execute(query).first()
    return _recorded(row) if row else None


def get_many(db: Database, names) -> dict[str, RecordedEnvironment]:
    names = list(names)
    found: dict[str, RecordedEnvironment] = {}
    with db.reading() as connection:
        for start in range(0, len(names), 500):  # stay under the database's parameter limits
            chunk = names[start:start + 500]
            for row in connection.execute(sa.select(T).where(T.c.name.in_(chunk))):
                found[row.name] = _recorded(row)
    return found


def all_recorded(db: Database) -> list[RecordedEnvironment]:
    with db.reading() as connection:
        return [_recorded(row) for row in connection.execute(sa.select(T).order_by(T.c.name))]


def _recorded(row) -> RecordedEnvironment:
    return RecordedEnvironment(
        name=row.name, customer=row.customer, product=row.product, type=row.type, cloud=row.cloud,
        document=row.document, customer_document=row.customer_document, spec_digest=row.spec_digest,
        source_digest=row.source_digest, artifacts=row.artifacts or {}, derived=row.derived or {},
        revision=row.revision,
        graph=ResourceGraph.from_data(row.graph), outputs=row.outputs or {}, serial=row.serial,
        applied_at=row.applied_at, applied_by=row.applied_by, last_pipeline_id=row.last_pipeline_id)


def current_serial(connection: sa.Connection, name: str) -> int:
    """0 when the environment is not recorded."""
    value = connection.execute(sa.select(T.c.serial).where(T.c.name == name)).scalar()
    return int(value) if value is not None else 0


def save(connection: sa.Connection, *, name: str, expected_serial: int, values: dict[str, Any],
         applied_at: dt.datetime) -> int:
    """Record an environment as applied; the serial must still be ``expected_serial``.

    Returns the new serial. Refuses (StalePlanError) when another apply moved it in between.
    """
    serial = current_serial(connection, name)
    if serial != expected_serial:
        raise StalePlanError(f"the state of {name} moved (serial {serial}, the plan expected {expected_serial})",
                             [f"{name}: state serial"])
    row = dict(values, name=name, serial=serial + 1, applied_at=applied_at)
    if serial == 0:
        connection.execute(sa.insert(T).values(**row))
    else:
        connection.execute(sa.update(T).where(T.c.name == name).values(**row))
    return serial + 1


def remove(connection: sa.Connection, name: str, expected_serial: int) -> None:
    serial = current_serial(connection, name)
    if serial != expected_serial:
        raise StalePlanError(f"the state of {name} moved (serial {serial}, the plan expected {expected_serial})",
                             [f"{name}: state serial"])
    connection.execute(sa.delete(T).where(T.c.name == name))


def record_values(*, document: dict, customer_document: dict | None, spec_digest: str, source_digest: str,
                  artifacts: dict[str, str], derived: dict[str, Any], revision: str | None, graph: ResourceGraph,
                  applied_by: str | None, pipeline_id: int | None) -> dict[str, Any]:
    meta, spec = document["metadata"], document["spec"]
    return {"customer": meta["customer"], "product": spec["product"], "type": spec["type"], "cloud": spec["cloud"],
            "document": document, "customer_document": customer_document, "spec_digest": spec_digest,
            "source_digest": source_digest, "artifacts": dict(artifacts), "derived": dict(derived),
            "revision": revision,
            "graph": graph.to_data(), "outputs": graph.outputs, "applied_by": applied_by,
            "last_pipeline_id": pipeline_id}
