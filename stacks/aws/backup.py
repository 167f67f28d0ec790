"""Backups (seed "Realizar Backup", "Gerenciar Backup"): AWS Backup for the automatic ones, a record
the deployment agent acts on for the manual ones.

Automatic: a vault, a plan with one daily rule (02:00 in the customer's timezone) whose lifecycle
deletes recovery points after ``backup.automaticRetentionDays`` (30 when unset, the seed's
default) - automatic backups are deleted only by this retention - and a selection of the
topology's instances and database, under a role AWS Backup assumes. On PROD the vault and the
plan are protected and retained; a QA/DEV vault is force-destroyed with the topology (rule 4).

Manual: AWS has no declarative resource for an on-demand backup job, so the list of manual
backups is an SSM parameter (``/totvs/<topology>/manual-backups``): name, comment, the
``manualRetentionDays`` lifecycle, the vault and role to use, and the protections of rule 11.
The deployment agent on the topology's first instance (the association passes its id as
``coordinator``) starts a backup job, tagged ``totvs-backup-name``, for each name it has not
taken yet, and deletes the recovery point of a name removed from the list unless it is
protected (last 30 days, monthly of the last 12 months, yearly of the last 5 years). The
parameter's digest is a parameter of the association, so each change runs the agent again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pulumi_aws.backup as backup
import pulumi_aws.ec2 as ec2
import pulumi_aws.iam as iam
import pulumi_aws.rds as rds
import pulumi_aws.ssm as ssm

from reconciler.model import capabilities as caps
from stacks.aws import catalog
from stacks.aws.compute import assume_role_policy
from stacks.aws.context import Stack

BACKUP_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
NAME_MAX = 50  # backup vault, plan and selection names
MANUAL_FORMAT = "cloud.totvs.io/manual-backups-v1"


@dataclass(frozen=True)
class Backups:
    vault: backup.Vault
    role: iam.Role
    manual: ssm.Parameter
    manual_digest: str


def retention_days(st: Stack) -> int:
    return st.env.backup.automatic_retention_days or catalog.DEFAULT_AUTOMATIC_RETENTION_DAYS


def timezone(st: Stack) -> str:
    customer = st.inp.customer
    return (customer.timezone if customer and customer.timezone else None) or "UTC"


def _role(st: Stack) -> tuple[iam.Role, iam.RolePolicyAttachment]:
    role = iam.Role("backup-role", name=st.name("backup"),
                    assume_role_policy=assume_role_policy("backup.amazonaws.com"),
                    description=f"AWS Backup of {st.env.name}", tags=st.tags(), opts=st.opts())
    attachment = iam.RolePolicyAttachment("backup-role-policy", role=role.name, policy_arn=BACKUP_SERVICE_POLICY,
                                          opts=st.opts())
    return role, attachment


def _plan(st: Stack, vault: backup.Vault) -> backup.Plan:
    rule = backup.PlanRuleArgs(
        rule_name="daily", target_vault_name=vault.name, schedule=catalog.BACKUP_SCHEDULE,
        schedule_expression_timezone=timezone(st), start_window=catalog.BACKUP_START_WINDOW_MINUTES,
        completion_window=catalog.BACKUP_COMPLETION_WINDOW_MINUTES,
        lifecycle=backup.PlanRuleLifecycleArgs(delete_after=retention_days(st)),
        recovery_point_tags=st.tags(**{"totvs-backup": "automatic"}))
    return backup.Plan("backup-plan", name=st.name("backup", max_length=NAME_MAX), rules=[rule], tags=st.tags(),
                       opts=st.opts(data=True))


def manual_document(st: Stack) -> dict:
    """What the agent reads to take and delete manual backups."""
    b = st.env.backup
    return {"format": MANUAL_FORMAT, "topology": st.env.name, "vault": st.name("backup", max_length=NAME_MAX),
            "role": st.name("backup"), "retentionDays": b.manual_retention_days,
            "deletable": st.has("backupDelete"),
            "backups": sorted(({"name": m.name, "comment": m.comment} for m in b.manual), key=lambda m: m["name"]),
            "protected": {"recentDays": caps.PROTECTED_RECENT_DAYS, "monthlyMonths": caps.PROTECTED_MONTHLY_MONTHS,
                          "yearlyYears": caps.PROTECTED_YEARLY_YEARS}}


def _manual(st: Stack) -> tuple[ssm.Parameter, str]:
    text = json.dumps(manual_document(st), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    parameter = ssm.Parameter("manual-backups", name=f"/totvs/{st.env.name}/manual-backups", type="String",
                              insecure_value=text, description=f"manual backups of {st.env.name}", tags=st.tags(),
                              opts=st.opts())
    return parameter, "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def backups(st: Stack, instances: tuple[ec2.Instance, ...], db: rds.Instance) -> Backups:
    role, attachment = _role(st)
    vault = backup.Vault("backup-vault", name=st.name("backup", max_length=NAME_MAX), force_destroy=not st.env.is_prod,
                         tags=st.tags(), opts=st.opts(data=True))
    plan = _plan(st, vault)
    backup.Selection("backup-selection", name=st.name("backup", max_length=NAME_MAX), plan_id=plan.id,
                     iam_role_arn=role.arn, resources=[i.arn for i in instances] + [db.arn],
                     opts=st.opts(depends_on=[attachment]))
    parameter, digest = _manual(st)
    return Backups(vault, role, parameter, digest)
