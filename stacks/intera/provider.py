"""Pulumi dynamic providers for Intera, and the resources that use them.

Intera has no Pulumi provider package, so each kind of Intera object is a
``pulumi.dynamic.ResourceProvider`` whose CRUD calls ``stacks.intera.api``:

    Topology       POST/GET/PATCH/DELETE /topologies            (PROD is never deleted)
    PowerState     GET/PUT /topologies/{t}/power                (an attribute: delete is a no-op)
    Configuration  GET/PUT /topologies/{t}/configuration        (the deployment document)
    Artifact       POST/GET/DELETE /topologies/{t}/artifacts    (content-addressed by sha256)
    ManualBackup   POST/GET /topologies/{t}/backups             (history: never deleted)

Contract with the engine (``pulumi/dynamic/__main__.py``): ``diff`` gets the old *outputs* and
the new inputs, so every ``create``/``update``/``read`` returns the inputs among its outputs and
``diff`` compares declared inputs only (never ``__provider``, which changes with dill versions).
Numbers arrive as floats from the wire, so integers are coerced before they reach the API.

Providers are pickled by reference (their classes live in this importable module) together with
a ``ClientSettings`` value: no client, socket or token is held, so nothing unpicklable or secret
ends up in the state; the token is read from the environment when an operation runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Mapping

from pulumi import Output, ResourceOptions
from pulumi.dynamic import (CheckFailure, CheckResult, CreateResult, DiffResult, ReadResult, Resource,
                            ResourceProvider, UpdateResult)

from reconciler.model.capabilities import PRODUCTS, TYPES
from stacks.intera import api


def _gone() -> ReadResult:
    """An empty id tells the engine the object no longer exists (a new value each time: the
    engine adds ``__provider`` to the outputs it is given)."""
    return ReadResult("", {})


def _differs(old: Any, new: Any) -> bool:
    """Equality as the wire sees it (1 == 1.0); an unknown new value (preview) always differs."""
    return old != new


def _int(value: Any) -> int:
    return int(value) if value is not None else value


def _present(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class _InteraProvider(ResourceProvider):
    """What every Intera provider shares: settings, a client per operation, pipelines, diff."""

    INPUTS: tuple[str, ...] = ()  # declared inputs, compared by diff
    REPLACES: tuple[str, ...] = ()  # inputs whose change needs a new object
    DELETE_BEFORE_REPLACE = False  # True when the new object would collide with the old one

    def __init__(self, settings: api.ClientSettings):
        super().__init__()
        self.settings = settings

    def _client(self) -> api.InteraClient:
        return self.settings.client()

    def _settle(self, client: api.InteraClient, pipeline: api.Pipeline | None) -> None:
        """Wait for the action's pipeline: a failed pipeline is a failed operation."""
        client.wait_pipeline(pipeline, timeout=self.settings.pipeline_timeout, interval=self.settings.poll_interval)

    def inputs_of(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in self.INPUTS if k in props}

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in self.INPUTS if _differs(olds.get(k), news.get(k))]
        replaces = [k for k in changed if k in self.REPLACES]
        return DiffResult(changes=bool(changed), replaces=replaces,
                          delete_before_replace=self.DELETE_BEFORE_REPLACE and bool(replaces))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult(news, [CheckFailure(p, reason) for p, reason in self.problems(olds, news)])

    def problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        missing = [k for k in self.REPLACES if k not in news]
        return [(k, "required") for k in missing]


# ---------------------------------------------------------------------------------------------
# Topology

TOPOLOGY_INPUTS = ("name", "customer", "product", "type", "region", "version", "instances", "instanceSize",
                   "labels", "sftpEnabled")
TOPOLOGY_OUTPUTS = ("topologyId", "url", "status", "revision", "sftpHost", "sftpPort", "createdAt")


def topology_outputs(topology: api.Topology) -> dict[str, Any]:
    """The outputs of a Topology resource, from the API's view of it (also used by the mock)."""
    return _present({
        "name": topology.name, "customer": topology.customer, "product": topology.product, "type": topology.type,
        "region": topology.region, "version": topology.version, "instances": topology.instances,
        "instanceSize": topology.instance_size, "labels": dict(topology.labels),
        "sftpEnabled": topology.sftp_enabled, "topologyId": topology.id, "url": topology.url,
        "status": topology.status, "revision": topology.revision, "sftpHost": topology.sftp_host,
        "sftpPort": topology.sftp_port, "createdAt": topology.created_at,
    })


