"""The engine port: what every engine does for one stack (one environment).

- ``preview(job, on_event)``: the resource changes ``up`` would make, without making them;
- ``up(job, on_event)``: make the stack match the job's program; returns the graph as it now is;
- ``destroy(job, on_event)``: remove every resource of the stack;
- ``refresh(job)``: read what really exists (for drift), changing nothing;
- ``run_action(job, action)``: carry out a domain action that is not a resource change (a manual
  backup, exclusive access...), returning facts to record.

Engines report progress as ``EngineEvent`` values through ``on_event`` (one per resource
operation started, finished or failed) and raise only the errors of ``reconciler.errors``:
``TemporaryError``/``EngineBusy`` (retry later), ``PermanentError``/``EngineError`` (stop).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol

from reconciler.model.graph import ResourceGraph
from reconciler.model.plan import Action, ResourceChange

if TYPE_CHECKING:
    from reconciler.config import RepoConfig
    from reconciler.store import Database
    from stacks.common.inputs import StackInput


@dataclass(frozen=True)
class StackJob:
    environment: str
    cloud: str
    project: str
    stack_input: "StackInput | None"  # None when the stack is only destroyed or refreshed
    graph: ResourceGraph  # the graph the plan synthesised (what up must produce)
    revision: str | None = None
    recorded: ResourceGraph | None = None  # the graph recorded by the last apply


@dataclass(frozen=True)
class EngineEvent:
    kind: str  # resource-pre | resource-done | resource-failed | diagnostic
    op: str | None = None  # create | update | replace | delete | same | refresh
    urn: str | None = None
    type: str | None = None
    name: str | None = None
    message: str = ""
    severity: str = "info"
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def step_name(self) -> str:
        return f"{self.op} {self.type} {self.name}"


OnEvent = Callable[[EngineEvent], None]


class Engine(Protocol):
    name: str

    def preview(self, job: StackJob, on_event: OnEvent) -> list[ResourceChange]: ...

    def up(self, job: StackJob, on_event: OnEvent) -> ResourceGraph: ...

    def destroy(self, job: StackJob, on_event: OnEvent) -> None: ...

    def refresh(self, job: StackJob) -> ResourceGraph: ...

    def run_action(self, job: StackJob, action: Action) -> dict[str, Any]: ...


ENGINES = ("sandbox", "pulumi")


def make_engine(name: str, config: "RepoConfig", db: "Database") -> Engine:
    if name == "sandbox":
        from reconciler.engines.sandbox import SandboxEngine

        return SandboxEngine(db, config.sandbox)
    if name == "pulumi":
        from reconciler.engines.pulumi_engine import PulumiEngine, PulumiSettings

        return PulumiEngine(PulumiSettings.from_config(config))
    from reconciler.errors import ConfigError

    raise ConfigError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
