"""The Intera stack program: one Environment on the vendor's own cloud, through dynamic providers.

Declares, for one topology:
    Topology        the topology itself (on PROD: protect + retain_on_delete, it holds the data)
    Artifact        one per repository file the environment deploys (patches, widgets, Fluig
                    configuration files), content-addressed by the digest the reconciler computed
    Configuration   the deployment document (``stacks.common.deployment``), after the artifacts
    PowerState      running | stopped, once the configuration is in place
    ManualBackup    one per manual backup ("Realizar Backup"); retained when dropped from the
                    spec, because Intera keeps the history and offers no deletion

What Intera does not offer (capability matrix: schedule, cost alert, domain, clone, backup
retention, deleting backups) is refused here too, so an unvalidated input cannot half-apply.
Exports: topologyId, topologyName, url, power, deploymentDigest, sftpEndpoint/sftpPort (when SFTP
is on), manualBackups, artifacts.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any, Callable, Mapping

import pulumi

from reconciler.model import capabilities as caps
from reconciler.model.spec import Environment
from stacks.common.deployment import deployment_json
from stacks.common.inputs import StackInput
from stacks.common.naming import physical_name, standard_tags
from stacks.intera import api
from stacks.intera import provider as p

PROJECT = "erp-intera"
CLOUD = "intera"

# How to tell that a spec uses a feature; the matrix says whether Intera has it.
_IN_USE: dict[str, Callable[[Environment], bool]] = {
    "schedule": lambda env: env.schedule is not None or env.power == "scheduled",
    "costAlert": lambda env: env.cost_alert is not None,
    "domain": lambda env: env.domain is not None,
    "clone": lambda env: env.clone_from is not None,
    "backupPolicy": lambda env: (env.backup.automatic_retention_days, env.backup.manual_retention_days) != (None, None),
    "manualBackup": lambda env: bool(env.backup.manual),
    "environments": lambda env: bool(env.environments),
    "patches": lambda env: bool(env.patches),
    "updates": lambda env: env.updates is not None,
    "rpo": lambda env: env.rpo_promote_from is not None,
    "exclusiveAccess": lambda env: env.exclusive_access,
    "sftp": lambda env: env.sftp_enabled,
    "widgets": lambda env: bool(env.widgets),
    "fluigConfig": lambda env: env.fluig_config is not None,
    "users": lambda env: env.users is not None,
}


def unsupported(env: Environment) -> list[str]:
    """Features the spec uses that the matrix does not give this product on Intera."""
    return [f"{caps.FEATURES[name].title} ({caps.FEATURES[name].why})" for name, used in _IN_USE.items()
            if used(env) and caps.support(name, env.product, CLOUD) is None]


def _short(text: str) -> str:
    """A stable 8-hex suffix: two paths that sanitise to the same name stay distinct."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _data_options(env: Environment, **extra: Any) -> pulumi.ResourceOptions:
    """Production data is protected: never deleted or replaced by an apply."""
    return pulumi.ResourceOptions(protect=env.is_prod, retain_on_delete=env.is_prod, **extra)


def declare_topology(inp: StackInput, settings: api.ClientSettings) -> p.Topology:
    env = inp.environment
    props = {"name": physical_name(env), "customer": env.customer, "product": env.product, "type": env.type,
             "region": env.region, "version": env.version, "instances": env.instances,
             "instanceSize": env.instance_size, "labels": standard_tags(env, inp.customer, inp.revision),
             "sftpEnabled": env.sftp_enabled}
    # A topology name is unique on Intera, so a replacement must delete the old one first.
    opts = _data_options(env, delete_before_replace=True,
                         replace_on_changes=list(p.TopologyProvider.REPLACES))
    return p.Topology(physical_name(env, "topology"), props, settings, opts)


def artifact_kind(env: Environment, path: str) -> str:
    if any(patch.file == path for patch in env.patches):
        return "patch"
    if path in env.widgets:
        return "widget"
    return "fluig-config"


def declare_artifacts(inp: StackInput, settings: api.ClientSettings, topology: p.Topology) -> list[p.Artifact]:
    env, name = inp.environment, physical_name(inp.environment)
    out = []
    for path in env.artifact_paths():
        resource_name = physical_name(env, "artifact", PurePosixPath(path).name, _short(path))
        # The file is read by the provider at apply time; here only its path and planned digest.
        out.append(p.Artifact(resource_name, name, artifact_kind(env, path), path, inp.artifact_hex(path),
                              pulumi.FileAsset(inp.artifact_file(path)), settings,
                              pulumi.ResourceOptions(depends_on=[topology],
                                                     replace_on_changes=list(p.ArtifactProvider.REPLACES))))
    return out


