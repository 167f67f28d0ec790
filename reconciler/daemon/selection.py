"""Which changes of a plan the daemon applies now, and why the others wait (pure).

``apply`` refuses a whole plan when any protection refuses part of it; a daemon that did so would
let one refused QA removal block every other environment's changes for good. Here the planner's
convention (an environment's refusal starts with ``"<name>: "``) attributes each refusal:

- a refusal naming an environment holds back that environment only (Stalled, PlanRefused): its
  destroy stays refused exactly as ``apply`` would refuse it, and the others go on;
- a refusal naming none (a mass destroy, an empty repository) holds back everything.

Then, per environment: suspended by an operator -> left alone; stalled on a permanent error at
these very inputs -> left alone until they change (then tried again: "unstalled"); waiting out a
retry backoff at these inputs -> later. Last, an environment whose RPO source is held back waits
too (its promotion would copy an RPO that is not there yet).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping

from reconciler.daemon import status as st
from reconciler.model.plan import EnvironmentChange, Plan
from reconciler.store.controls import Control


@dataclass(frozen=True)
class Held:
    reason: str  # CamelCase
    message: str
    status: st.Status


@dataclass(frozen=True)
class Selection:
    plan: Plan  # what runs now; held environments taken out, so it carries no refusal
    held: dict[str, Held]
    unstalled: tuple[str, ...] = ()  # stalled environments whose inputs changed: tried again now
    blocked: tuple[str, ...] = ()  # refusals naming no environment: nothing runs


def select(plan: Plan, known: set[str], switches: Mapping[str, Control],
           waiting: Mapping[str, tuple[str | None, str]]) -> Selection:
    """``known``: every environment name (desired or recorded); ``waiting``: name -> (the digest
    that failed, message) for environments in retry backoff."""
    by_env, general = attribute_refusals(plan.refusals, known)
    if general:
        held = {c.environment: _refused(general) for c in plan.changes if c.has_changes}
        return Selection(replace(plan, changes=(), refusals=()), held, blocked=tuple(general))
    held = {name: _refused(reasons) for name, reasons in by_env.items()}
    kept, unstalled = [], []
    for change in plan.changes:
        reason = held.get(change.environment) or _hold(change, switches.get(change.environment), waiting)
        if reason is not None:
            held[change.environment] = reason
            continue
        if _stall_cleared(change, switches.get(change.environment)):
            unstalled.append(change.environment)
        kept.append(change)
    kept = _without_held_dependencies(kept, held)
    return Selection(replace(plan, changes=tuple(kept), refusals=()), held, tuple(unstalled))


def attribute_refusals(refusals, known: set[str]) -> tuple[dict[str, list[str]], list[str]]:
    by_env: dict[str, list[str]] = {}
    general: list[str] = []
    for refusal in refusals:
        name, sep, _ = refusal.partition(": ")
        if sep and name in known:
            by_env.setdefault(name, []).append(refusal)
        else:
            general.append(refusal)
    return by_env, general


def _refused(reasons: list[str]) -> Held:
    message = "; ".join(reasons)
    return Held("PlanRefused", message, st.stalled("PlanRefused", message))


def _hold(change: EnvironmentChange, control: Control | None, waiting) -> Held | None:
    if control is not None and control.suspended:
        message = (f"suspended by {control.suspended_by or '?'}: changes wait for 'reconciler resume "
                   f"{change.environment}'")
        return Held("Suspended", message, st.not_ready("Suspended", message))
    if control is not None and control.stalled_reason and control.stalled_digest == change.source_digest:
        reason = st.stall_reason(control.stalled_reason)
        message = f"{control.stalled_reason} (tried again when its spec changes)"
        return Held(reason, message, st.stalled(reason, message))
    if change.environment in waiting and waiting[change.environment][0] == change.source_digest:
        message = waiting[change.environment][1]
        return Held("ProgressingWithRetry", message, st.retrying(message))
    return None


def _stall_cleared(change: EnvironmentChange, control: Control | None) -> bool:
    return bool(control is not None and control.stalled_reason and control.stalled_digest != change.source_digest)


def _without_held_dependencies(kept: list[EnvironmentChange], held: dict[str, Held]) -> list[EnvironmentChange]:
    """Hold back, transitively, changes ordered after a held environment."""
    while True:
        blocked = [c for c in kept if any(dep in held for dep in c.after)]
        if not blocked:
            return kept
        for change in blocked:
            source = next(dep for dep in change.after if dep in held)
            message = f"waits for {source} ({held[source].reason}): its RPO is promoted from there"
            held[change.environment] = Held("DependencyNotReady", message, st.not_ready("DependencyNotReady", message))
        kept = [c for c in kept if c.environment not in held]
