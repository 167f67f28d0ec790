"""One level-based reconcile pass, as Flux's kustomize-controller runs one: read the revision and
the state again (never trust what triggered the pass), validate, plan, apply what changed.

``Reconciler.run`` is the shell: whatever happens inside, its ``finally`` records the outcome
(metrics, a log line; statuses and events are written where each outcome is decided). The inner
pass is a straight line:

1. fetch the branch tip (``SourceUnavailable``: reported, tried again at the next trigger);
2. guard it: it must descend from the last commit applied (else ``HistoryRewritten``: nothing is
   applied until a descendant arrives or an operator accepts it), and be signed by an allowed
   key when signatures are checked;
3. check it out and plan it; specs that do not validate apply nothing and are reported, the last
   good revision stays applied;
4. select (``selection``): refused, suspended, stalled and backing-off environments are held;
5. apply the rest (one pipeline per environment, environments in parallel: ``apply_plan``);
6. settle each environment: succeeded -> Ready; a temporary failure -> retry with backoff; a
   permanent one -> Stalled until its inputs change.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from reconciler.apply.orchestrator import ApplyReport, apply_plan, job_builder
from reconciler.apply.retry import RetryPolicy
from reconciler.apply.runner import RunContext
from reconciler.config import RepoConfig, load_config
from reconciler.daemon import history
from reconciler.daemon import status as st
from reconciler.daemon.backoff import Backoff
from reconciler.daemon.logging import fields
from reconciler.daemon.metrics import Metrics
from reconciler.daemon.selection import Selection, select
from reconciler.daemon.source import (
    Commit,
    GitSource,
    HistoryRewritten,
    SourceUnavailable,
    UnverifiedRevision,
)
from reconciler.daemon.tap import ErrorTap
from reconciler.engines import make_engine
from reconciler.errors import ConfigError, PermanentError, SpecError
from reconciler.gitinfo import actor as resolve_actor
from reconciler.model.pipeline import PipelineStatus
from reconciler.model.plan import EnvironmentChange, Plan
from reconciler.planning.service import PlanResult, plan_repository
from reconciler.store import Database, controls
from reconciler.store import environments as env_store
from reconciler.store import pipelines as store

OK_RESULTS = ("succeeded", "noop")


@dataclass(frozen=True)
class PassResult:
    # succeeded | noop | failed | refused | interrupted | invalid | rewritten | unverified | unavailable | error
    result: str
    revision: str | None = None
    statuses: dict[str, PipelineStatus] = field(default_factory=dict)
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.result in OK_RESULTS


class Reconciler:
    def __init__(self, source: GitSource, db: Database, *, board: st.Board, metrics: Metrics, log: logging.Logger,
                 stop: threading.Event, engine: str | None = None, actor: str | None = None):
        self.source, self.db = source, db
        self.board, self.metrics, self.log, self.stop = board, metrics, log, stop
        self.engine_override, self.actor_override = engine, actor
        self.backoff = Backoff(RetryPolicy.from_env())
        self.config: RepoConfig | None = None  # the configuration of the revision last planned
        self.passes = 0
        self._reported: dict[str, str] = {}  # event key -> what was last logged (no repeats each pass)

    # -- the shell --------------------------------------------------------------------------
    def run(self, reasons: Counter | None = None) -> PassResult:
        started = time.monotonic()
        outcome = PassResult("error", message="the pass did not finish")
        try:
            outcome = self._pass()
        except SourceUnavailable as exc:
            outcome = self._source_failed("unavailable", "FetchFailed", exc, temporary=True)
        except HistoryRewritten as exc:
            outcome = self._source_failed("rewritten", "HistoryRewritten", exc)
        except UnverifiedRevision as exc:
            outcome = self._source_failed("unverified", "UnverifiedRevision", exc)
        except SpecError as exc:
            outcome = self._invalid(exc)
        except ConfigError as exc:
            outcome = self._source_failed("invalid", "ConfigInvalid", exc)
        except Exception as exc:  # a bug or the store down: report, keep the daemon alive for the next trigger
            self.log.exception("reconcile-error", extra=fields(error=f"{type(exc).__name__}: {exc}"))
            outcome = PassResult("error", self._head(), message=f"{type(exc).__name__}: {exc}")
            self.board.set_source(st.retrying(outcome.message, "ReconcileError"))
        finally:
            self._finish(outcome, time.monotonic() - started, reasons or Counter())
        return outcome

    def _finish(self, outcome: PassResult, seconds: float, reasons: Counter) -> None:
        self.passes += 1
        if outcome.ok:  # Flux's rule: a revision is "applied" once a pass at it succeeded entirely
            self.board.note_source(lastAppliedRevision=outcome.revision)
        self.metrics.reconciles.labels(outcome.result).inc()
        self.metrics.duration.observe(seconds)
        self.metrics.queue_depth.set(len(self.backoff))
        level = logging.INFO if outcome.ok else logging.WARNING
        self.log.log(level, "reconcile-finished", extra=fields(
            result=outcome.result, revision=outcome.revision, seconds=round(seconds, 3),
            triggers=dict(reasons), pipelines={n: s.value for n, s in outcome.statuses.items()},
            message=outcome.message or None))

    # -- the pass -----------------------------------------------------------------------------
    def _pass(self) -> PassResult:
        head = self.source.fetch()
        self.metrics.set_source(head.sha)
        self.board.note_source(revision=head.sha, fetchedAt=self.db.clock().isoformat())
        self._guard(head)
        root = self.source.checkout(head.sha)
        self.config = load_config(root)
        planned = plan_repository([root], self.config, self.db, engine=self._engine_name(), workers=1)
        self.board.set_source(st.ready(f"revision {head.short} validated and planned"),
                              lastAttemptedRevision=head.sha)
        self._reported.pop("source", None)
        return self._reconcile(planned, head)

    def _guard(self, head: Commit) -> None:
        base = history.base(self.db)
        if base and not self.source.descends_from(base, head.sha):
            raise HistoryRewritten(f"the tip of {self.source.branch} ({head.short}) does not descend from the last "
                                   f"applied commit {base[:12]}: the history was rewritten (force-push). Nothing is "
                                   "applied until a descendant of it is pushed, or an operator accepts the new tip "
                                   f"with --accept-revision {head.sha}", base, head.sha)
        self.source.verify(head.sha)

    def _reconcile(self, planned: PlanResult, head: Commit) -> PassResult:
        plan = planned.plan
        desired = {d.name for d in planned.validation.environments()}
        switches = controls.all_controls(self.db)
        selection = select(plan, desired | set(env_store.summaries(self.db)), switches, self.backoff.blocking())
        self._report_held(selection, head)
        self._unstall(selection.unstalled, "its inputs changed")
        self._settle_unchanged(desired - {c.environment for c in plan.changes}, switches, head)
        if self.stop.is_set():  # asked to stop while planning: start no pipeline only to interrupt it
            return PassResult("interrupted", head.sha, message="stopping: nothing was applied")
        applied = self._apply(selection.plan, head) if selection.plan.changes else None
        if applied is not None:
            self._settle(selection.plan, applied, head)
        failed_now = {n for n in (applied[0].statuses if applied else {}) if self.backoff.attempts(n)}
        self.backoff.retain(failed_now | {n for n, h in selection.held.items() if h.reason == "ProgressingWithRetry"})
        self._after_pass(desired)
        return _result(selection, applied, head)

    # -- applying -------------------------------------------------------------------------------
    def _apply(self, plan: Plan, head: Commit) -> tuple[ApplyReport, ErrorTap]:
        if history.base(self.db) != head.sha:
            history.record(self.db, head.sha, self.source.branch, self._actor(head))
        engine = ErrorTap(make_engine(self._engine_name(), self.config, self.db))
        changing = [c for c in plan.changes if c.has_changes]
        self._mark_attempted(changing, head)
        self.metrics.queue_depth.set(len(changing) + len(self.backoff))
        ctx = RunContext(self.db, engine, self._actor(head), plan.revision, lock_timeout=self.config.lock_timeout,
                         retry=self.backoff.policy, stop=self.stop, progress=self.progress,
                         job_for=job_builder(plan, (self.config.pulumi or {}).get("settings", {})))
        return apply_plan(plan, ctx, self.config.parallel), engine

    def _mark_attempted(self, changes: list[EnvironmentChange], head: Commit) -> None:
        with self.db.transaction() as connection:
            for change in changes:
                controls.update(connection, change.environment, last_attempted_revision=head.sha)
        for change in changes:
            self.board.set(change.environment, st.progressing(f"applying revision {head.short}"))

    def progress(self, environment: str, pipeline_id: int, event: str, step, message: str) -> None:
        """Called from the pipeline threads as each pipeline and step moves."""
        if event == "pipeline-started":
            self.board.set(environment, st.progressing(f"pipeline {pipeline_id} running"))
        elif event.startswith("pipeline-"):
            self.metrics.queue_depth.dec()
        level = logging.INFO if event.startswith("pipeline-") else logging.DEBUG
        self.log.log(level, event, extra=fields(environment=environment, pipeline=pipeline_id,
                                                 step=step.name if step else None, message=message or None))

    # -- settling each environment --------------------------------------------------------------
    def _settle(self, plan: Plan, applied: tuple[ApplyReport, ErrorTap], head: Commit) -> None:
        report, tap = applied
        changes = {c.environment: c for c in plan.changes}
        for name in report.recorded_only:
            self.backoff.forget(name)
            self.board.set(name, st.ready(f"up to date at revision {head.short} (the change had no effect)"))
        for name, result in report.statuses.items():
            pipeline_id = report.pipelines[name]
            self.metrics.pipelines.labels(name, result.value).inc()
            if result is PipelineStatus.SUCCEEDED:
                self.backoff.forget(name)
                self.board.set(name, st.ready(f"applied revision {head.short} (pipeline {pipeline_id})"))
            elif result is PipelineStatus.INTERRUPTED:
                self.board.set(name, st.not_ready("Interrupted", f"pipeline {pipeline_id} was stopped by a signal; "
                                                                 "the next pass resumes it"))
            else:
                self._failed(changes[name], pipeline_id, tap.last_error(name))

    def _failed(self, change: EnvironmentChange, pipeline_id: int, error: BaseException | None) -> None:
        name = change.environment
        message = (store.get(self.db, pipeline_id).message or "failed").splitlines()[0]
        if isinstance(error, PermanentError):
            self._stall(name, change.source_digest, f"{type(error).__name__}: {error}", pipeline_id)
            return
        delay = self.backoff.failed(name, change.source_digest, f"pipeline {pipeline_id}: {message}")
        attempts = self.backoff.attempts(name)
        self.board.set(name, st.retrying(f"pipeline {pipeline_id} failed (attempt {attempts}): {message}; "
                                         f"next attempt in {delay:.2f}s"))
        self.log.warning("retry-scheduled", extra=fields(environment=name, pipeline=pipeline_id, attempt=attempts,
                                                         delay=round(delay, 3), error=message))

    def _stall(self, name: str, digest: str | None, reason: str, pipeline_id: int) -> None:
        self.backoff.forget(name)
        now = self.db.clock()
        with self.db.transaction() as connection:
            controls.update(connection, name, stalled_reason=reason[:4000], stalled_digest=digest)
            store.log(connection, now, name, pipeline_id, "error", "environment-stalled",
                      f"{name} stalled after pipeline {pipeline_id}: {reason}. It is tried again when its spec "
                      "changes")
        self.board.set(name, st.stalled(st.stall_reason(reason), reason))
        self.log.error("environment-stalled", extra=fields(environment=name, pipeline=pipeline_id, reason=reason))

    def _unstall(self, names, why: str) -> None:
        if not names:
            return
        with self.db.transaction() as connection:
            for name in names:
                controls.update(connection, name, stalled_reason=None, stalled_digest=None)
                store.log(connection, self.db.clock(), name, None, "info", "environment-unstalled",
                          f"{name}: no longer stalled ({why}); reconciling it again")
        for name in names:
            self.log.info("environment-unstalled", extra=fields(environment=name, why=why))

    def _settle_unchanged(self, names: set[str], switches: dict, head: Commit) -> None:
        """Environments whose inputs equal what is recorded: nothing to apply."""
        self._unstall([n for n in names if n in switches and switches[n].stalled_reason],
                      "its spec is back to what is applied")
        for name in names:
            self.backoff.forget(name)
            control = switches.get(name)
            if control is not None and control.drift:
                self.board.set(name, st.not_ready("DriftDetected", f"{len(control.drift)} resource(s) drifted at "
                                                                   "the last check"))
            else:
                self.board.set(name, st.ready(f"up to date at revision {head.short}"))

    def _report_held(self, selection: Selection, head: Commit) -> None:
        for name, held in selection.held.items():
            self.board.set(name, held.status)
            # a backoff is recorded by its failed pipeline; the other reasons once per revision
            if held.reason == "ProgressingWithRetry" or not self._once(f"held:{name}", f"{held.reason}:{head.sha}"):
                continue
            level = "warning" if held.reason == "PlanRefused" else "info"
            with self.db.transaction() as connection:
                store.log(connection, self.db.clock(), name, None, level, "environment-held",
                          f"{name}: revision {head.short} not applied ({held.reason}): {held.message}",
                          detail={"revision": head.sha, "reason": held.reason})

    def _after_pass(self, desired: set[str]) -> None:
        applied = st.applied_revisions(self.db)
        self.board.keep_only(desired | set(applied))
        self.metrics.set_applied(applied)
        self.metrics.ready.clear()  # removed environments leave the series
        for name in desired | set(applied):
            status = self.board.get(name)
            self.metrics.ready.labels(name).set(1 if status is not None and status.ready else 0)

    # -- the source's failures ------------------------------------------------------------------
    def _source_failed(self, result: str, reason: str, exc: Exception, temporary: bool = False) -> PassResult:
        message = str(exc)
        self.board.set_source(st.retrying(message, reason) if temporary else st.stalled(reason, message))
        revision = self._head()
        if self._once("source", f"{reason}:{revision}"):
            with self.db.transaction() as connection:
                store.log(connection, self.db.clock(), None, None, "warning" if temporary else "error",
                          _EVENT[reason], message, detail={"revision": revision, "reason": reason})
        return PassResult(result, revision, message=message)

    def _invalid(self, exc: SpecError) -> PassResult:
        errors = [d for d in exc.diagnostics if d.is_error]
        revision = self._head()
        message = (f"revision {revision[:12] if revision else '-'}: {len(errors)} error(s) in the specs; nothing is "
                   f"applied, the last good revision stays. First: {_describe(errors[0]) if errors else exc}")
        self.board.set_source(st.stalled("ValidationFailed", message), lastAttemptedRevision=revision)
        if self._once("source", f"ValidationFailed:{revision}"):
            with self.db.transaction() as connection:
                store.log(connection, self.db.clock(), None, None, "error", "revision-invalid", message,
                          detail={"revision": revision, "errors": [_describe(d) for d in errors[:50]]})
        return PassResult("invalid", revision, message=message)

    # -- small helpers ----------------------------------------------------------------------------
    def _once(self, key: str, value: str) -> bool:
        """True the first time ``value`` is seen for ``key`` (events are written on change only)."""
        if self._reported.get(key) == value:
            return False
        self._reported[key] = value
        return True

    def _head(self) -> str | None:
        return self.source.last.sha if self.source.last else None

    def _engine_name(self) -> str:
        return (self.config or RepoConfig(root=self.source.path)).engine_name(self.engine_override)

    def _actor(self, head: Commit) -> str:
        from reconciler.gitinfo import Revision

        return resolve_actor(self.actor_override or (self.config.actor if self.config else None),
                             Revision(head.sha, author=head.author))


_EVENT = {"FetchFailed": "source-unavailable", "HistoryRewritten": "history-rewritten",
          "UnverifiedRevision": "revision-unverified", "ConfigInvalid": "revision-invalid"}


def _describe(diagnostic) -> str:
    where = f"{diagnostic.file}:{diagnostic.line}" if diagnostic.line else diagnostic.file
    return f"{where}: {diagnostic.message} [{diagnostic.rule}]"


def _result(selection: Selection, applied: tuple[ApplyReport, ErrorTap] | None, head: Commit) -> PassResult:
    report = applied[0] if applied else None
    statuses = dict(report.statuses) if report else {}
    values = set(statuses.values())
    if PipelineStatus.FAILED in values:
        result = "failed"
    elif PipelineStatus.INTERRUPTED in values:
        result = "interrupted"
    elif selection.blocked or any(h.reason == "PlanRefused" for h in selection.held.values()):
        result = "refused"
    elif statuses or (report and report.recorded_only):
        result = "succeeded"
    else:
        result = "noop"
    held = {n: h.reason for n, h in selection.held.items()}
    return PassResult(result, head.sha, statuses, f"held: {held}" if held else "")
