"""Running one pipeline: lock, (pre-removal backup), preview, resources, domain actions, verify,
unlock. The outer shell always releases the lock and records how the pipeline ended, whatever
happened (``finally``); the inner steps run in a straight line.

Durability: each step's transitions are transactions of their own, and the step that records
the environment's new state (verify) writes the state, the step and its event in one
transaction. A process killed at any point leaves the pipeline ``running`` with its owner's
identity; ``recovery`` turns it into ``interrupted`` when the owner is gone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from reconciler.apply.retry import RetryPolicy, call_with_retry
from reconciler.engines.base import Engine, EngineEvent, StackJob
from reconciler.errors import InterruptedRun, LockError, PermanentError, ReconcilerError, TemporaryError
from reconciler.model.graph import ResourceGraph
from reconciler.model.pipeline import Pipeline, PipelineStatus, Step, StepStatus
from reconciler.model.plan import Action, EnvironmentChange, Op
from reconciler.store import Database, backups, environments, locks
from reconciler.store import pipelines as store
from reconciler.store.locks import process_identity
from reconciler.store.pipelines import StepPlan

Progress = Callable[[str, int, str, Step | None, str], None]  # (environment, pipeline, event, step, message)


@dataclass
class RunContext:
    db: Database
    engine: Engine
    actor: str
    revision: str | None
    lock_timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy.from_env)
    stop: threading.Event = field(default_factory=threading.Event)  # set by SIGINT/SIGTERM: stop between steps
    progress: Progress = lambda *args: None
    job_for: Callable[[EnvironmentChange], StackJob] | None = None


class _StepFailed(Exception):
    def __init__(self, message: str, interrupted: bool = False):
        super().__init__(message)
        self.interrupted = interrupted


class PipelineRun:
    """One pipeline of one environment, from its stored steps."""

    def __init__(self, ctx: RunContext, pipeline_id: int):
        self.ctx = ctx
        self.id = pipeline_id
        loaded = store.get(ctx.db, pipeline_id)
        if loaded is None:
            raise PermanentError(f"pipeline {pipeline_id} does not exist")
        self.pipeline: Pipeline = loaded
        self.change = EnvironmentChange.from_data(loaded.change)
        self.job = ctx.job_for(self.change)
        self.lock_id: str | None = None
        self.graph: ResourceGraph | None = None
        self.facts: dict[str, Any] = {}

    @property
    def env(self) -> str:
        return self.pipeline.environment

    # -- the shell ----------------------------------------------------------------------------
    def run(self) -> PipelineStatus:
        status, message = PipelineStatus.FAILED, ""
        self._transition(PipelineStatus.RUNNING, "pipeline started")
        try:
            for step in self._pending_steps():
                if self.ctx.stop.is_set():
                    raise _StepFailed("stopped by a signal before this step", interrupted=True)
                if step.kind == "resource":
                    self._resources_phase()
                else:
                    self._run_step(step)
            status, message = PipelineStatus.SUCCEEDED, "applied"
        except _StepFailed as exc:
            status = PipelineStatus.INTERRUPTED if exc.interrupted else PipelineStatus.FAILED
            message = str(exc)
        except BaseException as exc:  # KeyboardInterrupt, a bug: still release and record
            status, message = PipelineStatus.INTERRUPTED, f"stopped: {type(exc).__name__}: {exc}"
            raise
        finally:
            self._finish(status, message)
        return status

    def _pending_steps(self) -> list[Step]:
        return [s for s in store.get(self.ctx.db, self.id).steps if s.status is not StepStatus.SUCCEEDED
                or s.kind in ("lock", "unlock")]

    def _finish(self, status: PipelineStatus, message: str) -> None:
        now = self.ctx.db.clock()
        with self.ctx.db.transaction() as connection:
            for step in store.get(self.ctx.db, self.id).steps:
                if step.kind == "unlock":
                    self._close_unlock(connection, step, status, now)
                elif step.status is StepStatus.QUEUED:
                    store.step_status(connection, self.id, step.seq, StepStatus.SKIPPED, now)
                elif step.status is StepStatus.RUNNING:
                    store.step_status(connection, self.id, step.seq, StepStatus.FAILED, now, message)
            store.set_status(connection, self.id, status, now, message)
            level = "info" if status is PipelineStatus.SUCCEEDED else "error"
            store.log(connection, now, self.env, self.id, level, f"pipeline-{status.value}",
                      f"pipeline {self.id} {status.value}: {message}", self.pipeline.login)
        self.ctx.progress(self.env, self.id, f"pipeline-{status.value}", None, message)

    def _close_unlock(self, connection, step: Step, status: PipelineStatus, now) -> None:
        """The lock goes in the transaction that records the outcome: never held after it."""
        if self.lock_id is None:
            store.step_status(connection, self.id, step.seq, StepStatus.SKIPPED, now, "no lock was held")
            return
        locks.release(connection, self.lock_id)
        self.lock_id = None
        outcome = "" if status is PipelineStatus.SUCCEEDED else f" after the pipeline {status.value}"
        store.step_status(connection, self.id, step.seq, StepStatus.SUCCEEDED, now, "lock released" + outcome)

    def _transition(self, status: PipelineStatus, text: str) -> None:
        with self.ctx.db.transaction() as connection:
            store.set_status(connection, self.id, status, self.ctx.db.clock(), owner=process_identity())
            store.log(connection, self.ctx.db.clock(), self.env, self.id, "info", "pipeline-started",
                      f"pipeline {self.id} started by {self.ctx.actor}", self.ctx.actor)
        self.ctx.progress(self.env, self.id, "pipeline-started", None, text)

    # -- steps ----------------------------------------------------------------------------------
    def _run_step(self, step: Step) -> None:
        if step.kind == "unlock":
            return  # released by _finish, in the transaction that records the outcome
        handler = {"lock": self._lock, "preview": self._preview, "action": self._action,
                   "verify": self._verify}[step.kind]
        self._mark(step, StepStatus.RUNNING, None, attempt=True)
        try:
            message = handler(step)
        except _StepFailed:
            raise
        except InterruptedRun as exc:
            self._mark(step, StepStatus.FAILED, f"interrupted by {exc.signal_name}")
            raise _StepFailed(f"interrupted by {exc.signal_name} at step '{step.name}'", interrupted=True) from exc
        except ReconcilerError as exc:
            self._mark(step, StepStatus.FAILED, str(exc))
            kind = "temporary error, retries exhausted" if isinstance(exc, TemporaryError) else "failed"
            raise _StepFailed(f"step '{step.name}' {kind}: {exc}") from exc
        if step.kind != "verify":
            self._mark(step, StepStatus.SUCCEEDED, message)

    def _mark(self, step: Step, status: StepStatus, message: str | None, attempt: bool = False) -> None:
        now = self.ctx.db.clock()
        with self.ctx.db.transaction() as connection:
            store.step_status(connection, self.id, step.seq, status, now, message, attempt=attempt)
            if status in (StepStatus.FAILED, StepStatus.SUCCEEDED):
                level = "error" if status is StepStatus.FAILED else "info"
                store.log(connection, now, self.env, self.id, level, f"step-{status.value}",
                          f"{step.name}: {status.value}" + (f" ({message})" if message else ""))
        self.ctx.progress(self.env, self.id, f"step-{status.value}", step, message or "")

    def _retrying(self, step: Step, fn: Callable[[], Any]) -> Any:
        def on_retry(attempt: int, exc: TemporaryError, wait: float) -> None:
            with self.ctx.db.transaction() as connection:
                store.step_status(connection, self.id, step.seq, StepStatus.RUNNING, self.ctx.db.clock(),
                                  f"attempt {attempt} failed ({exc}); retrying in {wait:.2f}s", attempt=True)
                store.log(connection, self.ctx.db.clock(), self.env, self.id, "warning", "step-retry",
                          f"{step.name}: temporary error, retry in {wait:.2f}s: {exc}")
            self.ctx.progress(self.env, self.id, "step-retry", step, str(exc))
        return call_with_retry(fn, self.ctx.retry, on_retry, self.ctx.stop)

    def _lock(self, step: Step) -> str:
        try:
            self.lock_id = locks.acquire(self.ctx.db, self.env, "apply", self.ctx.actor, self.ctx.revision,
                                         self.ctx.lock_timeout)
        except LockError as exc:
            raise _fail(step, self, str(exc)) from exc
        return f"lock {self.lock_id} taken"

    def _preview(self, step: Step) -> str:
        changes = self._retrying(step, lambda: self.ctx.engine.preview(self.job, lambda e: None))
        planned = sum(1 for r in self.change.resources if r.op is not Op.NOOP)
        note = "" if len(changes) == planned else f" (the plan said {planned}: the cloud moved since)"
        return f"{len(changes)} resource change(s){note}"

    def _resources_phase(self) -> None:
        """One engine run settles every resource step: its events mark each step as it goes."""
        if self.graph is not None:
            return  # already done for an earlier resource step of this run
        steps = [s for s in store.get(self.ctx.db, self.id).steps if s.kind == "resource"]
        sink = _EventSink(self, {s.detail.get("urn"): s for s in steps})
        first = next(s for s in steps if s.status is not StepStatus.SUCCEEDED)
        try:
            if self.change.operation is Op.DELETE:
                self._retrying(first, lambda: self.ctx.engine.destroy(self.job, sink))
                self.graph = ResourceGraph.empty(self.change.project, self.env)
            else:
                self.graph = self._retrying(first, lambda: self.ctx.engine.up(self.job, sink))
        except InterruptedRun as exc:
            raise _StepFailed(f"interrupted by {exc.signal_name} during the resource changes", interrupted=True) from exc
        except ReconcilerError as exc:
            failed = sink.failed or self._first_open(steps)
            if failed is not None and not sink.failed:
                self._mark(failed, StepStatus.FAILED, str(exc))
            name = failed.name if failed else "resources"
            kind = "temporary error, retries exhausted" if isinstance(exc, TemporaryError) else "failed"
            raise _StepFailed(f"step '{name}' {kind}: {exc}") from exc
        self._settle_untouched(sink.touched)

    def _settle_untouched(self, touched: set[str]) -> None:
        """Planned resource steps the engine did not need (already in place, e.g. on a retry)."""
        for step in store.get(self.ctx.db, self.id).steps:
            if step.kind == "resource" and step.status in (StepStatus.QUEUED, StepStatus.RUNNING) and \
                    step.detail.get("urn") not in touched:
                self._mark(step, StepStatus.SUCCEEDED, "already in place")

    def _first_open(self, steps: list[Step]) -> Step | None:
        current = {s.seq: s for s in store.get(self.ctx.db, self.id).steps}
        return next((current[s.seq] for s in steps if current[s.seq].status in (StepStatus.QUEUED,
                                                                                 StepStatus.RUNNING)), None)

    def _action(self, step: Step) -> str:
        action = Action.from_data(step.detail["action"])
        facts = self._retrying(step, lambda: self.ctx.engine.run_action(self.job, action)) or {}
        self._record_action(action, facts)
        return ", ".join(f"{k}={v}" for k, v in facts.items()) or "done"

    def _record_action(self, action: Action, facts: dict[str, Any]) -> None:
        now = self.ctx.db.clock()
        with self.ctx.db.transaction() as connection:
            if action.kind in ("backup-create", "backup-before-change"):
                backups.record(connection, self.env, action.details["name"], "manual", action.details.get("comment"),
                               now, self.id)
            elif action.kind == "backup-before-remove":
                backups.record(connection, self.env, action.details["backup"], "pre-removal",
                               "taken before removing the topology", now, self.id)
            elif action.kind == "backup-delete":
                backups.mark_deleted(connection, self.env, action.details["name"], now)

    def _verify(self, step: Step) -> None:
        """Read back what exists, compare with the plan, and record the new state: one transaction."""
        actual = self._retrying(step, lambda: self.ctx.engine.refresh(self.job))
        problems = _differences(self.change, actual)
        if problems:
            self._mark(step, StepStatus.FAILED, "; ".join(problems[:5]))
            raise _StepFailed(f"verify found {len(problems)} difference(s): {'; '.join(problems[:3])}")
        now = self.ctx.db.clock()
        with self.ctx.db.transaction() as connection:
            if self.change.operation is Op.DELETE:
                environments.remove(connection, self.env, self.change.state_serial)
            else:
                environments.save(connection, name=self.env, expected_serial=self.change.state_serial,
                                  values=_record(self.change, actual, self.pipeline, self.id), applied_at=now)
            store.step_status(connection, self.id, step.seq, StepStatus.SUCCEEDED, now,
                              f"{len(actual.resources)} resources match the plan; state recorded")
            store.log(connection, now, self.env, self.id, "info", "state-recorded",
                      f"{self.env}: state recorded at revision {self.pipeline.revision or '-'}")
        self.ctx.progress(self.env, self.id, "step-succeeded", step, "state recorded")


class _EventSink:
    """Engine events -> step transitions (and new steps for operations the plan did not list)."""

    def __init__(self, run: PipelineRun, steps: dict[str, Step]):
        self.run, self.steps, self.touched = run, dict(steps), set()
        self.failed: Step | None = None

    def __call__(self, event: EngineEvent) -> None:
        if event.kind == "resource-pre" and self.run.ctx.stop.is_set():
            raise InterruptedRun("SIGTERM")
        if event.urn is None or event.kind not in ("resource-pre", "resource-done", "resource-failed"):
            return
        step = self.steps.get(event.urn) or self._add(event)
        self.touched.add(event.urn)
        status = {"resource-pre": StepStatus.RUNNING, "resource-done": StepStatus.SUCCEEDED,
                  "resource-failed": StepStatus.FAILED}[event.kind]
        self.run._mark(step, status, event.message or None, attempt=event.kind == "resource-pre")
        if status is StepStatus.FAILED:
            self.failed = step

    def _add(self, event: EngineEvent) -> Step:
        run = self.run
        existing = store.get(run.ctx.db, run.id).steps
        before = next(s.seq for s in existing if s.kind in ("action", "verify") and s.status is StepStatus.QUEUED)
        with run.ctx.db.transaction() as connection:
            seq = store.append_step(connection, run.id, before, StepPlan(event.step_name, "resource",
                                                                         {"urn": event.urn, "op": event.op,
                                                                          "unplanned": True}))
        step = next(s for s in store.get(run.ctx.db, run.id).steps if s.seq == seq)
        self.steps[event.urn] = step
        return step


def _fail(step: Step, run: PipelineRun, message: str) -> _StepFailed:
    run._mark(step, StepStatus.FAILED, message)
    return _StepFailed(f"step '{step.name}' failed: {message}")


def _differences(change: EnvironmentChange, actual: ResourceGraph) -> list[str]:
    if change.operation is Op.DELETE:
        return [f"{r.type} {r.name} still exists" for r in actual.resources]
    planned = ResourceGraph.from_data(change.graph).by_urn()
    found = actual.by_urn()
    problems = [f"{r.type} {r.name} is missing" for urn, r in planned.items() if urn not in found]
    problems += [f"{r.type} {r.name} differs ({', '.join(_differing(r.inputs, found[urn].inputs))})"
                 for urn, r in planned.items() if urn in found and _differing(r.inputs, found[urn].inputs)]
    problems += [f"{r.type} {r.name} should not exist" for urn, r in found.items() if urn not in planned]
    return problems


def _differing(planned: dict, actual: dict) -> list[str]:
    """Keys the plan set that the cloud does not hold (providers may add keys of their own)."""
    return sorted(k for k, v in planned.items() if not k.startswith("__") and actual.get(k) != v)


def _record(change: EnvironmentChange, actual: ResourceGraph, pipeline: Pipeline, pipeline_id: int) -> dict[str, Any]:
    """The planned graph (with its options: protect, dependencies) with the ids and outputs the
    cloud gave each resource."""
    planned = ResourceGraph.from_data(change.graph)
    found = actual.by_urn()
    recorded = planned.with_resources(
        replace(r, id=found[r.urn].id or r.id, outputs=found[r.urn].outputs or r.outputs) if r.urn in found else r
        for r in planned.resources)
    return environments.record_values(
        document=change.desired["environment"], customer_document=change.desired.get("customer"),
        spec_digest=change.spec_digest or "", source_digest=change.source_digest or "", artifacts=change.artifacts,
        derived=change.derived, revision=pipeline.revision, graph=recorded, applied_by=pipeline.login,
        pipeline_id=pipeline_id)
