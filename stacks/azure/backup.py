"""Backups: a Recovery Services vault, a daily VM policy and one protected item per VM; the manual
backups as data the deployment agent acts on.

Automatic backups exist for every topology (the seed deletes them only by retention): the policy
keeps them ``automaticRetentionDays`` (default 30), at least the 7 days Azure requires of a daily
VM policy. The portal sets retention only on AWS; on Azure this stack implements it
(``backupPolicy`` is ``Support.STACK``). The database's own point-in-time retention follows the
same setting (``database.retention_days``).

Manual backups have no Azure resource of their own (an on-demand backup is an action, and its
recovery point has no name). The whole list is written to the blob ``manual-backups.json`` (name,
comment, retention, the deletion protections of rule 11), always, even when empty, so that the
list is the complete desired set. Its URL and digest are parameters of the agent's run command, so
an edit of the list runs the agent again. For each new name the agent takes an on-demand backup
of its VM (retained ``manualRetentionDays``; it holds the Backup Operator role on the vault while
the list is not empty) and the first instance exports the database to ``backups/<name>`` in the
topology's container. For a name removed from the list the agent deletes that export unless rule
11 protects it (Azure Backup has no deletion of single VM recovery points; those expire at their
retain-until date). That is how this stack implements ``backupDelete`` (``Support.STACK``).

On PROD the vault and the policy are ``protect`` and ``retain_on_delete``; protected items are
``retain_on_delete`` (scaling in must not delete a VM's recovery points).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.recoveryservices as recoveryservices
import pulumi_azure_native.storage as storage

from reconciler.model import capabilities as caps
from stacks.azure.context import AzureStack
from stacks.azure.deployment import Store, document_digest
from stacks.azure.machines import Machines, Vm
from stacks.azure.tables import (DEFAULT_AUTOMATIC_RETENTION_DAYS, DEFAULT_MANUAL_RETENTION_DAYS, ROLE_BACKUP_OPERATOR,
                                 VM_BACKUP_MIN_DAYS)

BACKUP_TIME_UTC = "2000-01-01T03:00:00Z"  # only the time of day counts: 00:00 in Brasília
MANUAL_FORMAT = "cloud.totvs.io/manual-backups-v1"
MANUAL_BLOB = "manual-backups.json"


@dataclass(frozen=True)
class Backups:
    vault: recoveryservices.Vault
    policy: recoveryservices.ProtectionPolicy
    items: tuple[recoveryservices.ProtectedItem, ...]
    manual_blob: storage.Blob
    manual_digest: str
    operator: authorization.RoleAssignment | None


def automatic_retention_days(stack: AzureStack) -> int:
    days = DEFAULT_AUTOMATIC_RETENTION_DAYS
    if stack.supports("backupPolicy") and stack.env.backup.automatic_retention_days:
        days = stack.env.backup.automatic_retention_days
    return max(VM_BACKUP_MIN_DAYS, days)


def build_backups(stack: AzureStack, machines: Machines, store: Store) -> Backups:
    vault = _vault(stack)
    policy = _policy(stack, vault)
    items = tuple(_protected_item(stack, vault, policy, vm) for vm in machines.vms)
    blob, digest = _manual_backups(stack, store)
    operator = _backup_operator(stack, vault, machines) if manual_backups(stack) else None
    return Backups(vault, policy, items, blob, digest, operator)


def _vault(stack: AzureStack) -> recoveryservices.Vault:
    redundancy = "GeoRedundant" if stack.env.is_prod else "LocallyRedundant"
    return recoveryservices.Vault(
        "backup-vault", vault_name=vault_name(stack), resource_group_name=stack.group_name,
        location=stack.location, sku=recoveryservices.SkuArgs(name="RS0", tier="Standard"),
        properties=recoveryservices.VaultPropertiesArgs(
            public_network_access="Enabled",
            redundancy_settings=recoveryservices.VaultPropertiesRedundancySettingsArgs(
                standard_tier_storage_redundancy=redundancy)),
        tags=stack.tags(), opts=stack.opts(data=True))


def vault_name(stack: AzureStack) -> str:
    return stack.name("rsv", max_length=50)


def _policy(stack: AzureStack, vault: recoveryservices.Vault) -> recoveryservices.ProtectionPolicy:
    days = automatic_retention_days(stack)
    return recoveryservices.ProtectionPolicy(
        "backup-policy", policy_name=stack.name("daily"), vault_name=vault.name, resource_group_name=stack.group_name,
        location=stack.location,
        properties=recoveryservices.AzureIaaSVMProtectionPolicyArgs(
            backup_management_type="AzureIaasVM", time_zone="UTC", instant_rp_retention_range_in_days=2,
            schedule_policy=recoveryservices.SimpleSchedulePolicyArgs(
                schedule_policy_type="SimpleSchedulePolicy", schedule_run_frequency="Daily",
                schedule_run_times=[BACKUP_TIME_UTC]),
            retention_policy=recoveryservices.LongTermRetentionPolicyArgs(
                retention_policy_type="LongTermRetentionPolicy",
                daily_schedule=recoveryservices.DailyRetentionScheduleArgs(
                    retention_times=[BACKUP_TIME_UTC],
                    retention_duration=recoveryservices.RetentionDurationArgs(count=days, duration_type="Days")))),
        tags=stack.tags(), opts=stack.opts(data=True))


def _protected_item(stack: AzureStack, vault: recoveryservices.Vault, policy: recoveryservices.ProtectionPolicy,
                    vm: Vm) -> recoveryservices.ProtectedItem:
    # Azure names the container and the item after the group and the VM.
    group = stack.group_name
    keep = stack.env.is_prod
    return recoveryservices.ProtectedItem(
        f"{vm.key}-backup", vault_name=vault.name, resource_group_name=group, fabric_name="Azure",
        container_name=pulumi.Output.concat("iaasvmcontainer;iaasvmcontainerv2;", group, ";", vm.name),
        protected_item_name=pulumi.Output.concat("vm;iaasvmcontainerv2;", group, ";", vm.name),
        location=stack.location,
        properties=recoveryservices.AzureIaaSComputeVMProtectedItemArgs(
            protected_item_type="Microsoft.Compute/virtualMachines", policy_id=policy.id,
            source_resource_id=vm.resource.id),
        tags=stack.tags(),
        opts=pulumi.ResourceOptions.merge(stack.opts(), pulumi.ResourceOptions(retain_on_delete=keep)))


def manual_backups(stack: AzureStack) -> tuple:
    return stack.env.backup.manual if stack.supports("manualBackup") else ()


def manual_document(stack: AzureStack) -> str:
    retention = stack.env.backup.manual_retention_days or DEFAULT_MANUAL_RETENTION_DAYS
    doc = {
        "format": MANUAL_FORMAT, "topology": stack.env.name, "vault": vault_name(stack),
        "retentionDays": retention, "deleteRemoved": stack.supports("backupDelete"),
        "protected": {"recentDays": caps.PROTECTED_RECENT_DAYS, "monthlyMonths": caps.PROTECTED_MONTHLY_MONTHS,
                      "yearlyYears": caps.PROTECTED_YEARLY_YEARS},
        "backups": [{"name": m.name, "comment": m.comment}
                    for m in sorted(manual_backups(stack), key=lambda m: m.name)],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _manual_backups(stack: AzureStack, store: Store) -> tuple[storage.Blob, str]:
    text = manual_document(stack)
    digest = document_digest(text)
    blob = storage.Blob(
        "manual-backups", blob_name=MANUAL_BLOB, container_name=store.container.name,
        account_name=store.account.name, resource_group_name=stack.group_name, type="Block",
        content_type="application/json", source=pulumi.StringAsset(text),
        metadata={"topology": stack.env.name, "sha256": digest.split(":", 1)[1], "format": MANUAL_FORMAT},
        opts=stack.opts())
    return blob, digest


def _backup_operator(stack: AzureStack, vault: recoveryservices.Vault,
                     machines: Machines) -> authorization.RoleAssignment:
    return authorization.RoleAssignment(
        "agent-backup-operator", role_assignment_name=stack.guid("agent-backup-operator"), scope=vault.id,
        principal_id=machines.identity.principal_id, principal_type="ServicePrincipal",
        role_definition_id=stack.role_definition(ROLE_BACKUP_OPERATOR),
        description=f"deployment agent of {stack.env.name}: on-demand (manual) backups", opts=stack.opts())
