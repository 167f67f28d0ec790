"""Drift checks with their I/O: refresh each recorded environment through the engine, compare,
record what was found (an event and the environment's controls), and build the change that puts
the recorded state back when remediation is asked for."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.engines.base import Engine, StackJob
from reconciler.model.plan import Action, EnvironmentChange, Op
from reconciler.model.state import RecordedEnvironment
from reconciler.planning.drift import DriftItem, find_drift
from reconciler.planning.resources import diff_graphs
from reconciler.store import Database, controls, environments
from reconciler.store import pipelines as store


@dataclass
class DriftReport:
    environment: str
    items: list[DriftItem] = field(default_factory=list)
    error: str | None = None
    policy: str = "report"

    @property
    def drifted(self) -> bool:
        return bool(self.items)


def check_drift(db: Database, engine: Engine, names: list[str] | None = None) -> list[DriftReport]:
    reports = []
    for record in environments.all_recorded(db):
        if names and record.name not in names:
            continue
        reports.append(_check_one(db, engine, record))
    return reports


def _check_one(db: Database, engine: Engine, record: RecordedEnvironment) -> DriftReport:
    policy = record.document.get("spec", {}).get("driftPolicy", "report")
    job = StackJob(record.name, record.cloud, record.graph.project, None, record.graph, record.revision, record.graph)
    try:
        actual = engine.refresh(job)
    except Exception as exc:  # an engine that cannot read is reported, not fatal for the others
        return DriftReport(record.name, error=f"{type(exc).__name__}: {exc}", policy=policy)
    scheduled = record.document.get("spec", {}).get("power") == "scheduled"
    report = DriftReport(record.name, find_drift(record.graph, actual, scheduled), policy=policy)
    _record(db, report)
    return report


def _record(db: Database, report: DriftReport) -> None:
    now = db.clock()
    with db.transaction() as connection:
        controls.update(connection, report.environment, last_drift_at=now,
                        drift=[i.to_data() for i in report.items])
        if report.items:
            store.log(connection, now, report.environment, None, "warning", "drift-found",
                      f"{report.environment}: {len(report.items)} resource(s) drifted: "
                      + "; ".join(i.describe() for i in report.items[:5]), detail={"policy": report.policy})


def remediation(record: RecordedEnvironment, actual_changes) -> EnvironmentChange:
    """The change that brings the cloud back to the recorded graph (re-applied as recorded)."""
    return EnvironmentChange(
        environment=record.name, cloud=record.cloud, project=record.graph.project, operation=Op.UPDATE,
        actions=(Action("remediate-drift", f"put back {len(actual_changes)} drifted resource(s)",
                        {"resources": [c.urn for c in actual_changes]}),),
        resources=tuple(actual_changes), state_serial=record.serial, spec_digest=record.spec_digest,
        source_digest=record.source_digest, artifacts=record.artifacts, derived=record.derived,
        desired={"environment": record.document, "customer": record.customer_document},
        graph=record.graph.to_data())


def remediation_for(db: Database, engine: Engine, name: str) -> EnvironmentChange | None:
    record = environments.get(db, name)
    if record is None:
        return None
    job = StackJob(record.name, record.cloud, record.graph.project, None, record.graph, record.revision, record.graph)
    changes = diff_graphs(engine.refresh(job), record.graph)
    return remediation(record, changes) if changes else None
