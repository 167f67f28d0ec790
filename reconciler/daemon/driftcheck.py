"""Drift checks on their interval: refresh what exists, compare with what was last applied, report;
put it back when the environment's ``driftPolicy`` is ``remediate``.

When a check is due is read from the store (the later of the last check and the last apply, plus
the interval), so the cadence survives restarts and ``--once`` runs from cron honour it. Only
environments that are settled are checked: one being applied, backing off, stalled, held or
suspended differs from its record for reasons that are not drift. Power changes a working-hours
schedule makes are not drift (``check_drift`` knows).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Callable

import sqlalchemy as sa

from reconciler.apply.drift import DriftReport, check_drift, remediation_for
from reconciler.apply.orchestrator import apply_plan, job_builder
from reconciler.apply.retry import RetryPolicy
from reconciler.apply.runner import RunContext
from reconciler.config import RepoConfig
from reconciler.daemon import status as st
from reconciler.daemon.logging import fields
from reconciler.daemon.metrics import Metrics
from reconciler.engines import Engine, make_engine
from reconciler.model.plan import Plan
from reconciler.store import Database, controls
from reconciler.store import environments as env_store
from reconciler.store.tables import environments as E

SETTLED = ("ReconciliationSucceeded", "DriftDetected", "DriftRemediated")


class DriftChecker:
    def __init__(self, db: Database, interval: float, *, board: st.Board, metrics: Metrics, log: logging.Logger,
                 stop: threading.Event):
        self.db, self.interval = db, dt.timedelta(seconds=interval)
        self.board, self.metrics, self.log, self.stop = board, metrics, log, stop
        # when each environment was last checked by us, even if the check failed (a failed check
        # records nothing in the store: without this, it would be due again at once, for ever)
        self._tried: dict[str, dt.datetime] = {}

    # -- when ------------------------------------------------------------------------------------
    def _baselines(self) -> dict[str, dt.datetime]:
        """Settled, not suspended environment -> the last moment its cloud was known equal to its
        record (or we last tried to check it)."""
        switches = controls.all_controls(self.db)
        with self.db.reading() as connection:
            applied = dict(connection.execute(sa.select(E.c.name, E.c.applied_at)).all())
        baselines = {}
        for name, at in applied.items():
            control = switches.get(name)
            if self._settled(name) and not (control and control.suspended):
                moments = [at, control.last_drift_at if control else None, self._tried.get(name)]
                baselines[name] = max(m for m in moments if m is not None)
        return baselines

    def due(self) -> list[str]:
        now = self.db.clock()
        return sorted(n for n, at in self._baselines().items() if at + self.interval <= now)

    def seconds_to_next(self) -> float | None:
        baselines = self._baselines().values()
        if not baselines:
            return None
        return max(0.0, (min(baselines) + self.interval - self.db.clock()).total_seconds())

    def _settled(self, name: str) -> bool:
        status = self.board.get(name)
        return status is not None and status.reason in SETTLED

    # -- checking ----------------------------------------------------------------------------------
    def run(self, config: RepoConfig, engine_name: str, actor: str,
            progress: Callable = lambda *args: None) -> list[DriftReport]:
        names = self.due()
        if not names:
            return []
        engine = make_engine(engine_name, config, self.db)
        now = self.db.clock()
        self._tried.update((name, now) for name in names)
        reports = check_drift(self.db, engine, names)
        for report in reports:
            self._note(report)
        for report in reports:
            if report.drifted and report.policy == "remediate" and not self.stop.is_set():
                self._remediate(report.environment, engine, config, actor, progress)
        return reports

    def _note(self, report: DriftReport) -> None:
        name = report.environment
        if report.error:
            self.log.warning("drift-check-failed", extra=fields(environment=name, error=report.error))
            return
        self.metrics.drifted.labels(name).set(len(report.items))
        if report.drifted:
            self.metrics.drift_found.labels(name, report.policy).inc()
            summary = "; ".join(i.describe() for i in report.items[:3])
            self.board.set(name, st.not_ready("DriftDetected", f"{len(report.items)} resource(s) drifted "
                                                               f"(policy {report.policy}): {summary}"))
            self.log.warning("drift-found", extra=fields(environment=name, resources=len(report.items),
                                                         policy=report.policy))
        elif self.board.get(name) and self.board.get(name).reason == "DriftDetected":
            self.board.set(name, st.ready("no drift at the last check"))

    def _remediate(self, name: str, engine: Engine, config: RepoConfig, actor: str, progress: Callable) -> None:
        change = remediation_for(self.db, engine, name)
        record = env_store.get(self.db, name)
        if change is None or record is None:
            return
        plan = Plan(revision=record.revision, created_at=self.db.clock().isoformat(timespec="seconds"),
                    changes=(change,), root=str(config.root), engine=engine.name)
        ctx = RunContext(self.db, engine, actor, record.revision, lock_timeout=config.lock_timeout,
                         retry=RetryPolicy.from_env(), stop=self.stop, progress=progress,
                         job_for=job_builder(plan, (config.pulumi or {}).get("settings", {})))
        report = apply_plan(plan, ctx, 1)
        pipeline_id = report.pipelines.get(name)
        if report.ok:
            with self.db.transaction() as connection:
                controls.update(connection, name, drift=[])
            self.metrics.drifted.labels(name).set(0)
            self.board.set(name, st.ready(f"drift remediated (pipeline {pipeline_id})", "DriftRemediated"))
        else:
            self.board.set(name, st.not_ready("RemediationFailed", f"pipeline {pipeline_id} could not put the "
                                                                   "drifted resources back"))
        self.log.info("drift-remediated" if report.ok else "drift-remediation-failed",
                      extra=fields(environment=name, pipeline=pipeline_id))
