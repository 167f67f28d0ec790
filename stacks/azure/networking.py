"""The topology's network: one virtual network, the application subnet behind a security group that
opens the product's ports (and SFTP 2323 when enabled), a delegated subnet for Fluig's MySQL, the
public IP, and a Standard load balancer when there is more than one instance.

One public IP per topology: on the load balancer's frontend when instances > 1, otherwise on the
single instance's network interface (a lone VM needs a public address for its users, its domain
and SFTP, and a load balancer in front of one VM would only add cost).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.network as network

from stacks.azure.context import AzureStack
from stacks.azure.tables import Port, app_ports

VNET_CIDR = "10.20.0.0/16"
APP_SUBNET_CIDR = "10.20.1.0/24"
DB_SUBNET_CIDR = "10.20.2.0/24"
MYSQL_DELEGATION = "Microsoft.DBforMySQL/flexibleServers"
LB_FRONTEND, LB_POOL = "frontend", "backend"


@dataclass(frozen=True)
class Network:
    vnet: network.VirtualNetwork
    app_subnet: network.Subnet
    db_subnet: network.Subnet | None
    public_ip: network.PublicIPAddress
    load_balancer: network.LoadBalancer | None
    backend_pool_id: pulumi.Output[str] | None


def build_network(stack: AzureStack) -> Network:
    ports = app_ports(stack.env)
    vnet = _vnet(stack)
    nsg = _security_group(stack, ports)
    app_subnet = _app_subnet(stack, vnet, nsg)
    db_subnet = _db_subnet(stack, vnet, app_subnet) if stack.env.product == "fluig" else None
    public_ip = _public_ip(stack)
    if stack.env.instances > 1:
        lb, pool_id = _load_balancer(stack, public_ip, ports)
        return Network(vnet, app_subnet, db_subnet, public_ip, lb, pool_id)
    return Network(vnet, app_subnet, db_subnet, public_ip, None, None)


def _vnet(stack: AzureStack) -> network.VirtualNetwork:
    # Subnets are separate resources; azure-native leaves subnets it was not given alone.
    return network.VirtualNetwork(
        "vnet", virtual_network_name=stack.name("vnet"), resource_group_name=stack.group_name,
        location=stack.location, address_space=network.AddressSpaceArgs(address_prefixes=[VNET_CIDR]),
        tags=stack.tags(), opts=stack.opts())


def _security_rule(port: Port, priority: int) -> network.SecurityRuleArgs:
    return network.SecurityRuleArgs(
        name=f"allow-{port.name}-{port.number}", priority=priority, direction="Inbound", access="Allow",
        protocol="Tcp", source_address_prefix="Internet", source_port_range="*",
        destination_address_prefix="*", destination_port_range=str(port.number),
        description=f"{port.name} of the topology")


def _security_group(stack: AzureStack, ports: tuple[Port, ...]) -> network.NetworkSecurityGroup:
    rules = [_security_rule(port, 100 + 10 * index) for index, port in enumerate(ports)]
    return network.NetworkSecurityGroup(
        "nsg", network_security_group_name=stack.name("nsg"), resource_group_name=stack.group_name,
        location=stack.location, security_rules=rules, tags=stack.tags(), opts=stack.opts())


def _app_subnet(stack: AzureStack, vnet: network.VirtualNetwork,
                nsg: network.NetworkSecurityGroup) -> network.Subnet:
    # Service endpoints keep the agent's blob reads and the Azure SQL traffic on the backbone,
    # and let the SQL server admit this subnet only (virtual network rule).
    services = ["Microsoft.Storage"] + (["Microsoft.Sql"] if stack.env.product in ("protheus", "rm") else [])
    return network.Subnet(
        "subnet-app", subnet_name="app", virtual_network_name=vnet.name, resource_group_name=stack.group_name,
        address_prefix=APP_SUBNET_CIDR, network_security_group=network.SubResourceArgs(id=nsg.id),
        service_endpoints=[network.ServiceEndpointPropertiesFormatArgs(service=s) for s in services],
        opts=stack.opts())


def _db_subnet(stack: AzureStack, vnet: network.VirtualNetwork, after: network.Subnet) -> network.Subnet:
    """MySQL flexible server with private access lives in a subnet delegated to it. Created after
    the application subnet: Azure refuses concurrent subnet writes on one virtual network."""
    return network.Subnet(
        "subnet-db", subnet_name="db", virtual_network_name=vnet.name, resource_group_name=stack.group_name,
        address_prefix=DB_SUBNET_CIDR,
        delegations=[network.DelegationArgs(name="mysql", service_name=MYSQL_DELEGATION)],
        opts=stack.opts(depends_on=[after]))


def _public_ip(stack: AzureStack) -> network.PublicIPAddress:
    # The DNS label gives the address an Azure name (<label>.<region>.cloudapp.azure.com) that
    # a customer's own zone can point a CNAME at.
    return network.PublicIPAddress(
        "public-ip", public_ip_address_name=stack.name("pip"), resource_group_name=stack.group_name,
        location=stack.location, sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static", public_ip_address_version="IPv4",
        dns_settings=network.PublicIPAddressDnsSettingsArgs(domain_name_label=stack.name()),
        tags=stack.tags(), opts=stack.opts())


def _lb_child_id(lb_id: pulumi.Output[str], kind: str, name: str) -> pulumi.Output[str]:
    return pulumi.Output.concat(lb_id, "/", kind, "/", name)


def _load_balancer(stack: AzureStack, public_ip: network.PublicIPAddress,
                   ports: tuple[Port, ...]) -> tuple[network.LoadBalancer, pulumi.Output[str]]:
    """Standard LB: a rule per port with source-IP affinity (Protheus SmartClient and Fluig
    sessions stay on one instance), a TCP probe on the product's first port and an outbound rule
    (Standard LB gives its backends no outbound access otherwise)."""
    lb_name = stack.name("lb")
    # Rules name their frontend, pool and probe by ARM id; the group's id is the id's prefix.
    lb_id = pulumi.Output.concat(stack.group.id, "/providers/Microsoft.Network/loadBalancers/", lb_name)
    frontend = network.SubResourceArgs(id=_lb_child_id(lb_id, "frontendIPConfigurations", LB_FRONTEND))
    pool_id = _lb_child_id(lb_id, "backendAddressPools", LB_POOL)
    probe_name = f"probe-{ports[0].name}"
    rules = [network.LoadBalancingRuleArgs(
        name=f"rule-{port.name}", protocol="Tcp", frontend_port=port.number, backend_port=port.number,
        frontend_ip_configuration=frontend, backend_address_pool=network.SubResourceArgs(id=pool_id),
        probe=network.SubResourceArgs(id=_lb_child_id(lb_id, "probes", probe_name)),
        load_distribution="SourceIP", idle_timeout_in_minutes=30, enable_tcp_reset=True,
        disable_outbound_snat=True) for port in ports]
    lb = network.LoadBalancer(
        "lb", load_balancer_name=lb_name, resource_group_name=stack.group_name, location=stack.location,
        sku=network.LoadBalancerSkuArgs(name="Standard", tier="Regional"),
        frontend_ip_configurations=[network.FrontendIPConfigurationArgs(
            name=LB_FRONTEND, public_ip_address=network.PublicIPAddressArgs(id=public_ip.id))],
        backend_address_pools=[network.BackendAddressPoolArgs(name=LB_POOL)],
        probes=[network.ProbeArgs(name=probe_name, protocol="Tcp", port=ports[0].number,
                                  interval_in_seconds=15, number_of_probes=2)],
        load_balancing_rules=rules,
        outbound_rules=[network.OutboundRuleArgs(
            name="outbound", protocol="All", frontend_ip_configurations=[frontend],
            backend_address_pool=network.SubResourceArgs(id=pool_id))],
        tags=stack.tags(), opts=stack.opts())
    return lb, pool_id
