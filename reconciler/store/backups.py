"""Backups the reconciler took or knows of, with their dates (rule 11 protects recent ones)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from reconciler.model.state import BackupRecord
from reconciler.store.database import Database
from reconciler.store.tables import backups as T


def for_environments(db: Database, names) -> dict[str, list[BackupRecord]]:
    names = list(names)
    found: dict[str, list[BackupRecord]] = {name: [] for name in names}
    with db.reading() as connection:
        for start in range(0, len(names), 500):
            query = sa.select(T).where(T.c.environment.in_(names[start:start + 500]), T.c.deleted_at.is_(None))
            for row in connection.execute(query.order_by(T.c.created_at)):
                found[row.environment].append(BackupRecord(row.environment, row.name, row.kind, row.comment,
                                                           row.created_at, row.deleted_at))
    return found


def record(connection: sa.Connection, environment: str, name: str, kind: str, comment: str | None,
           created_at: dt.datetime, pipeline_id: int | None) -> None:
    existing = connection.execute(sa.select(T.c.name).where(T.c.environment == environment, T.c.name == name)).first()
    values = dict(kind=kind, comment=comment, created_at=created_at, deleted_at=None, pipeline_id=pipeline_id)
    if existing:
        connection.execute(sa.update(T).where(T.c.environment == environment, T.c.name == name).values(**values))
    else:
        connection.execute(sa.insert(T).values(environment=environment, name=name, **values))


def mark_deleted(connection: sa.Connection, environment: str, name: str, at: dt.datetime) -> None:
    connection.execute(sa.update(T).where(T.c.environment == environment, T.c.name == name).values(deleted_at=at))
