"""The plan: a frozen, serialisable value that apply executes as is.

Per environment an ``EnvironmentChange``: the operation (create, update, delete, no-op), the
domain actions in their safe order (each flagged cost-impacting or not), the resource changes
underneath (Terraform's symbols: ``+`` create, ``~`` update, ``-/+`` replace, ``-`` delete), and
what binds it (spec digest, source digest, artifact digests, the state serial it was planned
against). The whole plan binds the git revision.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT_VERSION = "1"


class Op(str, enum.Enum):
    NOOP = "no-op"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"

    @property
    def symbol(self) -> str:
        return {"no-op": " ", "create": "+", "update": "~", "replace": "-/+", "delete": "-"}[self.value]


@dataclass(frozen=True, slots=True)
class ActionKind:
    name: str
    title: str
    cost_impact: bool
    rank: int  # position in the safe order within one environment


# Every domain action, in the order they run within one environment.
ACTION_KINDS: dict[str, ActionKind] = {k.name: k for k in (
    ActionKind("backup-before-remove", "back up before removal", True, 5),
    ActionKind("backup-before-change", "take manual backup before the changes", True, 6),
    ActionKind("create-topology", "create topology", True, 10),
    ActionKind("clone-topology", "clone topology", True, 10),
    ActionKind("remediate-drift", "remediate drift", False, 15),
    ActionKind("power-on", "turn on", True, 20),
    ActionKind("resize", "change instances or size", True, 30),
    ActionKind("version-upgrade", "upgrade product version", False, 32),
    ActionKind("update-components", "update Protheus components", False, 34),
    ActionKind("environment-create", "create Protheus environment", False, 40),
    ActionKind("environment-rename", "rename Protheus environment", False, 41),
    ActionKind("environment-update", "change Protheus environment", False, 42),
    ActionKind("environment-delete", "delete Protheus environment", False, 43),
    ActionKind("exclusive-access-on", "exclusive access on", False, 50),
    ActionKind("patch-apply", "apply patch", False, 55),
    ActionKind("rpo-promote", "promote RPO", False, 58),
    ActionKind("exclusive-access-off", "exclusive access off", False, 60),
    ActionKind("widget-apply", "apply widget", False, 62),
    ActionKind("widget-remove", "remove widget", False, 62),
    ActionKind("fluig-config", "change Fluig configuration", False, 63),
    ActionKind("users-change", "change named users", True, 63),
    ActionKind("ini-change", "change INI parameters", False, 64),
    ActionKind("service-port", "change service port", False, 64),
    ActionKind("service-start", "start service", False, 65),
    ActionKind("service-stop", "stop service", False, 65),
    ActionKind("sftp-enable", "enable SFTP", False, 66),
    ActionKind("sftp-disable", "disable SFTP", False, 66),
    ActionKind("domain-change", "change access domain", False, 70),
    ActionKind("schedule-set", "set working-hours schedule", True, 75),
    ActionKind("schedule-change", "change working-hours schedule", True, 75),
    ActionKind("schedule-remove", "remove working-hours schedule", True, 75),
    ActionKind("cost-alert-set", "set cost alert", False, 76),
    ActionKind("cost-alert-change", "change cost alert", False, 76),
    ActionKind("cost-alert-remove", "remove cost alert", False, 76),
    ActionKind("backup-policy", "change backup retention", True, 80),
    ActionKind("backup-create", "take manual backup", True, 81),
    ActionKind("backup-delete", "delete manual backup", True, 82),
    ActionKind("settings-change", "change labels or policies", False, 90),
    ActionKind("power-off", "turn off", True, 95),
    ActionKind("remove-topology", "remove topology", True, 99),
)}


@dataclass(frozen=True, slots=True)
class Action:
    kind: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def cost_impact(self) -> bool:
        return ACTION_KINDS[self.kind].cost_impact

    @property
    def rank(self) -> int:
        return ACTION_KINDS[self.kind].rank

    def to_data(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "cost_impact": self.cost_impact, "details": self.details}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Action":
        return cls(data["kind"], data["summary"], data.get("details", {}))


@dataclass(frozen=True, slots=True)
class ResourceChange:
    urn: str
    type: str
    name: str
    op: Op
    changed: tuple[str, ...] = ()  # input keys that differ (update, replace)
    replace_keys: tuple[str, ...] = ()  # the keys that force the replacement

    def to_data(self) -> dict[str, Any]:
        data = {"urn": self.urn, "type": self.type, "name": self.name, "op": self.op.value}
        if self.changed:
            data["changed"] = list(self.changed)
        if self.replace_keys:
            data["replace_keys"] = list(self.replace_keys)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "ResourceChange":
        return cls(data["urn"], data["type"], data["name"], Op(data["op"]), tuple(data.get("changed", ())),
                   tuple(data.get("replace_keys", ())))


@dataclass(frozen=True)
class EnvironmentChange:
    environment: str
    cloud: str
    project: str
    operation: Op  # create, update, delete (or no-op: only notes)
    actions: tuple[Action, ...] = ()
    resources: tuple[ResourceChange, ...] = ()
    after: tuple[str, ...] = ()  # environments whose changes must be applied first (RPO promotion)
    notes: tuple[str, ...] = ()
    state_serial: int = 0  # the recorded serial this change was planned against (0: not recorded)
    spec_digest: str | None = None
    source_digest: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)
    desired: dict[str, Any] = field(default_factory=dict)  # {"environment": doc, "customer": doc}
    graph: dict[str, Any] = field(default_factory=dict)  # the synthesised ResourceGraph (data)

    @property
    def cost_impact(self) -> bool:
        return any(a.cost_impact for a in self.actions)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions or any(r.op is not Op.NOOP for r in self.resources))

    def counts(self) -> dict[str, int]:
        add = sum(1 for r in self.resources if r.op in (Op.CREATE, Op.REPLACE))
        change = sum(1 for r in self.resources if r.op is Op.UPDATE)
        destroy = sum(1 for r in self.resources if r.op in (Op.DELETE, Op.REPLACE))
        return {"add": add, "change": change, "destroy": destroy}

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["operation"] = self.operation.value
        data["actions"] = [a.to_data() for a in self.actions]
        data["resources"] = [r.to_data() for r in self.resources]
        data["cost_impact"] = self.cost_impact
        for key in ("after", "notes"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "EnvironmentChange":
        return cls(
            environment=data["environment"], cloud=data["cloud"], project=data["project"],
            operation=Op(data["operation"]), actions=tuple(Action.from_data(a) for a in data.get("actions", ())),
            resources=tuple(ResourceChange.from_data(r) for r in data.get("resources", ())),
            after=tuple(data.get("after", ())), notes=tuple(data.get("notes", ())),
            state_serial=data.get("state_serial", 0), spec_digest=data.get("spec_digest"),
            source_digest=data.get("source_digest"), artifacts=data.get("artifacts", {}),
            derived=data.get("derived", {}), desired=data.get("desired", {}), graph=data.get("graph", {}))


@dataclass(frozen=True)
class Plan:
    revision: str | None
    created_at: str
    changes: tuple[EnvironmentChange, ...]
    refusals: tuple[str, ...] = ()  # protections that refused part of the desired change
    allow_destroy: bool = False
    engine: str = "sandbox"
    root: str = ""
    unchanged: int = 0  # environments compared and found equal

    @property
    def refused(self) -> bool:
        return bool(self.refusals)

    @property
    def has_changes(self) -> bool:
        return any(c.has_changes for c in self.changes)

    def summary(self) -> dict[str, int]:
        totals = {"add": 0, "change": 0, "destroy": 0}
        for change in self.changes:
            for key, value in change.counts().items():
                totals[key] += value
        totals["actions"] = sum(len(c.actions) for c in self.changes)
        totals["environments"] = sum(1 for c in self.changes if c.has_changes)
        return totals

    def to_data(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "revision": self.revision, "created_at": self.created_at,
                "engine": self.engine, "root": self.root, "allow_destroy": self.allow_destroy,
                "summary": self.summary(), "refusals": list(self.refusals), "unchanged": self.unchanged,
                "changes": [c.to_data() for c in self.changes]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "Plan":
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"plan format {version!r} is not supported (this reconciler reads {FORMAT_VERSION!r})")
        return cls(revision=data.get("revision"), created_at=data["created_at"],
                   changes=tuple(EnvironmentChange.from_data(c) for c in data.get("changes", ())),
                   refusals=tuple(data.get("refusals", ())), allow_destroy=data.get("allow_destroy", False),
                   engine=data.get("engine", "sandbox"), root=data.get("root", ""),
                   unchanged=data.get("unchanged", 0))
