"""The deployment agent: its configuration document, what it may read, and the SSM run that applies it.

- ``deployment``: an SSM parameter ``/totvs/<topology>/deployment`` holding
  ``stacks.common.deployment.deployment_json`` (Protheus environments, updates, exclusive access,
  services and INI, patches with their reach, widgets, Fluig files, SFTP). Standard tier up to
  4 KB, Advanced up to 8 KB; a larger document is stored in the artifact bucket under its digest
  and the parameter holds a pointer (bucket, key, sha256) to it.
- ``agent-policy``: the instance role may read that parameter, the manual-backups parameter, the
  artifact bucket and the database's managed secret, and take/delete manual backups in the
  topology's vault (deletion limited to recovery points tagged with the topology).
- ``agent``: an SSM Command document running ``totvs-agent apply`` (shell on Linux, PowerShell on
  Windows: RM), and ``deploy``, an association of it with the topology's instances, one instance
  at a time, stopping at the first failure. Its parameters carry the digests of the deployment
  document and of the manual backups: a change of either updates the association, and SSM runs
  an updated association again. It waits for the artifacts and the policy it needs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Sequence

import pulumi
import pulumi_aws.iam as iam
import pulumi_aws.rds as rds
import pulumi_aws.s3 as s3
import pulumi_aws.ssm as ssm

from stacks.aws import catalog
from stacks.aws.artifacts import object_tags
from stacks.aws.backup import Backups
from stacks.aws.compute import Nodes
from stacks.aws.context import Stack
from stacks.common.deployment import deployment_json

STANDARD_MAX = 4096  # bytes of a Standard SSM parameter
ADVANCED_MAX = 8192  # bytes of an Advanced SSM parameter
POINTER_FORMAT = "cloud.totvs.io/deployment-pointer-v1"
RESERVED_DOCUMENT_PREFIXES = ("aws", "amazon", "amzn")
RUN_TIMEOUT_SECONDS = 3600
PARAMETERS = {
    "topology": "the topology (Environment name)",
    "deploymentParameter": "SSM parameter holding the deployment document",
    "deploymentDigest": "sha256 of the deployment document: a change runs the agent again",
    "artifactsBucket": "S3 bucket of the patches, widgets and Fluig files",
    "manualBackupsParameter": "SSM parameter listing the manual backups",
    "manualBackupsDigest": "sha256 of the manual backups list",
    "databaseEndpoint": "host:port of the topology's database",
    "databaseSecretArn": "Secrets Manager secret of the database's master user",
    "coordinator": "the instance that runs topology-wide work (manual backups, RPO promotion)",
}


@dataclass(frozen=True)
class Deployment:
    digest: str
    parameter: ssm.Parameter


def digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def parameter_name(st: Stack) -> str:
    return f"/totvs/{st.env.name}/deployment"


def _pointer(st: Stack, store: s3.Bucket, text: str) -> tuple[str, list[pulumi.Resource]]:
    """A document too large for SSM goes to the bucket; the parameter points at it."""
    hex_digest = digest(text).split(":", 1)[1]
    key = f"deployment/{hex_digest}.json"
    obj = s3.BucketObjectv2("deployment-document", bucket=store.bucket, key=key, content=text,
                            content_type="application/json", checksum_algorithm="SHA256", tags=object_tags(st),
                            opts=st.opts())
    pointer = {"format": POINTER_FORMAT, "bucket": store.bucket, "key": key, "sha256": hex_digest}
    return pulumi.Output.json_dumps(pointer, sort_keys=True), [obj]


def deployment(st: Stack, store: s3.Bucket) -> tuple[Deployment, list[pulumi.Resource]]:
    text = deployment_json(st.inp)
    size = len(text.encode("utf-8"))
    value, needs = (text, []) if size <= ADVANCED_MAX else _pointer(st, store, text)
    tier = "Standard" if size <= STANDARD_MAX or size > ADVANCED_MAX else "Advanced"
    parameter = ssm.Parameter("deployment", name=parameter_name(st), type="String", tier=tier, insecure_value=value,
                              description=f"deployment document of {st.env.name}", tags=st.tags(), opts=st.opts())
    return Deployment(digest(text), parameter), needs


def _statement(actions: list[str], resources: list, **extra) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def agent_policy(st: Stack, role: iam.Role, store: s3.Bucket, config: Deployment, backups: Backups,
                 db: rds.Instance) -> iam.RolePolicy:
    secret = db.master_user_secrets[0].secret_arn
    policy = pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": [
        _statement(["ssm:GetParameter"], [config.parameter.arn, backups.manual.arn]),
        _statement(["s3:GetObject"], [pulumi.Output.concat(store.arn, "/*")]),
        _statement(["s3:ListBucket"], [store.arn]),
        _statement(["secretsmanager:GetSecretValue"], [secret]),
        _statement(["backup:StartBackupJob", "backup:ListRecoveryPointsByBackupVault"], [backups.vault.arn]),
        _statement(["backup:DescribeRecoveryPoint", "backup:DeleteRecoveryPoint"], ["*"],
                   Condition={"StringEquals": {"aws:ResourceTag/totvs-topology": st.env.name}}),
        _statement(["iam:PassRole"], [backups.role.arn]),
    ]})
    return iam.RolePolicy("agent-policy", role=role.id, name="deployment-agent", policy=policy, opts=st.opts())


def document_name(st: Stack) -> str:
    """SSM reserves document names starting with aws, amazon or amzn."""
    name = st.name("deploy")
    return f"totvs-{name}" if name.lower().startswith(RESERVED_DOCUMENT_PREFIXES) else name


def document_content(platform: str) -> str:
    """The same for every topology of a platform: everything specific comes in as parameters."""
    args = " ".join(f"--{key} {{{{ {key} }}}}" for key in PARAMETERS)
    if platform == "windows":
        step = {"action": "aws:runPowerShellScript", "name": "apply",
                "inputs": {"timeoutSeconds": RUN_TIMEOUT_SECONDS,
                           "runCommand": [f"& 'C:\\TOTVS\\agent\\totvs-agent.exe' apply {args}"]}}
    else:
        step = {"action": "aws:runShellScript", "name": "apply",
                "inputs": {"timeoutSeconds": RUN_TIMEOUT_SECONDS,
                           "runCommand": [f"{catalog.AGENT_COMMAND} apply {args}"]}}
    return json.dumps({"schemaVersion": "2.2", "description": "Applies a TOTVS topology's deployment document",
                       "parameters": {k: {"type": "String", "description": d} for k, d in PARAMETERS.items()},
                       "mainSteps": [step]}, sort_keys=True)


def run(st: Stack, nodes: Nodes, store: s3.Bucket, config: Deployment, backups: Backups, db: rds.Instance,
        waits_for: Sequence[pulumi.Resource]) -> ssm.Association:
    document = ssm.Document("agent", name=document_name(st), document_type="Command", document_format="JSON",
                            target_type="/AWS::EC2::Instance",
                            content=document_content(catalog.PLATFORMS[st.env.product]), tags=st.tags(),
                            opts=st.opts())
    parameters = {
        "topology": st.env.name, "deploymentParameter": config.parameter.name, "deploymentDigest": config.digest,
        "artifactsBucket": store.bucket, "manualBackupsParameter": backups.manual.name,
        "manualBackupsDigest": backups.manual_digest, "databaseEndpoint": db.endpoint,
        "databaseSecretArn": db.master_user_secrets[0].secret_arn, "coordinator": nodes.primary.id,
    }
    return ssm.Association(
        "deploy", name=document.name, association_name=st.name("deploy"),
        targets=[ssm.AssociationTargetArgs(key="InstanceIds", values=[i.id for i in nodes.all])],
        parameters=parameters, max_concurrency="1", max_errors="0", tags=st.tags(),
        opts=st.opts(depends_on=list(waits_for)))
