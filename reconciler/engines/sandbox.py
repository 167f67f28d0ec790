"""The sandbox engine: a fake cloud in the state store, for running everything offline.

Its "cloud" is the ``sandbox_resources`` table: one row per resource a stack program declared,
with a stable id. ``up`` walks the difference between those rows and the planned graph (made by
the real program under Pulumi's mock runtime) one resource at a time, each in its own
transaction, as a real cloud would: a crash leaves some resources done and some not, and the next
``up`` finishes the job. Operators change the fake cloud out of band with ``reconciler sandbox``
(stop an environment by hand, edit or delete a resource) to exercise drift detection.

Fault injection (documented in the README), from ``.reconciler.yaml`` ``sandbox:`` or the
``RECONCILER_SANDBOX_FAULTS`` environment variable (JSON, same shape)::

    faults:
      - {match: "create aws:rds/instance:Instance *", times: 2, error: temporary}
      - {match: "patch-apply", environment: "acme-*", error: permanent, message: "RPO locked"}
    random: {rate: 0.05, seed: 7, error: temporary}
    delay: 0.02          # seconds per resource operation (to watch, or to kill, an apply)

``match`` is a shell pattern on the step name ("<op> <type> <name>" for resources, the action
kind for domain actions); ``times`` (default 1) counts firings across processes.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from reconciler.engines.base import EngineEvent, OnEvent, StackJob
from reconciler.errors import ConfigError, EngineError, TemporaryError
from reconciler.model.graph import Resource, ResourceGraph
from reconciler.model.plan import Action, Op, ResourceChange
from reconciler.planning.resources import diff_graphs
from reconciler.store import Database
from reconciler.store.tables import sandbox_faults, sandbox_resources as T


@dataclass(frozen=True)
class Fault:
    match: str
    environment: str = "*"
    times: int = 1
    error: str = "temporary"  # temporary | permanent
    message: str = ""


@dataclass(frozen=True)
class FaultPlan:
    faults: tuple[Fault, ...] = ()
    rate: float = 0.0
    seed: int | None = None
    random_error: str = "temporary"
    delay: float = 0.0

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> "FaultPlan":
        merged = dict(settings or {})
        raw = os.environ.get("RECONCILER_SANDBOX_FAULTS")
        if raw:
            try:
                extra = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(f"RECONCILER_SANDBOX_FAULTS is not JSON: {exc}") from exc
            merged.update(extra if isinstance(extra, dict) else {"faults": extra})
        try:
            faults = tuple(Fault(**f) for f in merged.get("faults", ()) or ())
            rand = merged.get("random") or {}
            delay = float(os.environ.get("RECONCILER_SANDBOX_DELAY", merged.get("delay", 0.0)))
            return cls(faults, float(rand.get("rate", 0.0)), rand.get("seed"), rand.get("error", "temporary"), delay)
        except TypeError as exc:
            raise ConfigError(f"sandbox fault settings: {exc}") from exc


class SandboxEngine:
    name = "sandbox"

    def __init__(self, db: Database, settings: dict[str, Any] | None = None):
        self.db = db
        self.faults = FaultPlan.from_settings(settings)
        self._random = random.Random(self.faults.seed)

    # -- the port ---------------------------------------------------------------------------
    def preview(self, job: StackJob, on_event: OnEvent) -> list[ResourceChange]:
        return list(diff_graphs(self.refresh(job), job.graph))

    def up(self, job: StackJob, on_event: OnEvent) -> ResourceGraph:
        current = self.refresh(job)
        planned = job.graph.by_urn()
        for change in dependency_order(diff_graphs(current, job.graph), job.graph, job.recorded):
            self._operate(job, change, planned.get(change.urn), on_event)
        return self.refresh(job)

    def destroy(self, job: StackJob, on_event: OnEvent) -> None:
        current = self.refresh(job)
        for change in dependency_order(diff_graphs(current, None), job.graph, job.recorded or job.graph):
            self._operate(job, change, None, on_event)

    def refresh(self, job: StackJob) -> ResourceGraph:
        return cloud_graph(self.db, job.environment, job.project)

    def run_action(self, job: StackJob, action: Action) -> dict[str, Any]:
        self._maybe_fail(job.environment, action.kind)
        if action.kind in ("backup-create", "backup-before-change", "backup-before-remove"):
            return {"backup_id": f"bk-{hashlib.sha256((job.environment + action.summary).encode()).hexdigest()[:12]}"}
        return {}

    # -- resource operations ----------------------------------------------------------------
    def _operate(self, job: StackJob, change: ResourceChange, target: Resource | None, on_event: OnEvent) -> None:
        event = dict(op=change.op.value, urn=change.urn, type=change.type, name=change.name)
        on_event(EngineEvent("resource-pre", **event))
        try:
            if self.faults.delay:
                time.sleep(self.faults.delay)
            self._maybe_fail(job.environment, f"{change.op.value} {change.type} {change.name}")
            self._write(job.environment, change, target)
        except (TemporaryError, EngineError) as exc:
            on_event(EngineEvent("resource-failed", message=str(exc), severity="error", **event))
            raise
        on_event(EngineEvent("resource-done", **event))

    def _write(self, environment: str, change: ResourceChange, target: Resource | None) -> None:
        now = self.db.clock()
        key = (T.c.environment == environment) & (T.c.urn == change.urn)
        with self.db.transaction() as connection:
            if change.op is Op.DELETE:
                connection.execute(sa.delete(T).where(key))
                return
            row = dict(type=target.type, inputs=target.inputs, outputs=target.outputs, updated_at=now)
            if change.op is Op.CREATE:
                connection.execute(sa.delete(T).where(key))  # a half-finished earlier attempt
                connection.execute(sa.insert(T).values(environment=environment, urn=change.urn,
                                                       resource_id=target.id or _new_id(change.urn, target), **row))
            elif change.op is Op.REPLACE:
                connection.execute(sa.update(T).where(key).values(resource_id=_new_id(change.urn, target), **row))
            else:
                connection.execute(sa.update(T).where(key).values(**row))

    # -- faults -------------------------------------------------------------------------------
    def _maybe_fail(self, environment: str, step: str) -> None:
        for index, fault in enumerate(self.faults.faults):
            if fnmatch.fnmatchcase(step, fault.match) and fnmatch.fnmatchcase(environment, fault.environment):
                if self._fire(f"{index}:{fault.match}:{environment}:{step}", fault.times):
                    _raise(fault.error, fault.message or f"injected {fault.error} fault at '{step}'")
        if self.faults.rate and self._random.random() < self.faults.rate:
            _raise(self.faults.random_error, f"injected random {self.faults.random_error} fault at '{step}'")

    def _fire(self, key: str, times: int) -> bool:
        """Count one firing of a fault; False once it fired ``times`` times (in any process)."""
        key = key[:600]
        with self.db.transaction() as connection:
            hits = connection.execute(sa.select(sandbox_faults.c.hits).where(sandbox_faults.c.key == key)).scalar()
            if hits is None:
                connection.execute(sa.insert(sandbox_faults).values(key=key, hits=1))
                return True
            if hits >= times:
                return False
            connection.execute(sa.update(sandbox_faults).where(sandbox_faults.c.key == key).values(hits=hits + 1))
            return True


def _raise(kind: str, message: str) -> None:
    if kind == "permanent":
        raise EngineError(message)
    raise TemporaryError(message, delay=0.05)


def _new_id(urn: str, resource: Resource) -> str:
    digest = hashlib.sha256((urn + json.dumps(resource.inputs, sort_keys=True, default=str)).encode()).hexdigest()
    return f"{resource.type.rsplit(':', 1)[-1].lower()[:12]}-{digest[:17]}"


def dependency_order(changes, planned: ResourceGraph, recorded: ResourceGraph | None) -> list[ResourceChange]:
    """As an engine would: a resource after what it depends on (its provider, its parent, the
    resources whose outputs it reads); deletions last, dependants first."""
    known = {**(recorded.by_urn() if recorded else {}), **planned.by_urn()}
    depth: dict[str, int] = {}

    def level(urn: str, trail: frozenset = frozenset()) -> int:
        if urn in depth:
            return depth[urn]
        resource = known.get(urn)
        if resource is None or urn in trail:
            return 0
        deps = set(resource.depends_on) | ({resource.parent} if resource.parent else set())
        deps |= {u for u in known if resource.provider and u.endswith("::" + resource.provider)
                 and u.split("::")[-2].startswith("pulumi:providers:")}
        depth[urn] = 1 + max((level(d, trail | {urn}) for d in deps if d != urn), default=-1)
        return depth[urn]

    ahead = sorted((c for c in changes if c.op is not Op.DELETE), key=lambda c: (level(c.urn), c.urn))
    behind = sorted((c for c in changes if c.op is Op.DELETE), key=lambda c: (-level(c.urn), c.urn))
    return ahead + behind


def cloud_graph(db: Database, environment: str, project: str = "") -> ResourceGraph:
    with db.reading() as connection:
        rows = connection.execute(sa.select(T).where(T.c.environment == environment).order_by(T.c.urn)).all()
    resources = tuple(Resource(urn=r.urn, type=r.type, name=r.urn.rsplit("::", 1)[-1], inputs=r.inputs,
                               id=r.resource_id, outputs=r.outputs or {}) for r in rows)
    return ResourceGraph(project, environment, resources)


@dataclass
class OutOfBand:
    """Changes made to the sandbox cloud by hand, behind the reconciler's back (for drift)."""

    db: Database
    changed: list[str] = field(default_factory=list)

    def set_input(self, environment: str, urn: str, key: str, value: Any) -> None:
        with self.db.transaction() as connection:
            row = connection.execute(sa.select(T).where((T.c.environment == environment) & (T.c.urn == urn))).first()
            if row is None:
                raise ConfigError(f"no resource {urn} in the sandbox cloud of {environment}")
            inputs = dict(row.inputs, **{key: value})
            connection.execute(sa.update(T).where((T.c.environment == environment) & (T.c.urn == urn))
                               .values(inputs=inputs, updated_at=self.db.clock()))
        self.changed.append(f"{urn}: {key} = {value!r}")

    def delete(self, environment: str, urn: str) -> None:
        with self.db.transaction() as connection:
            done = connection.execute(sa.delete(T).where((T.c.environment == environment) & (T.c.urn == urn)))
        if not done.rowcount:
            raise ConfigError(f"no resource {urn} in the sandbox cloud of {environment}")
        self.changed.append(f"{urn}: deleted")

    def set_power(self, environment: str, state: str) -> list[str]:
        """Turn a whole environment on or off by hand (as the portal's buttons would)."""
        from reconciler.planning.drift import power_state_keys, power_value

        graph = cloud_graph(self.db, environment)
        if not graph.resources:
            raise ConfigError(f"the sandbox cloud has no environment {environment!r}; apply it first")
        touched = []
        for resource in graph.resources:
            for key in power_state_keys(resource):
                self.set_input(environment, resource.urn, key, power_value(resource, state))
                touched.append(resource.urn)
        if not touched:
            raise ConfigError(f"{environment} has no power-state resource to change")
        return touched
