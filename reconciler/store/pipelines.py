"""Pipelines, their steps and the event log: created, advanced step by step, queried.

Every function that changes a step writes the step, the pipeline's last-status time and an event
row in the caller's transaction, so the record of a step is never half written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

import sqlalchemy as sa

from reconciler.model.pipeline import Pipeline, PipelineStatus, Step, StepStatus
from reconciler.store.database import Database
from reconciler.store.tables import events as E, pipelines as P, steps as S


@dataclass(frozen=True)
class StepPlan:
    name: str
    kind: str
    detail: dict[str, Any]


def create(connection: sa.Connection, *, environment: str, action: str, actions: list[str], revision: str | None,
           login: str, cost_impact: bool, change: dict, steps: Iterable[StepPlan], now: dt.datetime,
           owner: str, retry_of: int | None = None) -> int:
    pipeline_id = connection.execute(sa.insert(P).values(
        environment=environment, action=action, actions=actions, status=PipelineStatus.QUEUED.value,
        revision=revision, login=login, cost_impact=cost_impact, requested_at=now, updated_at=now, change=change,
        retry_of=retry_of, owner=owner)).inserted_primary_key[0]
    rows = [dict(pipeline_id=pipeline_id, seq=i, name=s.name[:200], kind=s.kind, status=StepStatus.QUEUED.value,
                 attempts=0, detail=s.detail) for i, s in enumerate(steps)]
    if rows:
        connection.execute(sa.insert(S), rows)
    log(connection, now, environment, pipeline_id, "info", "pipeline-requested",
        f"pipeline {pipeline_id} requested: {action}", login, {"revision": revision})
    return pipeline_id


def log(connection: sa.Connection, at: dt.datetime, environment: str | None, pipeline_id: int | None, level: str,
        kind: str, description: str, login: str | None = None, detail: dict | None = None) -> None:
    connection.execute(sa.insert(E).values(at=at, environment=environment, pipeline_id=pipeline_id, level=level,
                                           kind=kind, description=description[:4000], login=login, detail=detail))


def set_status(connection: sa.Connection, pipeline_id: int, status: PipelineStatus, now: dt.datetime,
               message: str | None = None, owner: str | None = None) -> None:
    values: dict[str, Any] = {"status": status.value, "updated_at": now}
    if status is PipelineStatus.RUNNING:
        values["started_at"] = now
        values["finished_at"] = None
    if status.finished:
        values["finished_at"] = now
    if message is not None:
        values["message"] = message[:4000]
    if owner is not None:
        values["owner"] = owner
    connection.execute(sa.update(P).where(P.c.id == pipeline_id).values(**values))


def step_status(connection: sa.Connection, pipeline_id: int, seq: int, status: StepStatus, now: dt.datetime,
                message: str | None = None, detail: dict | None = None, attempt: bool = False) -> None:
    values: dict[str, Any] = {"status": status.value}
    if status is StepStatus.RUNNING:
        values["started_at"] = now
        values["ended_at"] = None
    if status in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.SKIPPED):
        values["ended_at"] = now
    if message is not None:
        values["message"] = message[:4000]
    if detail is not None:
        values["detail"] = detail
    if attempt:
        values["attempts"] = S.c.attempts + 1
    connection.execute(sa.update(S).where(S.c.pipeline_id == pipeline_id, S.c.seq == seq).values(**values))
    connection.execute(sa.update(P).where(P.c.id == pipeline_id).values(updated_at=now))


def append_step(connection: sa.Connection, pipeline_id: int, before_seq: int, step: StepPlan) -> int:
    """Insert a step the plan did not foresee (the engine found more to do) before ``before_seq``."""
    seqs = [r.seq for r in connection.execute(sa.select(S.c.seq).where(S.c.pipeline_id == pipeline_id,
                                                                       S.c.seq >= before_seq).order_by(S.c.seq.desc()))]
    for seq in seqs:  # shift the tail by one, last first (the (pipeline, seq) pair is unique)
        connection.execute(sa.update(S).where(S.c.pipeline_id == pipeline_id, S.c.seq == seq).values(seq=seq + 1))
    connection.execute(sa.insert(S).values(pipeline_id=pipeline_id, seq=before_seq, name=step.name[:200],
                                           kind=step.kind, status=StepStatus.QUEUED.value, attempts=0,
                                           detail=step.detail))
    return before_seq


def get(db: Database, pipeline_id: int) -> Pipeline | None:
    with db.reading() as connection:
        row = connection.execute(sa.select(P).where(P.c.id == pipeline_id)).first()
        if row is None:
            return None
        steps = connection.execute(sa.select(S).where(S.c.pipeline_id == pipeline_id).order_by(S.c.seq)).all()
    return _pipeline(row, steps)


def _step(row) -> Step:
    return Step(row.seq, row.name, row.kind, StepStatus(row.status), row.started_at, row.ended_at, row.attempts,
                row.message, row.detail or {})


def _pipeline(row, steps=()) -> Pipeline:
    return Pipeline(id=row.id, environment=row.environment, action=row.action, actions=tuple(row.actions or ()),
                    status=PipelineStatus(row.status), revision=row.revision, login=row.login,
                    cost_impact=bool(row.cost_impact), requested_at=row.requested_at, updated_at=row.updated_at,
                    started_at=row.started_at, finished_at=row.finished_at, message=row.message,
                    retry_of=row.retry_of, owner=row.owner, steps=tuple(_step(s) for s in steps),
                    change=row.change or {})


@dataclass(frozen=True)
class PipelineQuery:
    environments: tuple[str, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    statuses: tuple[str, ...] = ()
    cost_only: bool = False
    sort: str = "date"  # date | action
    page_size: int = 10
    page: int = 1


def query(db: Database, q: PipelineQuery) -> tuple[list[Pipeline], int]:
    """One page of pipelines (newest first, or by action) with their steps, and the total count."""
    where = []
    if q.environments:
        where.append(P.c.environment.in_(q.environments))
    if q.since:
        where.append(P.c.requested_at >= q.since)
    if q.until:
        where.append(P.c.requested_at <= q.until)
    if q.statuses:
        where.append(P.c.status.in_(q.statuses))
    if q.cost_only:
        where.append(P.c.cost_impact.is_(True))
    order = [P.c.requested_at.desc(), P.c.id.desc()] if q.sort == "date" else [P.c.action, P.c.id.desc()]
    with db.reading() as connection:
        total = connection.execute(sa.select(sa.func.count()).select_from(P).where(*where)).scalar() or 0
        rows = connection.execute(sa.select(P).where(*where).order_by(*order)
                                  .limit(q.page_size).offset((q.page - 1) * q.page_size)).all()
        ids = [r.id for r in rows]
        steps = connection.execute(sa.select(S).where(S.c.pipeline_id.in_(ids)).order_by(S.c.pipeline_id, S.c.seq)
                                   ).all() if ids else []
    by_pipeline: dict[int, list] = {}
    for step in steps:
        by_pipeline.setdefault(step.pipeline_id, []).append(step)
    return [_pipeline(r, by_pipeline.get(r.id, ())) for r in rows], int(total)


def running(db: Database) -> list[Pipeline]:
    with db.reading() as connection:
        rows = connection.execute(sa.select(P).where(P.c.status.in_(
            [PipelineStatus.RUNNING.value, PipelineStatus.QUEUED.value])).order_by(P.c.id)).all()
    return [_pipeline(r) for r in rows]


def last_for(db: Database, environments: Iterable[str]) -> dict[str, Pipeline]:
    names = list(environments)
    if not names:
        return {}
    latest = sa.select(P.c.environment, sa.func.max(P.c.id).label("id")).where(P.c.environment.in_(names)) \
        .group_by(P.c.environment).subquery()
    with db.reading() as connection:
        rows = connection.execute(sa.select(P).join(latest, P.c.id == latest.c.id)).all()
    return {r.environment: _pipeline(r) for r in rows}


def log_entries(db: Database, environments: tuple[str, ...] = (), since: dt.datetime | None = None,
                limit: int = 100) -> list[dict[str, Any]]:
    where = []
    if environments:
        where.append(E.c.environment.in_(environments))
    if since:
        where.append(E.c.at >= since)
    with db.reading() as connection:
        rows = connection.execute(sa.select(E).where(*where).order_by(E.c.id.desc()).limit(limit)).all()
    return [dict(r._mapping) for r in rows]
