"""A saved plan is applied only while it still describes the world: same revision, same specs
(and artifacts), same recorded state. Anything that moved is listed in the refusal."""

from __future__ import annotations

from reconciler.errors import StalePlanError
from reconciler.gitinfo import Revision
from reconciler.model.plan import Op, Plan
from reconciler.model.state import RecordedSummary


def check_fresh(plan: Plan, revision: Revision, source_digests: dict[str, str],
                recorded: dict[str, RecordedSummary]) -> None:
    """``source_digests``: the current quick digest of every environment in the repository."""
    moved: list[str] = []
    if plan.revision is not None and plan.revision != revision.label:
        moved.append(f"git revision: the plan is for {plan.revision}, the repository is at {revision.label}")
    for change in plan.changes:
        name = change.environment
        current = source_digests.get(name)
        if change.operation is Op.DELETE:
            if current is not None:
                moved.append(f"{name}: its document is back in the repository")
        elif current != change.source_digest:
            moved.append(f"{name}: its document, customer or artifacts changed since the plan")
        serial = recorded[name].serial if name in recorded else 0
        if serial != change.state_serial:
            moved.append(f"{name}: its recorded state moved (serial {change.state_serial} -> {serial}): "
                         "another apply ran since the plan")
    if moved:
        raise StalePlanError("the saved plan is stale; plan again:\n  - " + "\n  - ".join(moved), moved)
