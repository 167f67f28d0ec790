"""The steps of a pipeline, derived from the plan's change for one environment (pure)."""

from __future__ import annotations

from reconciler.model.plan import EnvironmentChange, Op
from reconciler.store.pipelines import StepPlan

PRE_RESOURCE_RANK = 10  # actions ranked below this (the pre-removal backup) run before any resource


def plan_steps(change: EnvironmentChange) -> list[StepPlan]:
    steps = [StepPlan("lock", "lock", {})]
    pre = [a for a in change.actions if a.rank < PRE_RESOURCE_RANK]
    post = [a for a in change.actions if a.rank >= PRE_RESOURCE_RANK]
    steps += [_action_step(a) for a in pre]
    steps.append(StepPlan("preview", "preview", {}))
    steps += [StepPlan(f"{r.op.value} {r.type} {r.name}", "resource", {"urn": r.urn, "op": r.op.value})
              for r in change.resources if r.op is not Op.NOOP]
    steps += [_action_step(a) for a in post]
    steps.append(StepPlan("verify", "verify", {}))
    steps.append(StepPlan("unlock", "unlock", {}))
    return steps


def _action_step(action) -> StepPlan:
    return StepPlan(f"{action.kind}: {action.summary}", "action", {"action": action.to_data()})


def headline(change: EnvironmentChange) -> str:
    """The pipeline's action as the portal shows it: the main action, and how many more."""
    if change.operation is Op.DELETE:
        return "remove topology"
    from reconciler.model.plan import ACTION_KINDS

    if not change.actions:
        return "reconcile resources"
    first = change.actions[0]
    title = ACTION_KINDS[first.kind].title
    return title if len(change.actions) == 1 else f"{title} (+{len(change.actions) - 1} more)"
