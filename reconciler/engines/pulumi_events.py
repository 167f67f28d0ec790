"""Pulumi engine events -> the reconciler's ``EngineEvent`` steps and preview changes (pure).

The Automation API hands over ``pulumi.automation.EngineEvent`` values (parsed by the SDK from the
JSON the CLI streams: ``resourcePreEvent``, ``resOutputsEvent``, ``resOpFailedEvent``,
``diagnosticEvent``, ``summaryEvent``...). They become reconciler events as follows:

- one *step* per resource operation that changes the cloud: ``create``, ``update``, ``delete``,
  ``replace``. Pulumi runs a replacement as up to three engine steps on the same URN
  (``create-replacement``, ``replace``, ``delete-replaced``, in either order, the deletion usually
  at the end of the whole update); they are folded into one ``replace`` step that starts with the
  first part and finishes with the last. ``import`` counts as a ``create`` (the resource joins the
  stack);
- operations that change nothing produce no step: ``same``, ``read``/``read-replacement`` (data
  read from resources Pulumi does not manage), ``refresh``, ``discard``/``discard-replaced``
  (forgetting such resources), ``remove-pending-replace`` (state bookkeeping);
- the root stack resource and Pulumi's *default* providers are the engine's internals: the
  graphs the reconciler plans never hold them, so they produce no step either. Explicit providers
  (``pulumi:providers:aws::aws``) are real resources of the programs and do;
- diagnostics become ``diagnostic`` events (debug and ephemeral progress messages dropped); the
  last error diagnostic of a resource is the message of its ``resource-failed`` event, since
  Pulumi reports the cause just before the failure event.

URNs are reported as the mock runtime records them (``pulumi:pulumi:Stack$`` dropped from the
qualified type), so a step of the real engine and a step of the plan name the same resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from reconciler.engines.base import EngineEvent
from reconciler.model.plan import Op, ResourceChange

if TYPE_CHECKING:
    from pulumi import automation as auto

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_PREFIX = "pulumi:providers:"
STEP_OPS = {"create": "create", "update": "update", "delete": "delete", "import": "create"}
REPLACE_PARTS = frozenset({"replace", "create-replacement", "delete-replaced", "import-replacement"})
_CREATE_PARTS = frozenset({"create-replacement", "import-replacement"})
_SEVERITIES = {"error": "error", "warning": "warning", "info": "info", "info#err": "info"}
_COLOR_TAG = re.compile(r"<\{%[^%]*%\}>")  # Pulumi's colour directives, e.g. <{%reset%}>
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ORDER = {Op.CREATE: 0, Op.REPLACE: 1, Op.UPDATE: 2, Op.DELETE: 3}  # as reconciler.planning.resources


# ---------------------------------------------------------------------------------------------
# URNs

def simple_urn(urn: str) -> str:
    """The URN as the reconciler's graphs hold it (see ``reconciler.synth.mock_runtime``)."""
    return urn.replace(f"{STACK_TYPE}$", "")


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def is_default_provider(type_token: str, urn: str) -> bool:
    """Providers the engine creates on its own (``default``, ``default_7_51_1``...)."""
    name = urn_name(urn)
    return type_token.startswith(PROVIDER_PREFIX) and (name == "default" or name.startswith("default_"))


def is_internal(type_token: str, urn: str) -> bool:
    return type_token == STACK_TYPE or is_default_provider(type_token, urn)


def clean_message(message: str) -> str:
    return _ANSI.sub("", _COLOR_TAG.sub("", message or "")).strip()


def _op(metadata: Any) -> str:
    op = getattr(metadata, "op", "")
    return str(getattr(op, "value", op))


def step_op(pulumi_op: str) -> str | None:
    """The reconciler step of a Pulumi operation; None when nothing in the cloud changes."""
    if pulumi_op in REPLACE_PARTS:
        return "replace"
    return STEP_OPS.get(pulumi_op)


def _visible(keys: Iterable[str] | None) -> tuple[str, ...]:
    """Property keys as the plan shows them: Pulumi's own (``__provider``, ``__meta``) left out."""
    return tuple(sorted({k for k in keys or () if not k.startswith("__")}))


# ---------------------------------------------------------------------------------------------
# Engine events of an up or destroy -> steps

@dataclass
class _Open:
    op: str
    type: str
    parts_done: set[str] = field(default_factory=set)

    def replaced(self) -> bool:
        """All parts of a replacement finished: the new resource, the swap, the old one's deletion."""
        return {"replace", "delete-replaced"} <= self.parts_done and bool(self.parts_done & _CREATE_PARTS)


