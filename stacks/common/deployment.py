"""The configuration document the deployment agent on the instances reads.

Protheus environments, component versions (updates), exclusive access, services with their state
and INI parameters, patches and widgets with their content digests, Fluig configuration files and
SFTP: what has no cloud resource of its own is written here, and every cloud stores this one
document (AWS: an SSM parameter; Azure: a blob; Intera: the topology's configuration).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.model import capabilities as caps
from stacks.common.inputs import StackInput

FORMAT = "cloud.totvs.io/deployment-v1"


def patch_reach(inp: StackInput) -> list[dict[str, Any]]:
    """Which environments and services each patch reaches (rule 6)."""
    env = inp.environment
    out = []
    for patch in env.patches:
        targets, services = (list(x) for x in env.patch_reach(patch))
        entry = {"source": patch.source, "language": patch.language or _language_of(env, targets),
                 "environments": targets, "services": services}
        if patch.file:
            entry["sha256"] = inp.artifact_hex(patch.file)
        out.append(entry)
    return out


def _language_of(env, targets: list[str]) -> str | None:
    languages = {e.language for e in env.environments if e.name in targets}
    return languages.pop() if len(languages) == 1 else None


def deployment_document(inp: StackInput) -> dict[str, Any]:
    env = inp.environment
    doc: dict[str, Any] = {"format": FORMAT, "topology": env.name, "customer": env.customer,
                           "product": env.product, "type": env.type, "version": env.version,
                           "services": [_service(s) for s in env.services]}
    if env.product == "protheus":
        doc["environments"] = [{"name": e.name, "language": e.language} for e in env.environments]
        doc["renames"] = {e.renamed_from: e.name for e in env.environments if e.renamed_from}
        doc["updates"] = {k: v for k, v in (_updates(env) or {}).items() if v}
        doc["exclusiveAccess"] = env.exclusive_access
        doc["patches"] = patch_reach(inp)
        doc["rpo"] = {"promoteFrom": env.rpo_promote_from} if env.rpo_promote_from else None
        doc["sftp"] = {"enabled": env.sftp_enabled, "port": caps.SFTP_PORT, "path": "Protheus_Data"}
    if env.product == "fluig":
        doc["widgets"] = [{"file": w, "sha256": inp.artifact_hex(w)} for w in env.widgets]
        doc["fluigConfig"] = _fluig_config(inp)
        doc["indexer"] = "core" if (env.users or 0) <= caps.INDEXER_CORE_MAX_USERS else "dedicated"
    return doc


def _updates(env) -> dict[str, str | None] | None:
    if env.updates is None:
        return None
    return {"binary": env.updates.binary, "dbaccess": env.updates.dbaccess, "ctree": env.updates.ctree}


def _service(service) -> dict[str, Any]:
    data: dict[str, Any] = {"name": service.name, "state": service.state}
    if service.ini:
        data["ini"] = service.ini_dict()
    if service.http_port:
        data["httpPort"] = service.http_port
    return data


def _fluig_config(inp: StackInput) -> dict[str, str]:
    config = inp.environment.fluig_config
    if config is None:
        return {}
    files = {"standalone.xml": config.standalone_xml, "standalone.conf": config.standalone_conf}
    return {name: inp.artifact_hex(path) for name, path in files.items() if path}


def deployment_json(inp: StackInput) -> str:
    return json.dumps(deployment_document(inp), sort_keys=True, separators=(",", ":"))
