"""One stack program under ``pulumi.runtime.set_mocks``, captured as a ResourceGraph.

The mock monitor of the Pulumi SDK is subclassed only to *record* each registration as the
engine would receive it (type, name, parent, provider, protect, retainOnDelete, dependencies,
and the raw wire form of the inputs); resources are still registered by Pulumi's own code. The
wire form is normalised here (see ``reconciler.model.graph``). Ids are deterministic: derived
from the URN, so a resource keeps its id from one run to the next.

The Pulumi runtime keeps global settings, so runs in one process are serialised by a lock.
"""

from __future__ import annotations

import hashlib
import math
import threading
from typing import Any

from google.protobuf import json_format

from reconciler.model.graph import Resource, ResourceGraph
from reconciler.perf import collector_paused
from stacks import program_for
from stacks.common.inputs import StackInput

# Signature keys of Pulumi's wire format (sdk/go/common/resource/sig).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_LOCK = threading.Lock()


def default_id(urn: str, type_token: str, name: str) -> str:
    """A stable, cloud-looking id: same URN, same id."""
    short = type_token.rsplit(":", 1)[-1].lower()[:12]
    return f"{short}-{hashlib.sha256(urn.encode()).hexdigest()[:17]}"


def normalize(value: Any, root: str = "") -> Any:
    """Wire-format data (as MessageToDict gives it) to plain, comparable JSON data. File asset
    paths under ``root`` (the repository) are made relative, so a graph does not depend on where
    the repository is checked out."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and math.isfinite(value) else value
    if isinstance(value, list):
        return [normalize(v, root) for v in value]
    if isinstance(value, str):
        return None if value == _UNKNOWN else value
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG)
    if sig == _SECRET_SIG:
        secret = normalize(value.get("value"), root)
        return {"secret": "sha256:" + hashlib.sha256(repr(secret).encode()).hexdigest()}
    if sig in (_ASSET_SIG, _ARCHIVE_SIG):
        return _asset(value, root)
    if sig == _RESOURCE_SIG:
        return {"resource": value.get("urn"), "id": normalize(value.get("id"))}
    if sig == _OUTPUT_SIG:
        return normalize(value.get("value"), root) if "value" in value else None
    return {k: normalize(v, root) for k, v in sorted(value.items())}


def _asset(value: dict, root: str) -> dict:
    data: dict[str, Any] = {"asset": "archive" if value.get(_SIG) == _ARCHIVE_SIG else "file"}
    for key in ("path", "uri"):
        if value.get(key):
            data[key] = value[key]
    prefix = root.rstrip("/") + "/"
    if root and data.get("path", "").startswith(prefix):
        data["path"] = data["path"][len(prefix):]
    if "text" in value:
        data["sha256"] = hashlib.sha256(value["text"].encode()).hexdigest()
    return data


def _python_value(value: Any) -> Any:
    """Resolved Python values of stack outputs to plain JSON data."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, (list, tuple)):
        return [_python_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _python_value(v) for k, v in sorted(value.items())}
    return value


def synthesize(inp: StackInput, *, project: str | None = None) -> ResourceGraph:
    """Run the program of ``inp``'s cloud and return every resource it declares. Ids derive from
    URNs, so the same resource keeps its id from one run to the next."""
    module = program_for(inp.environment.cloud)
    with _LOCK, collector_paused():
        return _run(module, inp, project or module.PROJECT)


def _run(module, inp: StackInput, project: str) -> ResourceGraph:
    from pulumi import Output
    from pulumi.runtime import mocks, settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    stack = inp.environment.name
    computed = getattr(module, "computed_outputs", lambda *_: {})
    fake = _Mocks(computed, project, stack)
    monitor = _make_monitor(fake, inp.repo_root)
    settings.ROOT.set(None)  # a fresh root stack resource for every run
    mocks.set_mocks(fake, project=project, stack=stack, preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(lambda: module.build(inp)))
    root = settings.get_root_resource()
    exported = _sync_await(Output.from_input(dict(getattr(root, "outputs", {}) or {})).future()) or {}
    resources = tuple(sorted(monitor.captured, key=lambda r: r.urn))
    return ResourceGraph(project, stack, resources, _python_value(exported))


class _Mocks:
    """Return values of the fake cloud: the inputs, plus what the cloud would compute."""

    def __init__(self, computed, project: str, stack: str):
        self.computed, self.project, self.stack = computed, project, stack

    def urn(self, type_token: str, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{type_token}::{name}"

    def new_resource(self, args) -> tuple[str, dict]:
        resource_id = args.resource_id or default_id(self.urn(args.typ, args.name), args.typ, args.name)
        state = dict(args.inputs)
        state.update(self.computed(args.typ, args.name, args.inputs, resource_id) or {})
        return resource_id, state

    def call(self, args) -> dict:
        return {}

    def register_transform(self, transform) -> None:  # the mock runtime runs no transforms
        pass

    def register_invoke_transform(self, transform) -> None:
        pass


def _make_monitor(fake: _Mocks, root: str):
    from pulumi.runtime import mocks

    class CaptureMonitor(mocks.MockMonitor):
        def __init__(self, inner):
            super().__init__(inner)
            self.captured: list[Resource] = []

        def RegisterResource(self, request):  # noqa: N802 - the gRPC method's name
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                self.captured.append(_resource(request, response, self.resources.get(response.urn), root))
            return response

    return CaptureMonitor(fake)


def _resource(request, response, registration, root: str) -> Resource:
    inputs = normalize(json_format.MessageToDict(request.object, preserving_proto_field_name=True), root)
    outputs = {}
    if registration is not None:
        outputs = _python_value({k: v for k, v in registration.state.items() if k not in inputs})
    return Resource(
        urn=_simple_urn(response.urn), type=request.type, name=request.name, inputs=inputs,
        parent=_simple_urn(request.parent) if request.parent and "pulumi:pulumi:Stack::" not in request.parent
        else None,
        provider=request.provider.split("::")[-2] if request.provider else None,
        custom=bool(request.custom), protect=bool(getattr(request, "protect", False)),
        retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
        delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
        depends_on=tuple(sorted(_simple_urn(u) for u in request.dependencies)),
        replace_on_changes=tuple(request.replaceOnChanges), ignore_changes=tuple(request.ignoreChanges),
        id=response.id or None, outputs=outputs,
    )


def _simple_urn(urn: str) -> str:
    """Drop the root stack from a resource's qualified type: the same resource, whatever the
    stack resource is called, gets the same URN."""
    return urn.replace("pulumi:pulumi:Stack$", "")
