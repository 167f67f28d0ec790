"""Building ``StackInput`` values from a validated repository."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from reconciler.spec.documents import read_documents
from reconciler.spec.validate import ValidationResult
from stacks.common.inputs import StackInput


def stack_inputs(result: ValidationResult, names: Iterable[str] | None = None,
                 settings: Mapping[str, Mapping[str, Any]] | None = None,
                 revision: str | None = None) -> dict[str, StackInput]:
    """StackInputs of the valid environments of ``result`` (all of them, or those ``names``).

    ``settings`` maps a cloud to its program settings (``.reconciler.yaml``: ``pulumi.settings``).
    """
    wanted = set(names) if names is not None else None
    envs = [d for d in result.environments() if d.schema_ok and (wanted is None or d.name in wanted)]
    customers = {d.name: d for d in result.customers() if d.schema_ok}
    needed = envs + [customers[e.customer] for e in envs if e.customer in customers]
    data = read_documents(result.root, needed)
    inputs: dict[str, StackInput] = {}
    for env in envs:
        customer = customers.get(env.customer)
        artifacts = result.artifacts.digests_for(file for _, file in env.artifacts)
        inputs[env.name] = StackInput.from_documents(
            data[env.file, env.index], data[customer.file, customer.index] if customer else None,
            artifacts=artifacts, repo_root=str(result.root), settings=dict((settings or {}).get(env.cloud, {})),
            revision=revision)
    return inputs
