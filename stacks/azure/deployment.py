"""What the deployment agent on the VMs reads and how it is made to run.

- A private storage account and container (``deployment``) of the topology. The VMs' identity
  reads and writes that container only (Storage Blob Data Contributor on the container): it reads
  its document and artifacts, and writes the database exports of manual backups under
  ``backups/`` (see ``backup``).
- The deployment document (``stacks.common.deployment``: Protheus environments, updates, exclusive
  access, services and INI, patches with their reach, widgets, Fluig configuration, SFTP) as the
  blob ``deployment.json``, with its sha256 in the blob's metadata.
- Every artifact (patch, widget, Fluig configuration file) as a blob named
  ``sha256-<hex>/<repository path>``: content-addressed, so new content is a new blob, and the
  agent finds a file from the path and digest the document gives.
- One managed run command per VM that runs the agent with the document's URL and digest (and the
  manual backups' data, see ``backup``) as parameters: any configuration change changes a
  parameter, and Azure runs the command again.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.compute as compute
import pulumi_azure_native.storage as storage

from stacks.azure.context import AzureStack
from stacks.azure.machines import Machines, Vm
from stacks.azure.tables import ROLE_STORAGE_BLOB_DATA_CONTRIBUTOR
from stacks.common.deployment import FORMAT, deployment_json

CONTAINER = "deployment"
DOCUMENT_BLOB = "deployment.json"
CONTENT_TYPES = {".war": "application/java-archive", ".ear": "application/java-archive",
                 ".jar": "application/java-archive", ".xml": "application/xml", ".conf": "text/plain"}
AGENT_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class Store:
    account: storage.StorageAccount
    container: storage.BlobContainer
    access: authorization.RoleAssignment


@dataclass(frozen=True)
class Published:
    store: Store
    document: storage.Blob
    artifacts: tuple[storage.Blob, ...]
    digest: str  # sha256:<hex> of the deployment document


def document_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_store(stack: AzureStack, machines: Machines) -> Store:
    account = storage.StorageAccount(
        "storage", account_name=stack.compact_name("st"), resource_group_name=stack.group_name,
        location=stack.location, kind="StorageV2",
        sku=storage.SkuArgs(name="Standard_ZRS" if stack.env.is_prod else "Standard_LRS"),
        access_tier="Hot", minimum_tls_version="TLS1_2", enable_https_traffic_only=True,
        allow_blob_public_access=False, tags=stack.tags(), opts=stack.opts())
    container = storage.BlobContainer(
        "container", container_name=CONTAINER, account_name=account.name, resource_group_name=stack.group_name,
        public_access="None", opts=stack.opts())
    access = authorization.RoleAssignment(
        "agent-blob-access", role_assignment_name=stack.guid("agent-blob-access"), scope=container.id,
        principal_id=machines.identity.principal_id, principal_type="ServicePrincipal",
        role_definition_id=stack.role_definition(ROLE_STORAGE_BLOB_DATA_CONTRIBUTOR),
        description=f"deployment agent of {stack.env.name}: its document, artifacts and backups",
        opts=stack.opts())
    return Store(account, container, access)


def artifact_blob_name(path: str, hex_digest: str) -> str:
    return f"sha256-{hex_digest}/{path}"


def _artifact_kinds(stack: AzureStack) -> list[tuple[str, str]]:
    """(path, kind) of the files this topology deploys, for the features its product has."""
    env, found = stack.env, []
    if stack.supports("patches"):
        found += [(p.file, "patch") for p in env.patches if p.file]
    if stack.supports("widgets"):
        found += [(w, "widget") for w in env.widgets]
    if stack.supports("fluigConfig") and env.fluig_config:
        found += [(p, "fluig-config") for p in (env.fluig_config.standalone_xml, env.fluig_config.standalone_conf) if p]
    return sorted(set(found))


def _blob(stack: AzureStack, store: Store, logical: str, name: str, source: pulumi.Asset, content_type: str,
          metadata: dict[str, str]) -> storage.Blob:
    return storage.Blob(
        logical, blob_name=name, container_name=store.container.name, account_name=store.account.name,
        resource_group_name=stack.group_name, type="Block", content_type=content_type, source=source,
        metadata={"topology": stack.env.name, **metadata}, opts=stack.opts())


def publish(stack: AzureStack, store: Store) -> Published:
    inp = stack.inp
    text = deployment_json(inp)
    digest = document_digest(text)
    document = _blob(stack, store, "deployment-document", DOCUMENT_BLOB, pulumi.StringAsset(text),
                     "application/json", {"sha256": digest.split(":", 1)[1], "format": FORMAT})
    artifacts = []
    for path, kind in _artifact_kinds(stack):
        hex_digest = inp.artifact_hex(path)
        artifacts.append(_blob(
            stack, store, f"artifact-{path}", artifact_blob_name(path, hex_digest),
            pulumi.FileAsset(inp.artifact_file(path)),
            CONTENT_TYPES.get(posixpath.splitext(path)[1], "application/octet-stream"),
            {"sha256": hex_digest, "path": path, "kind": kind}))
    return Published(store, document, tuple(artifacts), digest)


# The agent is part of every image; these scripts only hand it its parameters.
_LINUX_SCRIPT = """#!/bin/bash
# Managed run command: the parameters arrive as environment variables of the same names.
set -euo pipefail
exec /opt/totvs/erp-agent/erp-agent apply --from-env {names}
"""
_WINDOWS_SCRIPT = """param({params})
$ErrorActionPreference = 'Stop'
& 'C:\\TOTVS\\erp-agent\\erp-agent.exe' apply {args}
exit $LASTEXITCODE
"""


def agent_script(os_type: str, names: list[str]) -> str:
    if os_type == "Windows":
        return _WINDOWS_SCRIPT.format(params=", ".join(f"[string]${n}" for n in names),
                                      args=" ".join(f"-{n} ${n}" for n in names))
    return _LINUX_SCRIPT.format(names=" ".join(names))


def run_agent(stack: AzureStack, machines: Machines, published: Published, extra: dict[str, pulumi.Input[str]],
              depends_on: list[pulumi.Resource]) -> list[compute.VirtualMachineRunCommandByVirtualMachine]:
    """One run command per VM; ``extra`` adds parameters (database host, manual backups)."""
    return [_run_command(stack, vm, machines, published, extra, depends_on) for vm in machines.vms]


def _run_command(stack: AzureStack, vm: Vm, machines: Machines, published: Published,
                 extra: dict[str, pulumi.Input[str]], depends_on: list[pulumi.Resource]):
    store = published.store
    parameters: dict[str, pulumi.Input[str]] = {
        "Topology": stack.env.name, "Role": vm.role, "DocumentUrl": published.document.url,
        "DocumentDigest": published.digest,
        "ArtifactsUrl": pulumi.Output.concat(store.account.primary_endpoints.blob, CONTAINER, "/"),
        "IdentityClientId": machines.identity.client_id, **extra}
    names = list(parameters)
    return compute.VirtualMachineRunCommandByVirtualMachine(
        f"{vm.key}-agent", run_command_name="erp-deployment-agent", vm_name=vm.resource.name,
        resource_group_name=stack.group_name, location=stack.location,
        source=compute.VirtualMachineRunCommandScriptSourceArgs(script=agent_script(vm.os_type, names)),
        parameters=[compute.RunCommandInputParameterArgs(name=n, value=v) for n, v in parameters.items()],
        async_execution=False, treat_failure_as_deployment_failure=True, timeout_in_seconds=AGENT_TIMEOUT_SECONDS,
        tags=stack.tags(),
        opts=stack.opts(depends_on=[store.access, published.document, *published.artifacts, *depends_on]))
