"""Drift (pure): what exists in the cloud against what the last apply recorded.

A resource missing, one nobody declared, or an input that moved is drift, with one exception:
when a topology's power is ``scheduled``, its power state moves twice a day by design, so a
different power state is not drift (the schedules own it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.model.graph import Resource, ResourceGraph

# Where each cloud's stack keeps the desired power state: type token -> (input key, how it is written)
_POWER_STATE: dict[str, tuple[str, str]] = {
    "aws:ec2transitgateway/instanceState:InstanceState": ("state", "plain"),
    "pulumi-python:dynamic/intera:PowerState": ("state", "plain"),
    "azure-native:automation:Variable": ("value", "json"),  # only the DesiredPowerState variable
}


def power_state_keys(resource: Resource) -> list[str]:
    entry = _POWER_STATE.get(resource.type)
    if entry is None:
        return []
    if resource.type.startswith("azure-native:automation:") and resource.inputs.get("name") != "DesiredPowerState":
        return []
    return [entry[0]]


def power_value(resource: Resource, state: str) -> Any:
    entry = _POWER_STATE[resource.type]
    return json.dumps(state) if entry[1] == "json" else state


@dataclass(frozen=True)
class DriftItem:
    urn: str
    type: str
    name: str
    kind: str  # missing | unexpected | changed
    keys: tuple[str, ...] = ()
    recorded: dict[str, Any] | None = None
    actual: dict[str, Any] | None = None

    def describe(self) -> str:
        if self.kind == "missing":
            return f"{self.type} {self.name} was deleted outside the reconciler"
        if self.kind == "unexpected":
            return f"{self.type} {self.name} exists but no spec declares it"
        moves = ", ".join(f"{k}: {_short(self.recorded.get(k))} -> {_short(self.actual.get(k))}" for k in self.keys)
        return f"{self.type} {self.name} changed: {moves}"

    def to_data(self) -> dict[str, Any]:
        return {"urn": self.urn, "type": self.type, "name": self.name, "kind": self.kind, "keys": list(self.keys),
                "description": self.describe()}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def find_drift(recorded: ResourceGraph, actual: ResourceGraph, scheduled: bool) -> list[DriftItem]:
    before, after = recorded.by_urn(), actual.by_urn()
    items: list[DriftItem] = []
    for urn, resource in sorted(before.items()):
        found = after.get(urn)
        if found is None:
            items.append(DriftItem(urn, resource.type, resource.name, "missing"))
            continue
        ignored = set(power_state_keys(resource)) if scheduled else set()
        # only what the program declared: providers add defaults of their own to the real state
        keys = tuple(sorted(k for k in resource.inputs
                            if not k.startswith("__") and k not in ignored
                            and resource.inputs.get(k) != found.inputs.get(k)))
        if keys:
            items.append(DriftItem(urn, resource.type, resource.name, "changed", keys, resource.inputs, found.inputs))
    for urn, resource in sorted(after.items()):
        if urn not in before:
            items.append(DriftItem(urn, resource.type, resource.name, "unexpected"))
    return items