def declare_configuration(inp: StackInput, settings: api.ClientSettings, topology: p.Topology,
                          artifacts: list[p.Artifact]) -> p.Configuration:
    # After the artifacts: the document names them by digest and the agent fetches them.
    return p.Configuration(physical_name(inp.environment, "configuration"), physical_name(inp.environment),
                           deployment_json(inp), settings,
                           pulumi.ResourceOptions(depends_on=[topology, *artifacts],
                                                  replace_on_changes=list(p.ConfigurationProvider.REPLACES)))


def declare_power(inp: StackInput, settings: api.ClientSettings, topology: p.Topology,
                  configuration: p.Configuration) -> p.PowerState:
    # After the configuration, so that a stop comes once the new configuration is applied.
    return p.PowerState(physical_name(inp.environment, "power"), physical_name(inp.environment),
                        inp.environment.power, settings,
                        pulumi.ResourceOptions(depends_on=[topology, configuration],
                                               replace_on_changes=list(p.PowerStateProvider.REPLACES)))


def declare_backups(inp: StackInput, settings: api.ClientSettings, topology: p.Topology) -> list[p.ManualBackup]:
    env = inp.environment
    # Where the matrix gives no deletion of manual backups (Intera), dropping one from the spec
    # must leave it in the history.
    retain = caps.support("backupDelete", env.product, CLOUD) is None
    return [p.ManualBackup(physical_name(env, "backup", backup.name, _short(backup.name)), physical_name(env),
                           backup.name, backup.comment, settings,
                           pulumi.ResourceOptions(depends_on=[topology], retain_on_delete=retain,
                                                  replace_on_changes=list(p.ManualBackupProvider.REPLACES)))
            for backup in sorted(env.backup.manual, key=lambda b: b.name)]


def export_outputs(inp: StackInput, topology: p.Topology, document: str) -> None:
    env = inp.environment
    pulumi.export("topologyId", topology.topologyId)
    pulumi.export("topologyName", physical_name(env))
    pulumi.export("url", topology.url)
    pulumi.export("power", env.power)
    pulumi.export("deploymentDigest", api.document_digest(document))
    if env.sftp_enabled:
        pulumi.export("sftpEndpoint", pulumi.Output.concat("sftp://", topology.sftpHost, f":{caps.SFTP_PORT}"))
        pulumi.export("sftpPort", caps.SFTP_PORT)
    pulumi.export("manualBackups", sorted(b.name for b in env.backup.manual))
    pulumi.export("artifacts", {path: inp.artifact_digest(path) for path in env.artifact_paths()})


def build(inp: StackInput) -> None:
    env = inp.environment
    if env.cloud != CLOUD:
        raise ValueError(f"{env.name} is on {env.cloud}, not on Intera")
    missing = unsupported(env)
    if missing:
        raise ValueError(f"{env.name}: Intera does not offer " + "; ".join(missing))
    settings = api.ClientSettings.from_settings(inp.setting)
    topology = declare_topology(inp, settings)
    artifacts = declare_artifacts(inp, settings, topology)
    configuration = declare_configuration(inp, settings, topology, artifacts)
    declare_power(inp, settings, topology, configuration)
    declare_backups(inp, settings, topology)
    export_outputs(inp, topology, deployment_json(inp))


# ---------------------------------------------------------------------------------------------
# What Intera computes, for the mock runtime and the sandbox engine

def _mock_topology(inputs: Mapping[str, Any]) -> dict[str, Any]:
    name = inputs.get("name", "")
    sftp = bool(inputs.get("sftpEnabled"))
    topology = api.Topology(
        id=f"top-{_short(name)}", name=name, customer=inputs.get("customer", ""), product=inputs.get("product", ""),
        type=inputs.get("type", ""), region=inputs.get("region", ""), version=inputs.get("version", ""),
        instances=int(inputs.get("instances", 1)), instance_size=inputs.get("instanceSize", "medium"),
        labels=dict(inputs.get("labels") or {}), sftp_enabled=sftp, status="active", url=api.topology_url(name),
        revision=1, sftp_host=api.sftp_host(name) if sftp else None, sftp_port=caps.SFTP_PORT if sftp else None)
    return p.topology_outputs(topology)


def computed_outputs(type_token: str, name: str, inputs: Mapping[str, Any], resource_id: str) -> dict[str, Any]:
    kind = type_token[len(p.TYPE_PREFIX):] if type_token.startswith(p.TYPE_PREFIX) else ""
    if kind == "Topology":
        return _mock_topology(inputs)
    if kind == "Configuration":
        return {"revision": 1}
    if kind == "ManualBackup":
        return {"backupId": f"bkp-{_short(inputs.get('topology', '') + '/' + inputs.get('name', ''))}",
                "type": "manual", "status": "completed"}
    return {}
