"""The AWS program (project ``erp-aws``): one stack per Environment on AWS.

``build`` declares the topology feature by feature, in dependency order; each feature lives in
its own module of ``stacks.aws`` and reads only the typed Environment, the stack's settings and
the capability matrix. ``computed_outputs`` is what AWS would compute (``stacks.aws.outputs``).

Exports: ``instanceIds`` (application instances), ``indexerInstanceId`` (Fluig above 30 users),
``publicIp`` (the Elastic IP, when there is one), ``dbEndpoint``, ``lbDnsName`` (when there is a
load balancer), ``url``, ``sftpEndpoint``/``sftpPort`` (when SFTP is on), ``deploymentDigest``.
"""

from __future__ import annotations

import pulumi

from reconciler.model import capabilities as caps
from stacks.aws import agent, artifacts, backup, compute, cost, database, dns, loadbalancer, network, power
from stacks.aws.context import Stack
from stacks.aws.outputs import computed_outputs  # noqa: F401 - part of the program contract
from stacks.common.inputs import StackInput

PROJECT = "erp-aws"


def build(inp: StackInput) -> None:
    st = Stack.create(inp)
    sg = network.security_group(st)
    db = database.database(st, sg)
    role = compute.agent_role(st)
    nodes = compute.instances(st, sg, compute.agent_profile(st, role))
    address = compute.public_ip(st, nodes)
    balancer = loadbalancer.load_balancer(st, sg, nodes, dns.certificate_arn(st))
    dns.record(st, balancer, address)
    power.power(st, nodes)
    cost.cost_alert(st)
    backups = backup.backups(st, nodes.all, db)
    store, uploads = artifacts.artifacts(st)
    config, documents = agent.deployment(st, store)
    policy = agent.agent_policy(st, role, store, config, backups, db)
    agent.run(st, nodes, store, config, backups, db, waits_for=[policy, *uploads, *documents])
    _exports(st, nodes, db, balancer, address, config)


def url(st: Stack, balancer, address) -> pulumi.Input[str]:
    """https://<domain> when the topology has one; else the balancer's or the instance's address."""
    fqdn = dns.fqdn(st)
    if fqdn:
        return f"https://{fqdn}"
    web = network.ports(st)
    scheme = web.web_protocol.lower()
    if balancer is not None:
        return pulumi.Output.concat("http://", balancer.dns_name)
    return pulumi.Output.concat(f"{scheme}://", address.public_ip, f":{web.web}")


def sftp_host(st: Stack, balancer, address) -> pulumi.Input[str]:
    """SFTP reaches the first instance (Protheus_Data): by the domain when it resolves to that
    instance (no load balancer), else by its Elastic IP."""
    fqdn = dns.fqdn(st)
    return fqdn if fqdn and balancer is None else address.public_ip


def _exports(st: Stack, nodes, db, balancer, address, config) -> None:
    pulumi.export("instanceIds", [i.id for i in nodes.app])
    if nodes.indexer is not None:
        pulumi.export("indexerInstanceId", nodes.indexer.id)
    if address is not None:
        pulumi.export("publicIp", address.public_ip)
    pulumi.export("dbEndpoint", db.endpoint)
    if balancer is not None:
        pulumi.export("lbDnsName", balancer.dns_name)
    pulumi.export("url", url(st, balancer, address))
    if network.sftp_enabled(st):
        pulumi.export("sftpEndpoint", pulumi.Output.concat("sftp://", sftp_host(st, balancer, address),
                                                           f":{caps.SFTP_PORT}"))
        pulumi.export("sftpPort", caps.SFTP_PORT)
    pulumi.export("deploymentDigest", config.digest)
