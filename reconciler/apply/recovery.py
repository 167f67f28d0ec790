"""Pipelines left ``running`` by a process that died (kill -9, a crash, a reboot).

Found by their owner's identity (host, pid, start time): when the owner is gone on this host,
the pipeline becomes ``interrupted``, its running step ``failed`` with the reason, its lock is
released and an event says so. A pipeline owned by another host is left alone (its lock times
out for others; ``reconciler unlock`` releases it by hand).
"""

from __future__ import annotations

import sqlalchemy as sa

from reconciler.model.pipeline import PipelineStatus, StepStatus
from reconciler.store import Database
from reconciler.store import pipelines as store
from reconciler.store.locks import owner_alive
from reconciler.store.tables import locks as L


def recover_interrupted(db: Database) -> list[int]:
    recovered = []
    for pipeline in store.running(db):
        if owner_alive(pipeline.owner) is False:
            _interrupt(db, pipeline.id, pipeline.environment, pipeline.owner or "?")
            recovered.append(pipeline.id)
    return recovered


def _interrupt(db: Database, pipeline_id: int, environment: str, owner: str) -> None:
    now = db.clock()
    reason = f"interrupted: its process ({owner}) died before finishing"
    full = store.get(db, pipeline_id)
    with db.transaction() as connection:
        for step in full.steps:
            if step.status is StepStatus.RUNNING:
                store.step_status(connection, pipeline_id, step.seq, StepStatus.FAILED, now, reason)
        pid = owner.rsplit(":", 2)[1] if owner.count(":") >= 2 else None
        if pid and pid.isdigit():
            connection.execute(sa.delete(L).where(L.c.environment == environment, L.c.pid == int(pid)))
        store.set_status(connection, pipeline_id, PipelineStatus.INTERRUPTED, now, reason)
        store.log(connection, now, environment, pipeline_id, "warning", "pipeline-interrupted",
                  f"pipeline {pipeline_id} {reason}; its lock was released. Retry it with: reconciler retry "
                  f"{pipeline_id}")