class EventTranslator:
    """Translates the event stream of one operation. Stateful only to fold replacements and to
    remember each resource's last error; feed it events in the order Pulumi sends them."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}
        self._errors: dict[str, str] = {}

    def translate(self, event: "auto.EngineEvent") -> list[EngineEvent]:
        if event.diagnostic_event is not None:
            return self._diagnostic(event.diagnostic_event)
        if event.resource_pre_event is not None:
            return self._pre(event.resource_pre_event.metadata)
        if event.res_outputs_event is not None:
            return self._done(event.res_outputs_event.metadata)
        if event.res_op_failed_event is not None:
            return self._failed(event.res_op_failed_event.metadata, event.res_op_failed_event.status)
        return []

    def finish(self) -> list[EngineEvent]:
        """After the operation *succeeded*: steps Pulumi reports no outputs for (deleting a
        component resource, the part of a replacement it skipped) are done as well."""
        done = [self._event("resource-done", urn, step.op, step.type) for urn, step in self._open.items()]
        self._open.clear()
        return done

    def error_messages(self) -> list[str]:
        """The error diagnostics seen, for the message of an operation that failed as a whole."""
        return list(self._errors.values())

    # -- one kind of event each ------------------------------------------------------------------
    def _diagnostic(self, diag: Any) -> list[EngineEvent]:
        severity = _SEVERITIES.get(diag.severity)
        message = clean_message(diag.message)
        if severity is None or diag.ephemeral or not message:
            return []
        urn = simple_urn(diag.urn) if diag.urn else None
        if severity == "error":
            self._errors[urn or ""] = message
        return [EngineEvent("diagnostic", urn=urn, type=urn_type(urn) if urn else None,
                            name=urn_name(urn) if urn else None, message=message, severity=severity)]

    def _pre(self, metadata: Any) -> list[EngineEvent]:
        op, urn = step_op(_op(metadata)), simple_urn(metadata.urn)
        if op is None or is_internal(metadata.type, urn) or urn in self._open:
            return []  # a later part of a replacement already announced
        self._open[urn] = _Open(op, metadata.type)
        keys = (("diffs", _visible(metadata.diffs)), ("replace_keys", _visible(metadata.keys)))
        detail = {name: list(values) for name, values in keys if values}
        return [self._event("resource-pre", urn, op, metadata.type, detail=detail)]

    def _done(self, metadata: Any) -> list[EngineEvent]:
        urn, part = simple_urn(metadata.urn), _op(metadata)
        step = self._open.get(urn)
        if step is None:
            return []  # outputs of an unchanged resource, or of the root stack
        if part in REPLACE_PARTS:
            step.parts_done.add(part)
            if not step.replaced():
                return []
        del self._open[urn]
        return [self._event("resource-done", urn, step.op, step.type)]

    def _failed(self, metadata: Any, status: int) -> list[EngineEvent]:
        urn = simple_urn(metadata.urn)
        op = step_op(_op(metadata))
        if op is None or is_internal(metadata.type, urn):
            return []
        self._open.pop(urn, None)
        message = self._errors.get(urn) or f"{_op(metadata)} of {urn_name(urn)} failed"
        return [self._event("resource-failed", urn, op, metadata.type, message=message, severity="error",
                            detail={"status": status})]

    @staticmethod
    def _event(kind: str, urn: str, op: str, type_token: str, **extra: Any) -> EngineEvent:
        return EngineEvent(kind, op=op, urn=urn, type=type_token, name=urn_name(urn), **extra)


# ---------------------------------------------------------------------------------------------
# Engine events of a preview -> resource changes

class PreviewCollector:
    """The resource changes of a preview, from its ``resourcePreEvent``s (the preview result only
    carries counts). Diagnostics are passed on, so warnings of a preview are not lost."""

    def __init__(self) -> None:
        self._changes: dict[str, ResourceChange] = {}
        self._diagnostics = EventTranslator()
        self.resource_events = 0

    def translate(self, event: "auto.EngineEvent") -> list[EngineEvent]:
        if event.resource_pre_event is not None:
            self.resource_events += 1
            self._add(event.resource_pre_event.metadata)
            return []
        if event.diagnostic_event is not None:
            return self._diagnostics.translate(event)
        return []

    def error_messages(self) -> list[str]:
        return self._diagnostics.error_messages()

    def changes(self) -> list[ResourceChange]:
        return sorted(self._changes.values(), key=lambda c: (_ORDER[c.op], c.type, c.name))

    def missed_events(self, change_summary: Mapping[Any, int] | None) -> bool:
        """True when the summary counts changes but no resource event arrived: the event stream
        broke, and an empty list of changes would be a lie."""
        changing = sum(n for op, n in (change_summary or {}).items()
                       if step_op(str(getattr(op, "value", op))) is not None)
        return changing > 0 and self.resource_events == 0

    def _add(self, metadata: Any) -> None:
        op, urn = step_op(_op(metadata)), simple_urn(metadata.urn)
        if op is None or is_internal(metadata.type, urn):
            return
        detailed = {k.split(".", 1)[0].split("[", 1)[0] for k in (metadata.detailed_diff or {})}
        new = ResourceChange(urn, metadata.type, urn_name(urn), Op(op), _visible(metadata.diffs or detailed),
                             _visible(metadata.keys) if op == "replace" else ())
        old = self._changes.get(urn)
        self._changes[urn] = new if old is None else _merged(old, new)


def _merged(old: ResourceChange, new: ResourceChange) -> ResourceChange:
    """Two steps on one URN (the parts of a replacement, or a delete and a create of the same
    name) are one replacement."""
    op = old.op if old.op is new.op else Op.REPLACE
    return ResourceChange(old.urn, old.type, old.name, op, _visible(old.changed + new.changed),
                          _visible(old.replace_keys + new.replace_keys))
