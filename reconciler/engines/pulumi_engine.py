"""The ``pulumi`` engine: the engine port on the Pulumi Automation API (``pulumi.automation``).

One job is one stack: stack ``<environment>`` of project ``erp-aws``, ``erp-azure`` or
``erp-intera``, in the backend of ``PulumiSettings`` (by default a ``file://`` backend under
``.reconciler/pulumi``), driven through a ``LocalWorkspace`` in its own work dir. The SDK runs the
``pulumi`` CLI for every operation, so the CLI must be on PATH; without it every operation
raises ``EngineError`` saying how to install it (or to use ``--engine sandbox``).

- ``preview`` and ``up`` run the cloud's program *inline* (``stacks.<cloud>.program.build`` on the
  job's ``StackInput``, in this process; the SDK keeps its runtime state in context variables, so
  jobs may run in parallel threads). Before each, the stack config is made exactly what the
  settings and the spec say (the region: ``aws:region``, ``azure-native:location``) and pinned
  plugins are installed once per engine. Both refresh first when ``pulumi.refresh`` is on (the
  default): the reconcile is level-based, the cloud as it is now decides the changes.
- ``refresh`` and ``destroy`` need no program (the state holds every resource and its provider),
  so they work for a job without a ``StackInput`` (a removal) and with any CLI that has the
  Automation API; for a stack that does not exist they return an empty graph / do nothing. A
  removal's ``preview`` is a destroy preview.
- ``up`` and ``refresh`` return the graph read back from ``stack export``
  (``reconciler.engines.pulumi_state``); progress goes to ``on_event`` as it happens
  (``reconciler.engines.pulumi_events``); every failure is mapped to the reconciler's error tree
  (``reconciler.engines.pulumi_errors``). A stop requested through ``on_event`` (InterruptedRun)
  takes effect when the running Pulumi operation ends: the SDK offers no safe way to interrupt
  the CLI in the middle (``stack.cancel`` may leave the state inconsistent).

``run_action``: see ``ACTION_CARRIERS``.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol

from reconciler.engines.base import EngineEvent, OnEvent, StackJob
from reconciler.engines.pulumi_errors import map_error
from reconciler.engines.pulumi_events import EventTranslator, PreviewCollector
from reconciler.engines.pulumi_settings import (PluginPin, PulumiSettings, config_changes, config_map,
                                                stack_config, workspace_options)
from reconciler.engines.pulumi_state import graph_from_deployment
from reconciler.errors import EngineError, ReconcilerError
from reconciler.model.graph import ResourceGraph
from reconciler.model.plan import ACTION_KINDS, Action, ResourceChange
from stacks import program_for

if TYPE_CHECKING:
    from pulumi import automation as auto

__all__ = ["ACTION_CARRIERS", "ACTION_FACTS", "PulumiEngine", "PulumiSettings", "inline_program", "open_stack"]

DOCUMENT = "deployment document"  # the agent on the instances acts on the document up wrote
RESOURCES = "stack resources"  # up created, changed or deleted the resources that are the action
DESTROY = "stack destroy"
# What carries each domain action with this engine; run_action only reports it, because by the
# time an action step runs (after the resource phase) up has already done the work.
ACTION_CARRIERS: dict[str, str] = {
    "create-topology": RESOURCES, "clone-topology": RESOURCES,  # the database restored at creation (AWS)
    "power-on": RESOURCES, "power-off": RESOURCES, "resize": RESOURCES,
    "version-upgrade": DOCUMENT, "update-components": DOCUMENT,
    "environment-create": DOCUMENT, "environment-rename": DOCUMENT, "environment-update": DOCUMENT,
    "environment-delete": DOCUMENT, "exclusive-access-on": DOCUMENT, "exclusive-access-off": DOCUMENT,
    "patch-apply": DOCUMENT, "rpo-promote": DOCUMENT,  # patch files are uploaded as artifact resources
    "widget-apply": DOCUMENT, "widget-remove": DOCUMENT, "fluig-config": DOCUMENT, "users-change": DOCUMENT,
    "ini-change": DOCUMENT, "service-port": DOCUMENT, "service-start": DOCUMENT, "service-stop": DOCUMENT,
    "sftp-enable": DOCUMENT, "sftp-disable": DOCUMENT,
    "domain-change": RESOURCES, "schedule-set": RESOURCES, "schedule-change": RESOURCES,
    "schedule-remove": RESOURCES, "cost-alert-set": RESOURCES, "cost-alert-change": RESOURCES,
    "cost-alert-remove": RESOURCES, "backup-policy": RESOURCES, "backup-create": RESOURCES,
    "backup-before-change": RESOURCES, "backup-delete": RESOURCES, "settings-change": RESOURCES,
    "remediate-drift": RESOURCES,  # up re-applies the recorded spec: the drifted resources are put back
    "remove-topology": DESTROY,
}
# Facts reported with the carrier where this engine does not do what the action's place in the
# plan promises. ``backup-before-change`` runs before the resource phase, but its backup is a
# resource of the stack (a ManualBackup on Intera, the manual-backups list the agent acts on for
# AWS and Azure): up takes it together with the other changes, not before them.
ACTION_FACTS: dict[str, dict[str, str]] = {
    "backup-before-change": {"taken": "during up, together with the other changes"},
}
# ``backup-before-remove`` has no carrier: the stacks remove an environment's backups with it (a
# QA/DEV vault is force-destroyed on AWS; Intera deletes a topology's data), so no backup taken
# through them would outlive the removal. The engine refuses it, before any resource is deleted.
NOT_CARRIED = {"backup-before-remove"}


class StackOpener(Protocol):
    def __call__(self, stack_name: str, project: str, opts: "auto.LocalWorkspaceOptions",
                 create: bool) -> "auto.Stack | None": ...


def open_stack(stack_name: str, project: str, opts: "auto.LocalWorkspaceOptions", create: bool) -> "auto.Stack | None":
    """The Automation API's stack: inline when ``opts`` carries a program; else the work dir's
    project. With ``create`` false, None for a stack that does not exist."""
    from pulumi import automation as auto

    if opts.program is not None:
        return auto.create_or_select_stack(stack_name=stack_name, project_name=project, program=opts.program,
                                           opts=opts)
    if create:
        return auto.create_or_select_stack(stack_name=stack_name, work_dir=opts.work_dir, opts=opts)
    try:
        return auto.select_stack(stack_name=stack_name, work_dir=opts.work_dir, opts=opts)
    except auto.StackNotFoundError:
        return None


def inline_program(cloud: str, stack_input: Any) -> Callable[[], None]:
    """The program the SDK runs for a job. The module is imported now, so that an unknown cloud or
    a broken program module fails before the CLI starts."""
    module = program_for(cloud)

    def program() -> None:
        module.build(stack_input)

    program.__name__ = f"{module.PROJECT}-program"
    return program


class _Relay:
    """The SDK's ``on_event`` callback: Pulumi events -> reconciler events -> the caller's
    ``on_event``. It runs on the SDK's event thread, where an exception would be lost: the first
    one (a failing callback, an InterruptedRun) is kept and raised by ``finish`` once the
    operation is over."""

    def __init__(self, translator: EventTranslator | PreviewCollector, on_event: OnEvent):
        self.translator, self.on_event = translator, on_event
        self.error: BaseException | None = None
        self._lock = threading.Lock()

    def __call__(self, event: "auto.EngineEvent") -> None:
        with self._lock:
            try:
                for out in self.translator.translate(event):
                    self._send(out)
            except Exception as exc:  # noqa: BLE001 - kept and raised again by finish()
                self.error = self.error or EngineError(f"could not translate a Pulumi engine event: {exc}")

    def _send(self, event: EngineEvent) -> None:
        try:
            self.on_event(event)
        except BaseException as exc:  # noqa: BLE001 - kept and raised again by finish()
            self.error = self.error or exc

    def error_messages(self) -> list[str]:
        return self.translator.error_messages()

    def finish(self) -> None:
        """After a successful operation: the steps still open are done; then the kept error."""
        if isinstance(self.translator, EventTranslator):
            for out in self.translator.finish():
                self._send(out)
        if self.error is not None:
            raise self.error


@contextmanager
def _mapped(operation: str, job: StackJob, relay: _Relay | None = None) -> Iterator[None]:
    try:
        yield
    except ReconcilerError:
        raise
    except Exception as exc:  # every failure of the SDK or the CLI becomes a reconciler error
        raise map_error(exc, operation, job.environment, relay.error_messages() if relay else ()) from exc


class PulumiEngine:
    name = "pulumi"

    def __init__(self, settings: PulumiSettings, *, opener: StackOpener = open_stack):
        self.settings = settings
        self._open = opener
        self._installed: set[PluginPin] = set()
        self._install_lock = threading.Lock()

    # -- the port ----------------------------------------------------------------------------
    def preview(self, job: StackJob, on_event: OnEvent) -> list[ResourceChange]:
        collector = PreviewCollector()
        relay = _Relay(collector, on_event)
        with _mapped("preview", job, relay):
            if job.stack_input is None:
                result = self._preview_removal(job, relay)
            else:
                result = self._ready(job).preview(on_event=relay, refresh=self.settings.refresh,
                                                  **self._options(job))
        relay.finish()
        if result is not None and collector.missed_events(result.change_summary):
            raise EngineError(f"the preview of {job.environment} counted changes {dict(result.change_summary)} "
                              "but its event stream carried none; run it again")
        return collector.changes()

    def up(self, job: StackJob, on_event: OnEvent) -> ResourceGraph:
        relay = _Relay(EventTranslator(), on_event)
        with _mapped("up", job, relay):
            stack = self._ready(job)
            stack.up(on_event=relay, refresh=self.settings.refresh, **self._options(job))
            graph = self._graph(stack, job)
        relay.finish()
        return graph

    def destroy(self, job: StackJob, on_event: OnEvent) -> None:
        relay = _Relay(EventTranslator(), on_event)
        with _mapped("destroy", job, relay):
            stack = self._existing(job)
            if stack is None:
                return
            stack.destroy(on_event=relay, refresh=self.settings.refresh, **self._options(job))
        relay.finish()

    def refresh(self, job: StackJob) -> ResourceGraph:
        """What exists now. Pulumi records it in the stack's state (that is what a refresh is);
        nothing in the cloud changes."""
        with _mapped("refresh", job):
            stack = self._existing(job)
            if stack is None:
                return ResourceGraph.empty(job.project, job.environment)
            stack.refresh(**self._options(job))
            return self._graph(stack, job)

    def run_action(self, job: StackJob, action: Action) -> dict[str, Any]:
        if action.kind in NOT_CARRIED:
            raise EngineError(
                f"{job.environment}: the pulumi engine cannot take a backup that outlives the topology (the stack "
                "removes the environment's backups with it), so the removal stops here and nothing was deleted. "
                "Take the backup in the portal and remove the topology there")
        carrier = ACTION_CARRIERS.get(action.kind)
        if carrier is None:
            known = "known" if action.kind in ACTION_KINDS else "unknown"
            raise EngineError(f"{job.environment}: the pulumi engine has no carrier for the {known} action "
                              f"{action.kind!r}")
        return {"carried_by": carrier, **ACTION_FACTS.get(action.kind, {})}

    # -- stacks ----------------------------------------------------------------------------------
    def _ready(self, job: StackJob) -> "auto.Stack":
        """The job's stack with its inline program, its config and its plugins in place."""
        if job.stack_input is None:
            raise EngineError(f"{job.environment}: the job carries no stack input; only destroy and refresh "
                              "can run without the environment's spec")
        opts = workspace_options(self.settings, job.project, job.environment,
                                 inline_program(job.cloud, job.stack_input))
        Path(opts.work_dir).mkdir(parents=True, exist_ok=True)
        stack = self._open(job.environment, job.project, opts, True)
        self._configure(stack, job)
        self._install_plugins(stack, job.cloud)
        return stack

    def _existing(self, job: StackJob) -> "auto.Stack | None":
        opts = workspace_options(self.settings, job.project, job.environment, None)
        Path(opts.work_dir).mkdir(parents=True, exist_ok=True)
        return self._open(job.environment, job.project, opts, False)

    def _preview_removal(self, job: StackJob, relay: _Relay) -> "auto.PreviewResult | None":
        stack = self._existing(job)
        if stack is None:
            return None
        return stack.preview_destroy(on_event=relay, refresh=self.settings.refresh, **self._options(job))

    def _configure(self, stack: "auto.Stack", job: StackJob) -> None:
        desired = stack_config(self.settings, job.cloud, job.stack_input.environment.region)
        to_set, to_remove = config_changes(stack.get_all_config(), desired)
        if to_remove:
            stack.remove_all_config(to_remove)
        if to_set:
            stack.set_all_config(config_map(to_set))

    def _install_plugins(self, stack: "auto.Stack", cloud: str) -> None:
        # Serialised: two jobs must not download the same plugin into PULUMI_HOME at once.
        with self._install_lock:
            for pin in self.settings.plugins_for(cloud):
                if pin in self._installed:
                    continue
                if pin.server:
                    stack.workspace.install_plugin_from_server(pin.name, pin.version, pin.server)
                else:
                    stack.workspace.install_plugin(pin.name, pin.version)
                self._installed.add(pin)

    def _graph(self, stack: "auto.Stack", job: StackJob) -> ResourceGraph:
        root = job.stack_input.repo_root if job.stack_input is not None else str(self.settings.repo_root)
        return graph_from_deployment(stack.export_stack().deployment, job.project, job.environment, root)

    def _options(self, job: StackJob) -> dict[str, Any]:
        """What every operation is run with: no colours (the error mapping reads the output), the
        configured parallelism, and a message for the stack's update history."""
        message = f"erp-gitops-reconciler: {job.environment}" + (f" at {job.revision}" if job.revision else "")
        return {"color": "never", "parallel": self.settings.parallel, "message": message}
