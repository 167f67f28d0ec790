"""The ``erp-azure`` program: one stack per Azure topology, declared from a StackInput.

``build`` wires the feature modules of ``stacks.azure`` (see the package docstring) in dependency
order and exports what the reconciler and the customer read; ``computed_outputs`` is what Azure
would compute for each resource (``stacks.azure.outputs``).

Features follow the capability matrix (``reconciler.model.capabilities``): schedule, costAlert,
domain, backupPolicy and backupDelete are ``Support.STACK`` on Azure - the portal does not offer
them there, this stack implements them (power, cost, domain and backup modules).
"""

from __future__ import annotations

import pulumi

from reconciler.model import capabilities as caps
from stacks.azure import context
from stacks.azure.backup import Backups, build_backups
from stacks.azure.cost import build_cost_alert
from stacks.azure.database import Database, build_database
from stacks.azure.deployment import Published, build_store, publish, run_agent
from stacks.azure.domain import build_domain, public_host, public_url
from stacks.azure.machines import Machines, build_machines, vm_ids
from stacks.azure.networking import Network, build_network
from stacks.azure.outputs import computed_outputs  # noqa: F401 - part of the program contract
from stacks.azure.power import Power, build_power
from stacks.common.inputs import StackInput

PROJECT = "erp-azure"


def build(inp: StackInput) -> None:
    if inp.environment.cloud != "azure":
        raise ValueError(f"{inp.environment.name} is on {inp.environment.cloud}, not azure")
    stack = context.create(inp)
    net = build_network(stack)
    machines = build_machines(stack, net)
    database = build_database(stack, net, machines)
    store = build_store(stack, machines)
    published = publish(stack, store)
    backups = build_backups(stack, machines, store)
    _run_agents(stack, machines, published, database, backups)
    power = build_power(stack, machines)
    build_cost_alert(stack)
    build_domain(stack, net)
    _export(stack, net, machines, database, published, backups, power)


def _run_agents(stack: context.AzureStack, machines: Machines, published: Published, database: Database,
                backups: Backups) -> None:
    extra = {"DatabaseHost": database.fqdn, "ManualBackupsUrl": backups.manual_blob.url,
             "ManualBackupsDigest": backups.manual_digest}
    after = [database.database, backups.manual_blob] + ([backups.operator] if backups.operator else [])
    run_agent(stack, machines, published, extra, after)


def _export(stack: context.AzureStack, net: Network, machines: Machines, database: Database, published: Published,
            backups: Backups, power: Power) -> None:
    env = stack.env
    pulumi.export("resourceGroup", stack.group_name)
    pulumi.export("vmIds", vm_ids(machines))
    pulumi.export("dbFqdn", database.fqdn)
    pulumi.export("publicIp", net.public_ip.ip_address)
    if net.load_balancer is not None:
        pulumi.export("lbIp", net.public_ip.ip_address)
    url = public_url(stack)
    if url:
        pulumi.export("url", url)
    if env.sftp_enabled and stack.supports("sftp"):
        pulumi.export("sftp", {"host": public_host(stack, net), "port": caps.SFTP_PORT})
    pulumi.export("deploymentDigest", published.digest)
    pulumi.export("manualBackupsDigest", backups.manual_digest)
    pulumi.export("power", power.export(stack))
