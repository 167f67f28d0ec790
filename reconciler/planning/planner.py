"""Assembling the plan (pure): per environment the actions and resource changes, then the
protections that refuse what must not happen (PROD removal, removal without --allow-destroy,
mass removal, protected data, rule 11 backups), then the order across environments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.model.graph import ResourceGraph
from reconciler.model.plan import EnvironmentChange, Op, Plan
from reconciler.model.spec import Environment
from reconciler.model.state import BackupRecord, RecordedEnvironment
from reconciler.planning.actions import Side, compare, ordered, removal
from reconciler.planning.resources import diff_graphs, protected_losses


@dataclass(frozen=True)
class Desired:
    """One desired environment, fully known (only those whose inputs moved are built)."""

    name: str
    env: Environment
    document: dict[str, Any]
    customer_document: dict[str, Any] | None
    spec_digest: str
    source_digest: str
    artifacts: dict[str, str]
    derived: dict[str, Any]
    graph: ResourceGraph | None  # None: not synthesised because nothing can differ


@dataclass(frozen=True)
class PlanningInput:
    desired: dict[str, Desired]
    recorded: dict[str, RecordedEnvironment]  # records of the desired names that exist, and of removals
    removed: tuple[str, ...]  # recorded environments no longer desired
    desired_count: int  # environments in the repository (for the fail-closed checks)
    recorded_count: int
    unchanged: int = 0  # skipped before this stage: same inputs as recorded
    backups: dict[str, list[BackupRecord]] = field(default_factory=dict)
    revision: str | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    allow_destroy: bool = False
    max_destroy_fraction: float = 0.5
    engine: str = "sandbox"
    root: str = ""
    projects: dict[str, str] = field(default_factory=dict)  # cloud -> Pulumi project


def make_plan(inp: PlanningInput) -> Plan:
    refusals: list[str] = []
    changes: list[EnvironmentChange] = []
    unchanged = inp.unchanged
    for name in sorted(inp.desired):
        change = _change_for(inp.desired[name], inp.recorded.get(name), inp, refusals)
        if change.has_changes or change.notes or change.operation is Op.NOOP:
            changes.append(change)
        if not change.has_changes:
            unchanged += 1
    changes += _removals(inp, refusals)
    refusals += _mass_destroy(inp)
    changes = _with_dependencies(changes)
    return Plan(revision=inp.revision, created_at=inp.now.isoformat(timespec="seconds"), changes=tuple(changes),
                refusals=tuple(refusals), allow_destroy=inp.allow_destroy, engine=inp.engine, root=inp.root,
                unchanged=unchanged)


def _old_side(record: RecordedEnvironment | None) -> Side | None:
    if record is None:
        return None
    return Side(Environment.from_document(record.document), dict(record.artifacts), dict(record.derived))


def _change_for(desired: Desired, record: RecordedEnvironment | None, inp: PlanningInput,
                refusals: list[str]) -> EnvironmentChange:
    base = dict(environment=desired.name, cloud=desired.env.cloud, project=inp.projects.get(desired.env.cloud, ""),
                state_serial=record.serial if record else 0, spec_digest=desired.spec_digest,
                source_digest=desired.source_digest, artifacts=desired.artifacts, derived=desired.derived,
                desired={"environment": desired.document, "customer": desired.customer_document})
    if desired.graph is None:  # inputs moved, but not in any way that matters: only bookkeeping
        return EnvironmentChange(operation=Op.NOOP, graph=record.graph.to_data() if record else {}, **base)
    found = compare(_old_side(record), Side(desired.env, desired.artifacts, desired.derived),
                    backups=inp.backups.get(desired.name, []), now=inp.now)
    resources = diff_graphs(record.graph if record else None, desired.graph)
    losses = protected_losses(record.graph if record else None, resources)
    refusals += found.refusals
    refusals += [f"{desired.name}: {r.type} '{r.name}' is protected production data and would be "
                 f"{'replaced' if any(c.urn == r.urn and c.op is Op.REPLACE for c in resources) else 'deleted'}; "
                 "change the spec so it stays, or migrate it first" for r in losses]
    operation = Op.CREATE if record is None else (Op.UPDATE if found.actions or resources else Op.NOOP)
    return EnvironmentChange(operation=operation, actions=ordered(found.actions), resources=resources,
                             notes=tuple(found.notes), graph=desired.graph.to_data(), **base)


def _removals(inp: PlanningInput, refusals: list[str]) -> list[EnvironmentChange]:
    changes = []
    for name in sorted(inp.removed):
        record = inp.recorded[name]
        if record.type == "PROD":
            refusals.append(f"{name}: a PROD topology is never removed (rule 4); restore its document, or change "
                            "its type first if it really is to go")
            continue
        if not inp.allow_destroy:
            refusals.append(f"{name}: removing the {record.type} topology deletes all its data and cannot be "
                            "undone; plan again with --allow-destroy (a backup is taken first)")
            continue
        found = removal(_old_side(record))
        changes.append(EnvironmentChange(
            environment=name, cloud=record.cloud, project=inp.projects.get(record.cloud, ""), operation=Op.DELETE,
            actions=ordered(found.actions), resources=diff_graphs(record.graph, None), state_serial=record.serial,
            graph={}))
    return changes


def _mass_destroy(inp: PlanningInput) -> list[str]:
    removing = len(inp.removed)
    if removing == 0:
        return []
    if inp.desired_count == 0:
        return [f"the repository declares no environment, so every one of the {inp.recorded_count} recorded "
                "environments would be removed; refusing (did the specs fail to load, or is the path wrong?)"]
    if removing > 1 and removing > inp.max_destroy_fraction * inp.recorded_count:
        return [f"{removing} of {inp.recorded_count} environments would be removed, more than the "
                f"{inp.max_destroy_fraction:.0%} allowed (maxDestroyFraction in .reconciler.yaml); refusing"]
    return []


def _with_dependencies(changes: list[EnvironmentChange]) -> list[EnvironmentChange]:
    """An RPO promotion runs after its source's own changes in the same apply."""
    changing = {c.environment for c in changes if c.has_changes}
    out = []
    for change in changes:
        sources = {a.details.get("source") for a in change.actions if a.kind == "rpo-promote"}
        after = tuple(sorted(s for s in sources if s in changing and s != change.environment))
        out.append(replace(change, after=after) if after else change)
    return out
