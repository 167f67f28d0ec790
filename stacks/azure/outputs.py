"""What Azure computes for a resource, for the mock runtime and the sandbox engine: the ``name``
output of every resource, and the ids, FQDNs, addresses, identities and URLs the program or its
exports read. Keys are the wire (camelCase) output names; values are derived from the resource's
name only, so they are deterministic.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any, Callable, Mapping

# The input that names each resource in Azure (the ``name`` output).
NAME_INPUTS = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:network:Subnet": "subnetName",
    "azure-native:network:NetworkSecurityGroup": "networkSecurityGroupName",
    "azure-native:network:PublicIPAddress": "publicIpAddressName",
    "azure-native:network:LoadBalancer": "loadBalancerName",
    "azure-native:network:NetworkInterface": "networkInterfaceName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:compute:VirtualMachine": "vmName",
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": "runCommandName",
    "azure-native:sql:Server": "serverName",
    "azure-native:sql:Database": "databaseName",
    "azure-native:sql:VirtualNetworkRule": "virtualNetworkRuleName",
    "azure-native:sql:BackupShortTermRetentionPolicy": "policyName",
    "azure-native:dbformysql:Server": "serverName",
    "azure-native:dbformysql:Database": "databaseName",
    "azure-native:privatedns:PrivateZone": "privateZoneName",
    "azure-native:privatedns:VirtualNetworkLink": "virtualNetworkLinkName",
    "azure-native:storage:StorageAccount": "accountName",
    "azure-native:storage:BlobContainer": "containerName",
    "azure-native:storage:Blob": "blobName",
    "azure-native:authorization:RoleAssignment": "roleAssignmentName",
    "azure-native:automation:AutomationAccount": "automationAccountName",
    "azure-native:automation:Runbook": "runbookName",
    "azure-native:automation:Variable": "variableName",
    "azure-native:automation:Schedule": "scheduleName",
    "azure-native:automation:JobSchedule": "jobScheduleId",
    "azure-native:devtestlab:GlobalSchedule": "name",
    "azure-native:consumption:Budget": "budgetName",
    "azure-native:dns:RecordSet": "relativeRecordSetName",
    "azure-native:recoveryservices:Vault": "vaultName",
    "azure-native:recoveryservices:ProtectionPolicy": "policyName",
    "azure-native:recoveryservices:ProtectedItem": "protectedItemName",
}

TENANT_ID = "6a1f0e4c-3b2d-4c5e-9f7a-1d2c3b4a5e6f"  # the platform's tenant, as the mock cloud sees it
_NAMESPACE = uuid.UUID("3c9a1e0b-7d4f-4b6a-8e2c-5f1d0a9b8c7e")


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _public_ip(name: str) -> str:
    # Inside 191.232.0.0/14, a block Azure uses in Brazil South.
    h = hashlib.sha256(name.encode()).digest()
    return f"191.{232 + h[0] % 4}.{h[1]}.{1 + h[2] % 254}"


def _identity(name: str, inputs: Mapping[str, Any]) -> dict:
    return {"principalId": _guid("principal", name), "clientId": _guid("client", name), "tenantId": TENANT_ID}


def _automation_account(name: str, inputs: Mapping[str, Any]) -> dict:
    identity = dict(inputs.get("identity") or {})
    identity.update({"principalId": _guid("principal", name), "tenantId": TENANT_ID})
    return {"identity": identity}


def _public_ip_address(name: str, inputs: Mapping[str, Any]) -> dict:
    dns = dict(inputs.get("dnsSettings") or {})
    if dns.get("domainNameLabel"):
        dns["fqdn"] = f"{dns['domainNameLabel']}.{inputs.get('location', 'brazilsouth')}.cloudapp.azure.com"
    return {"ipAddress": _public_ip(name), "dnsSettings": dns}


def _vm(name: str, inputs: Mapping[str, Any]) -> dict:
    out: dict[str, Any] = {"vmId": _guid("vm", name), "provisioningState": "Succeeded"}
    identity = inputs.get("identity")
    if identity:
        # The request lists the user-assigned identities; the response maps each id to its ids.
        assigned = {uid: {"principalId": _guid("principal", uid), "clientId": _guid("client", uid)}
                    for uid in identity.get("userAssignedIdentities") or ()}
        out["identity"] = {**identity, "userAssignedIdentities": assigned}
    return out


def _sql_server(name: str, inputs: Mapping[str, Any]) -> dict:
    return {"fullyQualifiedDomainName": f"{name}.database.windows.net", "state": "Ready"}


def _mysql_server(name: str, inputs: Mapping[str, Any]) -> dict:
    return {"fullyQualifiedDomainName": f"{name}.mysql.database.azure.com", "state": "Ready"}


def _storage_account(name: str, inputs: Mapping[str, Any]) -> dict:
    return {"primaryEndpoints": {service: f"https://{name}.{service}.core.windows.net/"
                                 for service in ("blob", "dfs", "file", "queue", "table", "web")}}


def _blob(name: str, inputs: Mapping[str, Any]) -> dict:
    return {"url": f"https://{inputs.get('accountName')}.blob.core.windows.net/{inputs.get('containerName')}/{name}"}


def _record_set(name: str, inputs: Mapping[str, Any]) -> dict:
    return {"fqdn": f"{name}.{inputs.get('zoneName')}."}


_COMPUTED: dict[str, Callable[[str, Mapping[str, Any]], dict]] = {
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:automation:AutomationAccount": _automation_account,
    "azure-native:network:PublicIPAddress": _public_ip_address,
    "azure-native:compute:VirtualMachine": _vm,
    "azure-native:sql:Server": _sql_server,
    "azure-native:dbformysql:Server": _mysql_server,
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:storage:Blob": _blob,
    "azure-native:dns:RecordSet": _record_set,
}


def computed_outputs(type_token: str, name: str, inputs: Mapping[str, Any], resource_id: str) -> dict:
    """Outputs Azure would add to ``inputs`` for the resource ``name`` of type ``type_token``."""
    if not type_token.startswith("azure-native:"):
        return {}  # the provider resource computes nothing
    physical = inputs.get(NAME_INPUTS.get(type_token, "name")) or name
    out: dict[str, Any] = {"name": physical}
    compute = _COMPUTED.get(type_token)
    if compute is not None:
        out.update(compute(physical, inputs))
    return out