def _topology_spec(props: Mapping[str, Any]) -> api.TopologySpec:
    return api.TopologySpec(props["name"], props["customer"], props["product"], props["type"], props["region"],
                            props["version"], _int(props.get("instances", 1)), props.get("instanceSize", "medium"),
                            dict(props.get("labels") or {}), bool(props.get("sftpEnabled", False)))


def _topology_patch(olds: Mapping[str, Any], news: Mapping[str, Any]) -> api.TopologyPatch:
    """Only the mutable fields that changed."""
    def changed(key: str) -> bool:
        return _differs(olds.get(key), news.get(key))

    return api.TopologyPatch(
        version=news["version"] if changed("version") else None,
        instances=_int(news["instances"]) if changed("instances") else None,
        instance_size=news["instanceSize"] if changed("instanceSize") else None,
        labels=dict(news.get("labels") or {}) if changed("labels") else None,
        sftp_enabled=bool(news["sftpEnabled"]) if changed("sftpEnabled") else None)


class TopologyProvider(_InteraProvider):
    INPUTS = TOPOLOGY_INPUTS
    REPLACES = api.IMMUTABLE_TOPOLOGY_FIELDS
    DELETE_BEFORE_REPLACE = True  # topology names are unique: the new one needs the old one gone

    def problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = super().problems(olds, news)
        checks = [("product", news.get("product") in PRODUCTS, f"one of {', '.join(PRODUCTS)}"),
                  ("type", news.get("type") in TYPES, f"one of {', '.join(TYPES)}"),
                  ("instanceSize", news.get("instanceSize", "medium") in api.INSTANCE_SIZES,
                   f"one of {', '.join(api.INSTANCE_SIZES)}")]
        instances = news.get("instances", 1)
        checks.append(("instances", isinstance(instances, (int, float)) and 1 <= instances <= 20
                       and float(instances).is_integer(), "an integer from 1 to 20"))
        return found + [(k, why) for k, ok, why in checks if not ok]

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = self._client()
        topology = client.create_topology(_topology_spec(props))
        self._settle(client, topology.pipeline)
        return CreateResult(topology.name, topology_outputs(client.get_topology(topology.name)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            live = topology_outputs(self._client().get_topology(id_))
        except api.InteraNotFound:
            return _gone()
        return ReadResult(id_, live, self.inputs_of(live))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        client = self._client()
        topology = client.update_topology(id_, _topology_patch(olds, news))
        self._settle(client, topology.pipeline)
        return UpdateResult(topology_outputs(client.get_topology(id_)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        # Rule 4: a PROD topology is never removed. The program also protects and retains it; this
        # refuses even if those options were lifted, without sending a request.
        if props.get("type") == "PROD":
            raise api.InteraConflict(f"{id_} is a PROD topology: production is never removed",
                                     code="protected_topology")
        client = self._client()
        try:
            self._settle(client, client.delete_topology(id_))
        except api.InteraNotFound:
            pass  # already gone: the desired end state


# ---------------------------------------------------------------------------------------------
# Power state

class PowerStateProvider(_InteraProvider):
    INPUTS = ("topology", "state")
    REPLACES = ("topology",)

    def problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = super().problems(olds, news)
        if news.get("state") not in api.POWER_STATES:
            found.append(("state", "running or stopped (Intera has no working-hours schedule)"))
        return found

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client()
        power = client.set_power(props["topology"], props["state"])
        self._settle(client, power.pipeline)
        return {"topology": power.topology, "state": client.get_power(power.topology).state}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['topology']}/power", self._apply(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            power = self._client().get_power(props["topology"])
        except api.InteraNotFound:
            return _gone()
        live = {"topology": power.topology, "state": power.state}
        return ReadResult(id_, live, dict(live))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Power is an attribute of the topology, not an object: forgetting it changes nothing."""


# ---------------------------------------------------------------------------------------------
# Configuration (the deployment document)

class ConfigurationProvider(_InteraProvider):
    INPUTS = ("topology", "digest")  # the digest stands for the document
    REPLACES = ("topology",)

    def problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = super().problems(olds, news)
        try:
            if api.document_digest(news.get("document", "")) != news.get("digest"):
                found.append(("digest", "is not the digest of the document"))
        except (TypeError, ValueError):
            found.append(("document", "is not a JSON document"))
        return found

    @staticmethod
    def _outputs(configuration: api.Configuration) -> dict[str, Any]:
        return _present({"topology": configuration.topology, "document": api.canonical_json(configuration.document),
                         "digest": configuration.digest, "revision": configuration.revision,
                         "appliedAt": configuration.applied_at})

    def _apply(self, props: Mapping[str, Any]) -> dict[str, Any]:
        client = self._client()
        configuration = client.put_configuration(props["topology"], json.loads(props["document"]), props["digest"])
        self._settle(client, configuration.pipeline)
        return self._outputs(client.get_configuration(props["topology"]))

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(f"{props['topology']}/configuration", self._apply(props))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            live = self._outputs(self._client().get_configuration(props["topology"]))
        except api.InteraNotFound:
            return _gone()
        return ReadResult(id_, live, {k: live[k] for k in ("topology", "document", "digest")})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._apply(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """The configuration lives and dies with its topology: there is nothing to delete alone."""


# ---------------------------------------------------------------------------------------------
# Artifacts (patches, widgets, Fluig configuration files)

def _content_bytes(content: Any) -> bytes:
    """The bytes of a ``pulumi.FileAsset`` (or a plain path): read at apply time only."""
    path = getattr(content, "path", content)
    return Path(path).read_bytes()


class ArtifactProvider(_InteraProvider):
    INPUTS = ("topology", "kind", "path", "sha256")  # ``content`` is covered by sha256
    REPLACES = ("topology", "path", "sha256")

    def problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = super().problems(olds, news)
        if news.get("kind") not in api.ARTIFACT_KINDS:
            found.append(("kind", f"one of {', '.join(api.ARTIFACT_KINDS)}"))
        return found

    def _upload(self, props: Mapping[str, Any]) -> dict[str, Any]:
        content = _content_bytes(props["content"])
        actual = hashlib.sha256(content).hexdigest()
        if actual != props["sha256"]:
            # The file changed between the plan and the apply: uploading it would deploy
            # something nobody reviewed.
            raise ValueError(f"artifact {props['path']} changed since it was planned: "
                             f"sha256 {actual}, planned {props['sha256']}")
        client = self._client()
        artifact = client.upload_artifact(props["topology"], api.ArtifactUpload(props["kind"], props["path"], content))
        return {"topology": props["topology"], "kind": props["kind"], "path": props["path"],
                "sha256": artifact.sha256, "size": artifact.size}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._upload(props)
        return CreateResult(outs["sha256"], outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            artifact = self._client().get_artifact(props["topology"], id_)
        except api.InteraNotFound:
            return _gone()
        reference = artifact.reference(props["path"])
        if reference is None:
            return _gone()
        live = {"topology": props["topology"], "kind": reference.kind, "path": reference.path,
                "sha256": artifact.sha256, "size": artifact.size}
        return ReadResult(id_, live, {k: live[k] for k in self.INPUTS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._upload(news))  # only ``kind`` can change in place: re-register

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        try:
            self._client().delete_artifact(props["topology"], id_, props["path"])
        except api.InteraNotFound:
            pass  # already gone (for instance with its topology)


# ---------------------------------------------------------------------------------------------
# Manual backups ("Realizar Backup")

class ManualBackupProvider(_InteraProvider):
    INPUTS = ("topology", "name", "comment")
    REPLACES = ("topology", "name")

    def problems(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[tuple[str, str]]:
        found = super().problems(olds, news)
        same_backup = olds and olds.get("topology") == news.get("topology") and olds.get("name") == news.get("name")
        if same_backup and olds.get("comment") != news.get("comment"):
            found.append(("comment", "a backup already taken keeps its comment; give the backup a new name "
                                     "to take another one"))
        return found

    @staticmethod
    def _outputs(topology: str, backup: api.Backup) -> dict[str, Any]:
        return _present({"topology": topology, "name": backup.name, "comment": backup.comment,
                         "backupId": backup.id, "type": backup.type, "status": backup.status,
                         "createdAt": backup.created_at, "sizeBytes": backup.size_bytes})

    def create(self, props: dict[str, Any]) -> CreateResult:
        client, topology = self._client(), props["topology"]
        try:
            backup = client.request_backup(topology, api.BackupRequest(props["name"], props["comment"]))
            self._settle(client, backup.pipeline)
        except api.InteraConflict as exc:
            backup = self._adopt(client, topology, props, exc)
        backup = client.get_backup(topology, backup.name)
        return CreateResult(backup.id, self._outputs(topology, backup))

    @staticmethod
    def _adopt(client: api.InteraClient, topology: str, props: Mapping[str, Any],
               conflict: api.InteraConflict) -> api.Backup:
        """A backup of that name exists (an earlier run that lost its state, or the portal): it is
        this one if the comment matches; otherwise the name is taken."""
        if conflict.code != "backup_exists":
            raise conflict
        existing = client.get_backup(topology, props["name"])
        if existing.comment != props["comment"]:
            raise api.InteraConflict(f"{topology} already has a backup named {props['name']} with another "
                                     f"comment ({existing.comment!r}); choose a new name",
                                     code="backup_exists") from conflict
        return existing

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            backup = self._client().get_backup(props["topology"], props["name"])
        except api.InteraNotFound:
            return _gone()
        live = self._outputs(props["topology"], backup)
        return ReadResult(backup.id, live, {k: live[k] for k in self.INPUTS})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        raise api.InteraNotSupported("a backup already taken cannot change; give it a new name")

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Intera keeps the backup history ("Gerenciar Backup" shows it, nothing deletes it): a
        backup dropped from the spec stays in the history. The program also sets retain_on_delete."""


# ---------------------------------------------------------------------------------------------
# The resources. Type tokens: ``pulumi-python:dynamic/intera:<Name>``. Output keys are declared
# with None so Pulumi exposes them as attributes; None inputs are not sent.

TYPE_PREFIX = "pulumi-python:dynamic/intera:"


class Topology(Resource, module="intera", name="Topology"):
    topologyId: Output[str]
    url: Output[str]
    status: Output[str]
    sftpHost: Output[str]
    sftpPort: Output[int]

    def __init__(self, resource_name: str, props: Mapping[str, Any], settings: api.ClientSettings,
                 opts: ResourceOptions | None = None):
        declared = {k: props[k] for k in TOPOLOGY_INPUTS if k in props}
        super().__init__(TopologyProvider(settings), resource_name,
                         {**declared, **{k: None for k in TOPOLOGY_OUTPUTS}}, opts)


class PowerState(Resource, module="intera", name="PowerState"):
    state: Output[str]

    def __init__(self, resource_name: str, topology: str, state: str, settings: api.ClientSettings,
                 opts: ResourceOptions | None = None):
        super().__init__(PowerStateProvider(settings), resource_name, {"topology": topology, "state": state}, opts)


class Configuration(Resource, module="intera", name="Configuration"):
    digest: Output[str]
    revision: Output[int]

    def __init__(self, resource_name: str, topology: str, document: str, settings: api.ClientSettings,
                 opts: ResourceOptions | None = None):
        props = {"topology": topology, "document": document, "digest": api.document_digest(document),
                 "revision": None}
        super().__init__(ConfigurationProvider(settings), resource_name, props, opts)


class Artifact(Resource, module="intera", name="Artifact"):
    size: Output[int]

    def __init__(self, resource_name: str, topology: str, kind: str, path: str, sha256: str, content: Any,
                 settings: api.ClientSettings, opts: ResourceOptions | None = None):
        props = {"topology": topology, "kind": kind, "path": path, "sha256": sha256, "content": content,
                 "size": None}
        super().__init__(ArtifactProvider(settings), resource_name, props, opts)


class ManualBackup(Resource, module="intera", name="ManualBackup"):
    backupId: Output[str]
    status: Output[str]

    def __init__(self, resource_name: str, topology: str, name: str, comment: str, settings: api.ClientSettings,
                 opts: ResourceOptions | None = None):
        props = {"topology": topology, "name": name, "comment": comment, "backupId": None, "status": None,
                 "createdAt": None}
        super().__init__(ManualBackupProvider(settings), resource_name, props, opts)
