"""A stack's exported deployment (``pulumi stack export``) -> the reconciler's ``ResourceGraph`` (pure).

The graph must compare equal, resource by resource, with the one the plan synthesised under the
mock runtime (``reconciler.synth.mock_runtime``): apply's verify step checks every planned input
against it. So the same conventions are applied to the recorded state:

- URNs without ``pulumi:pulumi:Stack$``; the logical name is the URN's last part;
- inputs and outputs normalised by ``mock_runtime.normalize`` (integral floats to ints, assets to
  ``{"asset", "path"}`` relative to the repository, secrets to ``{"secret": "sha256:..."}``:
  ``stack export --show-secrets`` gives ``plaintext``, which is decoded first so that the digest
  is the one the mock runtime computes from the same value, and never stored in clear);
- ``outputs`` are what the provider returned beyond the inputs (Pulumi's ``__meta`` and other
  ``__`` keys dropped);
- a resource's ``provider`` is the *name* of its explicit provider; references to default
  providers become None, as in a synthesised graph.

Left out: the root stack resource (its outputs become the graph's outputs), Pulumi's default
providers, and resources that no longer exist or not yet: ``delete: true`` (the old half of an
interrupted replacement, to be deleted) and ``pendingReplacement`` (deleted by a
delete-before-replace that did not finish). The engine adds ``version``, ``__internal`` and
(older CLIs) ``pluginDownloadURL`` to a provider's inputs; they are not the program's, so they
leave the inputs (the plugin version stays among the provider's outputs).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from reconciler.engines.pulumi_events import (PROVIDER_PREFIX, STACK_TYPE, is_default_provider, simple_urn, urn_name,
                                              urn_type)
from reconciler.model.graph import Resource, ResourceGraph
from reconciler.synth.mock_runtime import normalize

# Pulumi's wire-format signature key and the value that marks a secret (sdk/go/common/resource/sig).
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
PROVIDER_ENGINE_KEYS = frozenset({"version", "__internal", "pluginDownloadURL"})


def graph_from_deployment(deployment: Mapping[str, Any] | None, project: str, stack: str,
                          root: str = "") -> ResourceGraph:
    """``deployment``: the ``deployment`` member of ``Stack.export_stack()`` (None for a stack
    that never ran). ``root``: the repository, to which asset paths are made relative."""
    resources: list[Resource] = []
    outputs: Any = {}
    for raw in (deployment or {}).get("resources") or ():
        if raw.get("type") == STACK_TYPE:
            outputs = normalize(decode_secrets(raw.get("outputs") or {}), root)
        elif not _left_out(raw):
            resources.append(resource_from_state(raw, root))
    return ResourceGraph(project, stack, tuple(sorted(resources, key=lambda r: r.urn)), outputs)


def _left_out(raw: Mapping[str, Any]) -> bool:
    return bool(raw.get("delete") or raw.get("pendingReplacement")
                or is_default_provider(raw.get("type", ""), raw.get("urn", "")))


def resource_from_state(raw: Mapping[str, Any], root: str = "") -> Resource:
    urn = simple_urn(raw["urn"])
    inputs = dict(raw.get("inputs") or {})
    if raw["type"].startswith(PROVIDER_PREFIX):
        inputs = {k: v for k, v in inputs.items() if k not in PROVIDER_ENGINE_KEYS}
    outputs = {k: v for k, v in (raw.get("outputs") or {}).items() if k not in inputs and not k.startswith("__")}
    return Resource(
        urn=urn, type=raw["type"], name=urn_name(urn), inputs=normalize(decode_secrets(inputs), root),
        parent=_parent(raw.get("parent")), provider=provider_name(raw.get("provider")),
        custom=bool(raw.get("custom", True)), protect=bool(raw.get("protect")),
        retain_on_delete=bool(raw.get("retainOnDelete")), delete_before_replace=bool(raw.get("deleteBeforeReplace")),
        depends_on=tuple(sorted(simple_urn(u) for u in raw.get("dependencies") or ())),
        replace_on_changes=tuple(raw.get("replaceOnChanges") or ()),
        ignore_changes=tuple(raw.get("ignoreChanges") or ()),
        id=raw.get("id") or None, outputs=normalize(decode_secrets(outputs), root),
    )


def _parent(urn: str | None) -> str | None:
    """Children of the root stack have no parent in a synthesised graph."""
    if not urn or f"::{STACK_TYPE}::" in urn:
        return None
    return simple_urn(urn)


def provider_name(reference: str | None) -> str | None:
    """``urn:pulumi:<stack>::<project>::pulumi:providers:aws::aws::<id>`` -> ``aws``; default
    providers -> None."""
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]  # the part after the last "::" is the provider's id
    if is_default_provider(urn_type(urn), urn):
        return None
    return urn_name(urn)


def decode_secrets(value: Any) -> Any:
    """Exported secrets (``{sig: SECRET_SIG, plaintext: "<JSON>"}``) to the wire form the mock
    runtime records (``{sig: SECRET_SIG, value: <value>}``), so ``normalize`` digests them alike.
    Without plaintext (an export without --show-secrets) the ciphertext stands in for the value."""
    if isinstance(value, list):
        return [decode_secrets(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get(SIG) == SECRET_SIG:
        if "plaintext" in value:
            return {SIG: SECRET_SIG, "value": decode_secrets(json.loads(value["plaintext"]))}
        return {SIG: SECRET_SIG, "value": {"ciphertext": value.get("ciphertext")}}
    return {k: decode_secrets(v) for k, v in value.items()}
