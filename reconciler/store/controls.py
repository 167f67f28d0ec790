"""Per-environment controls: suspended by an operator, stalled on a permanent error, last drift."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from reconciler.store.database import Database
from reconciler.store.tables import controls as C


@dataclass(frozen=True)
class Control:
    environment: str
    suspended: bool = False
    suspended_by: str | None = None
    suspended_at: dt.datetime | None = None
    stalled_reason: str | None = None
    stalled_digest: str | None = None
    last_attempted_revision: str | None = None
    last_drift_at: dt.datetime | None = None
    drift: list[dict[str, Any]] | None = None


def all_controls(db: Database) -> dict[str, Control]:
    with db.reading() as connection:
        return {r.environment: Control(**r._mapping) for r in connection.execute(sa.select(C))}


def get(db: Database, environment: str) -> Control:
    return all_controls(db).get(environment) or Control(environment)


def update(connection: sa.Connection, environment: str, **values: Any) -> None:
    exists = connection.execute(sa.select(C.c.environment).where(C.c.environment == environment)).first()
    if exists:
        connection.execute(sa.update(C).where(C.c.environment == environment).values(**values))
    else:
        connection.execute(sa.insert(C).values(environment=environment, **{"suspended": False, **values}))
