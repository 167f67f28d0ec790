"""The resource graph of one stack: what a Pulumi program declared, as plain frozen values.

Produced by synthesis (the real program under Pulumi's mock runtime) and recorded in the state
after an apply; the plan's resource diff compares two of them. Inputs are normalised JSON data:
integral floats become ints (the Pulumi wire format has only floats), assets become
``{"asset": "file", "path": ..., "sha256": ...}``, secrets ``{"secret": <sha256 of the value>}``
so that no secret is ever stored or printed in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable


@dataclass(frozen=True, slots=True)
class Resource:
    urn: str
    type: str  # Pulumi type token, e.g. aws:ec2/instance:Instance
    name: str  # logical name
    inputs: dict[str, Any]
    parent: str | None = None
    provider: str | None = None
    custom: bool = True
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    depends_on: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"urn": self.urn, "type": self.type, "name": self.name, "inputs": self.inputs}
        for key in ("parent", "provider", "id"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        for key in ("protect", "retain_on_delete", "delete_before_replace"):
            if getattr(self, key):
                data[key] = True
        if not self.custom:
            data["custom"] = False
        for key in ("depends_on", "replace_on_changes", "ignore_changes"):
            if getattr(self, key):
                data[key] = list(getattr(self, key))
        if self.outputs:
            data["outputs"] = self.outputs
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Resource":
        return cls(
            urn=data["urn"], type=data["type"], name=data["name"], inputs=data.get("inputs", {}),
            parent=data.get("parent"), provider=data.get("provider"), custom=data.get("custom", True),
            protect=data.get("protect", False), retain_on_delete=data.get("retain_on_delete", False),
            delete_before_replace=data.get("delete_before_replace", False),
            depends_on=tuple(data.get("depends_on", ())), replace_on_changes=tuple(data.get("replace_on_changes", ())),
            ignore_changes=tuple(data.get("ignore_changes", ())), id=data.get("id"), outputs=data.get("outputs", {}),
        )


@dataclass(frozen=True, slots=True)
class ResourceGraph:
    project: str
    stack: str
    resources: tuple[Resource, ...]
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, type_token: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Resource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(f"no resource named {name!r} in stack {self.stack}")

    def to_data(self) -> dict[str, Any]:
        return {"project": self.project, "stack": self.stack,
                "resources": [r.to_data() for r in self.resources], "outputs": self.outputs}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "ResourceGraph":
        return cls(data["project"], data["stack"], tuple(Resource.from_data(r) for r in data.get("resources", ())),
                   data.get("outputs", {}))

    @classmethod
    def empty(cls, project: str = "", stack: str = "") -> "ResourceGraph":
        return cls(project, stack, ())

    def with_resources(self, resources: Iterable[Resource]) -> "ResourceGraph":
        return ResourceGraph(self.project, self.stack, tuple(resources), self.outputs)
