"""Applying a whole plan: one pipeline per changed environment, up to N environments at once,
each serially, an RPO promotion after its source; environments whose inputs moved without
effect are only re-recorded. A failure stops its own environment (and those that depend on it),
never the others."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply.recovery import recover_interrupted
from reconciler.apply.runner import PipelineRun, RunContext
from reconciler.apply.steps import headline, plan_steps
from reconciler.engines.base import StackJob
from reconciler.errors import PlanRefused
from reconciler.model.graph import ResourceGraph
from reconciler.model.pipeline import PipelineStatus, StepStatus
from reconciler.model.plan import EnvironmentChange, Op, Plan
from reconciler.store import environments, pipelines as store
from reconciler.store.locks import process_identity


@dataclass
class ApplyReport:
    pipelines: dict[str, int] = field(default_factory=dict)  # environment -> pipeline id
    statuses: dict[str, PipelineStatus] = field(default_factory=dict)
    recorded_only: list[str] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s is PipelineStatus.SUCCEEDED for s in self.statuses.values())


def job_builder(plan: Plan, settings: dict[str, Any]):
    """How a plan's change becomes an engine job (the program input rebuilt from the plan)."""
    def job_for(change: EnvironmentChange) -> StackJob:
        from stacks.common.inputs import StackInput

        stack_input = None
        if change.operation is not Op.DELETE and change.desired.get("environment"):
            stack_input = StackInput.from_documents(
                change.desired["environment"], change.desired.get("customer"), artifacts=change.artifacts,
                repo_root=plan.root, settings=dict(settings.get(change.cloud, {})), revision=plan.revision)
        graph = ResourceGraph.from_data(change.graph) if change.graph else ResourceGraph.empty(change.project,
                                                                                                change.environment)
        return StackJob(change.environment, change.cloud, change.project, stack_input, graph, plan.revision)
    return job_for


def apply_plan(plan: Plan, ctx: RunContext, parallel: int = 4) -> ApplyReport:
    if plan.refused:
        raise PlanRefused("the plan was refused by its protections; it cannot be applied", list(plan.refusals))
    report = ApplyReport(recovered=recover_interrupted(ctx.db))
    report.recorded_only = _record_bookkeeping(plan, ctx)
    changes = [c for c in plan.changes if c.has_changes]
    report.pipelines = _create_pipelines(plan, changes, ctx)
    _run_in_order(changes, report, ctx, max(1, parallel))
    return report


def _record_bookkeeping(plan: Plan, ctx: RunContext) -> list[str]:
    """Inputs that moved without effect (a comment, a reordered list): record the new digests so
    the next plan does not look again. No pipeline: nothing happens in any cloud."""
    done = []
    for change in plan.changes:
        if change.has_changes or change.operation is not Op.NOOP or not change.state_serial:
            continue
        with ctx.db.transaction() as connection:
            record = environments.get(ctx.db, change.environment, connection)
            values = environments.record_values(
                document=change.desired["environment"], customer_document=change.desired.get("customer"),
                spec_digest=change.spec_digest or "", source_digest=change.source_digest or "",
                artifacts=change.artifacts, derived=change.derived, revision=plan.revision, graph=record.graph,
                applied_by=ctx.actor, pipeline_id=record.last_pipeline_id)
            environments.save(connection, name=change.environment, expected_serial=change.state_serial,
                              values=values, applied_at=ctx.db.clock())
            store.log(connection, ctx.db.clock(), change.environment, None, "info", "state-recorded",
                      f"{change.environment}: the document changed without effect (formatting, order); recorded",
                      ctx.actor)
        done.append(change.environment)
    return done


def _create_pipelines(plan: Plan, changes: list[EnvironmentChange], ctx: RunContext) -> dict[str, int]:
    ids = {}
    now = ctx.db.clock()
    with ctx.db.transaction() as connection:
        for change in changes:
            ids[change.environment] = store.create(
                connection, environment=change.environment, action=headline(change),
                actions=[a.kind for a in change.actions], revision=plan.revision, login=ctx.actor,
                cost_impact=change.cost_impact, change=change.to_data(), steps=plan_steps(change), now=now,
                owner=process_identity())
    return ids


def _run_in_order(changes: list[EnvironmentChange], report: ApplyReport, ctx: RunContext, parallel: int) -> None:
    pending = {c.environment: c for c in changes}
    names = set(pending)
    running: dict[concurrent.futures.Future, str] = {}
    with concurrent.futures.ThreadPoolExecutor(parallel, thread_name_prefix="pipeline") as pool:
        while pending or running:
            for name, change in list(pending.items()):
                deps = [d for d in change.after if d in names]
                failed = [d for d in deps if d in report.statuses and report.statuses[d] is not PipelineStatus.SUCCEEDED]
                if failed:
                    report.statuses[name] = _not_run(ctx, report.pipelines[name], failed)
                    del pending[name]
                elif all(d in report.statuses for d in deps) and len(running) < parallel:
                    running[pool.submit(_run_one, ctx, report.pipelines[name])] = name
                    del pending[name]
            if not running:
                for name in list(pending):  # waiting on each other: cannot happen with valid specs
                    report.statuses[name] = _not_run(ctx, report.pipelines[name], list(pending[name].after))
                    del pending[name]
                continue
            finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                report.statuses[running.pop(future)] = future.result()


def _run_one(ctx: RunContext, pipeline_id: int) -> PipelineStatus:
    return PipelineRun(ctx, pipeline_id).run()  # a stale state fails its verify step, inside the run


def _not_run(ctx: RunContext, pipeline_id: int, failed: list[str]) -> PipelineStatus:
    message = f"not run: {', '.join(failed)} had to succeed first (RPO promotion source)"
    now = ctx.db.clock()
    pipeline = store.get(ctx.db, pipeline_id)
    with ctx.db.transaction() as connection:
        for step in pipeline.steps:
            store.step_status(connection, pipeline_id, step.seq, StepStatus.SKIPPED, now)
        store.set_status(connection, pipeline_id, PipelineStatus.FAILED, now, message)
        store.log(connection, now, pipeline.environment, pipeline_id, "error", "pipeline-failed", message)
    ctx.progress(pipeline.environment, pipeline_id, "pipeline-failed", None, message)
    return PipelineStatus.FAILED
